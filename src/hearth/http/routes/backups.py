"""`/api/backups`: PocketBase 0.40.6's backups API (compared with the real binary), superusers only.

The download authorizes by `?token=` alone (a superuser's file token, `POST /api/files/token`:
how the SDK's `getDownloadURL` builds its link), as PocketBase does: 403 without one.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from hearth.auth import tokens
from hearth.errors import BadRequest, Forbidden
from hearth.http import responses
from hearth.http.body import read_object, uploads_of
from hearth.http.context import begin, require_superuser
from hearth.http.router import route
from hearth.http.routes.files import _serve as serve_stored

LOAD_FAILED = "An error occurred while loading the submitted data."
UPLOAD_LIMIT = 1 << 40  # an archive is as large as the data: the body limit does not apply


async def _superuser(request: Request) -> Any:
    h, auth = await begin(request)
    require_superuser(auth)
    return h


async def list_backups(request: Request) -> Response:
    h = await _superuser(request)
    return responses.json(await h.backups.list())


async def create(request: Request) -> Response:
    h = await _superuser(request)
    if await h.backups.busy():
        raise BadRequest("Try again later - another backup/restore process has already been started")
    try:
        body = await read_object(request)
    except BadRequest:
        raise BadRequest(LOAD_FAILED) from None
    name = body.get("name", "")
    if not isinstance(name, str):
        raise BadRequest(LOAD_FAILED)
    if name:
        await h.backups.check_name(name)
    await h.backups.create(name)
    return responses.no_content()


async def upload(request: Request) -> Response:
    h = await _superuser(request)
    await read_object(request, UPLOAD_LIMIT, uploads=True)
    files = uploads_of(request).get("file") or []
    await h.backups.upload(files[0] if files else None)
    return responses.no_content()


async def download(request: Request) -> Response:
    h, _ = await begin(request)
    token = request.query_params.get("token", "")
    state = await h.auth.verify(token, tokens.FILE) if token else None
    if state is None or not state.is_superuser:
        raise Forbidden("Insufficient permissions to access the resource.")
    key = request.path_params["key"]
    opened = await h.backups.open(key)  # 404 when there is none
    return await serve_stored(request, await h.backups.storage(), key, key, opened)


async def delete(request: Request) -> Response:
    h = await _superuser(request)
    await h.backups.delete(request.path_params["key"])
    return responses.no_content()


async def restore(request: Request) -> Response:
    h = await _superuser(request)
    await h.backups.start_restore(request.path_params["key"])
    return responses.no_content()


routes = [
    route("GET", "/api/backups", list_backups),
    route("POST", "/api/backups", create),
    route("POST", "/api/backups/upload", upload, own_body_limit=True),
    route("GET", "/api/backups/{key}", download),
    route("DELETE", "/api/backups/{key}", delete),
    route("POST", "/api/backups/{key}/restore", restore),
]
