"""`POST /api/hearth/installer`: the first-run page creates the first superuser with the installer token
`hearth serve` printed (hearth.auth.installer). Not a PocketBase route: PocketBase's installer
token is a full superuser token, ours can do only this."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from hearth.audit import actor
from hearth.auth.installer import install
from hearth.http.body import read_object
from hearth.http.context import hearth
from hearth.http.router import route

INSTALLER = actor.Actor("installer")  # what the audit trail names


async def create_first_superuser(request: Request) -> Response:
    h = hearth(request)
    # No auth is resolved: the installer token travels in the body, never as Authorization.
    await h.collections.refresh()
    body = await read_object(request, h.config.max_body_size)
    token = body.pop("token", "")
    with actor.acting(INSTALLER):
        await install(h, token if isinstance(token, str) else "", body)
    return Response(status_code=204)


routes = [route("POST", "/api/hearth/installer", create_first_superuser)]
