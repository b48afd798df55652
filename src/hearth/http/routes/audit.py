"""`/api/hearth/audit`: the audit trail of record changes, for superusers (beyond PocketBase):
the entries (list with filter/sort/paging, view) and which collections are audited."""

from __future__ import annotations

import math

from starlette.requests import Request
from starlette.responses import Response

from hearth.http import responses
from hearth.http.body import read_object
from hearth.http.context import begin, page_envelope, paging, query_bool, require_superuser
from hearth.http.router import route

MAX_PER_PAGE = 1000


async def list_entries(request: Request) -> Response:
    h, auth = await begin(request)
    require_superuser(auth)
    page, per_page = paging(request, MAX_PER_PAGE)
    q = request.query_params
    skip_total = query_bool(request, "skipTotal")
    items, total = await h.audit.list(page, per_page, q.get("sort", ""), q.get("filter", ""), skip_total)
    pages = -1 if skip_total else math.ceil(total / per_page)
    return responses.json(page_envelope(items, page, per_page, total, pages))


async def view_entry(request: Request) -> Response:
    h, auth = await begin(request)
    require_superuser(auth)
    return responses.json(await h.audit.get(request.path_params["id"]))


async def view_settings(request: Request) -> Response:
    h, auth = await begin(request)
    require_superuser(auth)
    return responses.json(await h.audit.config())


async def update_settings(request: Request) -> Response:
    h, auth = await begin(request)
    require_superuser(auth)
    body = await read_object(request, h.config.max_body_size)
    return responses.json(await h.audit.configure(body))


routes = [
    route("GET", "/api/hearth/audit", list_entries),
    # Before `{id}`: the router tries routes in the order they were added.
    route("GET", "/api/hearth/audit/settings", view_settings),
    route("PATCH", "/api/hearth/audit/settings", update_settings),
    route("GET", "/api/hearth/audit/{id}", view_entry),
]
