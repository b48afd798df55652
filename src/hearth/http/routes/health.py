from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hearth.http import responses
from hearth.http.context import begin


async def health(request: Request) -> Response:
    _, auth = await begin(request)
    data: dict[str, object] = {}
    if auth.is_superuser:
        client = request.client.host if request.client else ""
        data = {"canBackup": True, "realIP": client, "possibleProxyHeader": ""}
    return responses.json({"message": "API is healthy.", "code": 200, "data": data})


routes = [Route("/api/health", health, methods=["GET", "HEAD"])]
