"""`/api/hearth/webhooks`: outbound webhooks, for superusers (beyond PocketBase): endpoints
(list, create, view, update, delete) and each endpoint's delivery log."""

from __future__ import annotations

import math

from starlette.requests import Request
from starlette.responses import Response

from hearth.http import responses
from hearth.http.body import read_object
from hearth.http.context import begin, page_envelope, paging, require_superuser
from hearth.http.router import route

MAX_PER_PAGE = 500


async def list_webhooks(request: Request) -> Response:
    h, auth = await begin(request)
    require_superuser(auth)
    page, per_page = paging(request, MAX_PER_PAGE)
    every = await h.webhooks.all()
    items = [w.public(h.collections) for w in every[(page - 1) * per_page : page * per_page]]
    return responses.json(page_envelope(items, page, per_page, len(every), math.ceil(len(every) / per_page)))


async def create_webhook(request: Request) -> Response:
    h, auth = await begin(request)
    require_superuser(auth)
    body = await read_object(request, h.config.max_body_size)
    return responses.json((await h.webhooks.create(body)).public(h.collections))


async def view_webhook(request: Request) -> Response:
    h, auth = await begin(request)
    require_superuser(auth)
    return responses.json((await h.webhooks.get(request.path_params["id"])).public(h.collections))


async def update_webhook(request: Request) -> Response:
    h, auth = await begin(request)
    require_superuser(auth)
    body = await read_object(request, h.config.max_body_size)
    return responses.json((await h.webhooks.update(request.path_params["id"], body)).public(h.collections))


async def delete_webhook(request: Request) -> Response:
    h, auth = await begin(request)
    require_superuser(auth)
    await h.webhooks.delete(request.path_params["id"])
    return responses.no_content()


async def list_deliveries(request: Request) -> Response:
    h, auth = await begin(request)
    require_superuser(auth)
    page, per_page = paging(request, MAX_PER_PAGE)
    items, total = await h.webhooks.deliveries(request.path_params["id"], page, per_page)
    return responses.json(page_envelope(items, page, per_page, total, math.ceil(total / per_page)))


routes = [
    route("GET", "/api/hearth/webhooks", list_webhooks),
    route("POST", "/api/hearth/webhooks", create_webhook),
    route("GET", "/api/hearth/webhooks/{id}", view_webhook),
    route("PATCH", "/api/hearth/webhooks/{id}", update_webhook),
    route("DELETE", "/api/hearth/webhooks/{id}", delete_webhook),
    route("GET", "/api/hearth/webhooks/{id}/deliveries", list_deliveries),
]
