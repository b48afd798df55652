from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from hearth.http import responses
from hearth.http.context import begin
from hearth.http.router import route


async def health(request: Request) -> Response:
    """PocketBase's 200 body while the database answers; while it does not, the 503 envelope
    every route gives (DatabaseUnavailable from `begin`, which reads the schema counter).

    A 503 rather than a 200 with a flag: load balancers read health checks as "can this instance
    serve?", and one that cannot reach its database cannot (an instance cut off alone is taken
    out of rotation; when all share the outage, the balancer's own 503 is what clients get
    anyway). The process itself stays up and heals: liveness probes that restart processes
    should check the port (TCP), not this route. See docs/faults.md.
    """
    h, auth = await begin(request)
    data: dict[str, object] = {}
    if auth.is_superuser:
        client = request.client.host if request.client else ""
        # False while a backup or restore runs in any process or instance (PocketBase: its own).
        data = {"canBackup": not await h.backups.busy(), "realIP": client, "possibleProxyHeader": ""}
    return responses.json({"message": "API is healthy.", "code": 200, "data": data})


routes = [route("GET", "/api/health", health)]
