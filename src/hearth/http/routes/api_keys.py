"""`/api/hearth/api-keys`: server-to-server API keys (beyond PocketBase; superusers only)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from hearth.http import responses
from hearth.http.body import read_object
from hearth.http.context import begin, require_superuser
from hearth.http.router import route


async def list_keys(request: Request) -> Response:
    h, auth = await begin(request)
    require_superuser(auth)
    return responses.json(await h.auth.api_keys.all())


async def create_key(request: Request) -> Response:
    h, auth = await begin(request)
    require_superuser(auth)
    body = await read_object(request, h.config.max_body_size)
    return responses.json(await h.auth.api_keys.create(body))


async def delete_key(request: Request) -> Response:
    h, auth = await begin(request)
    require_superuser(auth)
    await h.auth.api_keys.delete(request.path_params["id"])
    return responses.no_content()


routes = [
    route("GET", "/api/hearth/api-keys", list_keys),
    route("POST", "/api/hearth/api-keys", create_key),
    route("DELETE", "/api/hearth/api-keys/{id}", delete_key),
]
