from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from hearth.http import responses
from hearth.http.context import begin
from hearth.http.router import route


async def health(request: Request) -> Response:
    _, auth = await begin(request)
    data: dict[str, object] = {}
    if auth.is_superuser:
        client = request.client.host if request.client else ""
        data = {"canBackup": True, "realIP": client, "possibleProxyHeader": ""}
    return responses.json({"message": "API is healthy.", "code": 200, "data": data})


routes = [route("GET", "/api/health", health)]
