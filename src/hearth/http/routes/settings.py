from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from hearth.http import responses
from hearth.http.body import read_object
from hearth.http.context import begin, require_superuser
from hearth.http.router import route
from hearth.settings import model


async def get_settings(request: Request) -> Response:
    h, auth = await begin(request)
    require_superuser(auth)
    return responses.json(model.public(await h.settings.get(h.collections.version)))


async def patch_settings(request: Request) -> Response:
    h, auth = await begin(request)
    require_superuser(auth)
    body = await read_object(request, h.config.max_body_size)
    new = await h.settings.update(h.collections.version, body)
    await h.collections.refresh()
    return responses.json(model.public(new))


routes = [
    route("GET", "/api/settings", get_settings),
    route("PATCH", "/api/settings", patch_settings),
]
