"""`/api/crons`: PocketBase's crons API (superusers only): the registered crons, and one run now."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from hearth.errors import NotFound
from hearth.http import responses
from hearth.http.context import begin, require_superuser
from hearth.http.router import route


async def list_crons(request: Request) -> Response:
    h, auth = await begin(request)
    require_superuser(auth)
    return responses.json([c.public() for c in h.crons.all()])


async def run_cron(request: Request) -> Response:
    h, auth = await begin(request)
    require_superuser(auth)
    cron = h.crons.get(request.path_params["id"])
    if cron is None:
        raise NotFound("Missing or invalid cron job.")
    await h.cron.run_now(cron)
    return responses.no_content()


routes = [
    route("GET", "/api/crons", list_crons),
    route("POST", "/api/crons/{id}", run_cron),
]
