"""`/api/logs`: request logs for superusers, as PocketBase (list, hourly stats, view)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from hearth._util.projection import project
from hearth.http import responses
from hearth.http.context import begin, page_envelope, projection, query_bool, query_int, require_superuser
from hearth.http.router import route

MAX_PER_PAGE = 1000


async def list_logs(request: Request) -> Response:
    h, auth = await begin(request)
    require_superuser(auth)
    page = max(1, query_int(request, "page", 1))
    per_page = query_int(request, "perPage", 30)
    per_page = 30 if per_page <= 0 else min(per_page, MAX_PER_PAGE)
    skip_total = query_bool(request, "skipTotal")
    items, total = await h.logs.store.page(
        filter_text=request.query_params.get("filter", ""),
        sort=request.query_params.get("sort", ""),
        page=page,
        per_page=per_page,
        skip_total=skip_total,
    )
    tree = projection(request)
    pages = -1 if skip_total else (total + per_page - 1) // per_page
    return responses.json(page_envelope([project(i, tree) for i in items], page, per_page, total, pages))


async def log_stats(request: Request) -> Response:
    h, auth = await begin(request)
    require_superuser(auth)
    return responses.json(await h.logs.store.stats(request.query_params.get("filter", "")))


async def view_log(request: Request) -> Response:
    h, auth = await begin(request)
    require_superuser(auth)
    return responses.json(project(await h.logs.store.get(request.path_params["id"]), projection(request)))


routes = [
    route("GET", "/api/logs", list_logs),
    route("GET", "/api/logs/stats", log_stats),
    route("GET", "/api/logs/{id}", view_log),
]
