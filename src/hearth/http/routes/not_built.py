"""PocketBase endpoints Hearth does not have yet: refused clearly rather than with a generic 404.

A superuser (the only caller PocketBase admits to these) is told which feature is missing; anyone
else gets the usual 401/403 first. See docs/compatibility.md, "Not built yet".
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from hearth.errors import NotFound
from hearth.http.context import begin, require_superuser
from hearth.http.router import route


def _refuse(feature: str) -> Callable[[Request], Awaitable[Response]]:
    async def handler(request: Request) -> Response:
        _h, auth = await begin(request)
        require_superuser(auth)
        raise NotFound(f"{feature} are not built in Hearth yet.")

    return handler


_logs = _refuse("Request logs")

routes = [
    route("GET", "/api/logs", _logs),
    route("GET", "/api/logs/stats", _logs),
    route("GET", "/api/logs/{id}", _logs),
]
