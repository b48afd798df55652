"""`/api/hearth/jobs`: durable jobs, for superusers (beyond PocketBase): list, view, retry, cancel."""

from __future__ import annotations

import math

from starlette.requests import Request
from starlette.responses import Response

from hearth.http import responses
from hearth.http.context import begin, page_envelope, paging, require_superuser
from hearth.http.router import route

MAX_PER_PAGE = 1000


async def list_jobs(request: Request) -> Response:
    h, auth = await begin(request)
    require_superuser(auth)
    page, per_page = paging(request, MAX_PER_PAGE)
    jobs, total = await h.jobs.list(
        state=request.query_params.get("state", ""),
        name=request.query_params.get("name", ""),
        page=page,
        per_page=per_page,
    )
    items = [j.public() for j in jobs]
    return responses.json(page_envelope(items, page, per_page, total, math.ceil(total / per_page)))


async def view_job(request: Request) -> Response:
    h, auth = await begin(request)
    require_superuser(auth)
    return responses.json((await h.jobs.get(request.path_params["id"])).public())


async def retry_job(request: Request) -> Response:
    h, auth = await begin(request)
    require_superuser(auth)
    return responses.json((await h.jobs.retry(request.path_params["id"])).public())


async def cancel_job(request: Request) -> Response:
    h, auth = await begin(request)
    require_superuser(auth)
    return responses.json((await h.jobs.cancel(request.path_params["id"])).public())


routes = [
    route("GET", "/api/hearth/jobs", list_jobs),
    route("GET", "/api/hearth/jobs/{id}", view_job),
    route("POST", "/api/hearth/jobs/{id}/retry", retry_job),
    route("POST", "/api/hearth/jobs/{id}/cancel", cancel_job),
]
