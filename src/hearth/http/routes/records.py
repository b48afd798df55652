"""`/api/collections/{collection}/records[/{id}]`: list, view, create, update, delete."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from hearth._util.projection import project
from hearth.errors import NotFound
from hearth.http import responses
from hearth.http.body import RECORD_LOAD_FAILED, read_object, rules_body, uploads_of
from hearth.http.context import (
    MISSING_WRITE_COLLECTION,
    RECORD_KEY,
    begin,
    collection_or_404,
    page_envelope,
    projection,
    query_bool,
    query_int,
    request_info,
)
from hearth.http.router import route
from hearth.query.context import RequestInfo
from hearth.records.files import body_limit, merge_uploads
from hearth.records.reads import DEFAULT_PER_PAGE
from hearth.schema.collection import Collection

if TYPE_CHECKING:
    from hearth.app import Hearth

MAX_ID_LENGTH = 255


def _expand(request: Request) -> str:
    return request.query_params.get("expand", "")


async def _one(
    request: Request, h: Hearth, c: Collection, values: dict[str, Any], info: RequestInfo
) -> Response:
    request.scope[RECORD_KEY] = values
    (api,) = await h.presenter.serialize(c, [values], info, _expand(request))
    return responses.json(project(api, projection(request)))


def _record_id(request: Request) -> str:
    rid: str = request.path_params["id"]
    if not rid or len(rid) > MAX_ID_LENGTH or "\x00" in rid:
        raise NotFound()
    return rid


async def list_records(request: Request) -> Response:
    h, auth = await begin(request)
    c = collection_or_404(h, request.path_params["collection"])
    body = await rules_body(request, body_limit(c, h.config.max_body_size))
    page = await h.records.reads.list(
        c,
        request_info(request, auth, body),
        page=query_int(request, "page", 1),
        per_page=query_int(request, "perPage", DEFAULT_PER_PAGE),
        sort=request.query_params.get("sort", ""),
        filter_text=request.query_params.get("filter", ""),
        skip_total=query_bool(request, "skipTotal"),
    )
    tree = projection(request)
    info = request_info(request, auth, body)
    items = [project(x, tree) for x in await h.presenter.serialize(c, page.items, info, _expand(request))]
    return responses.json(page_envelope(items, page.page, page.per_page, page.total_items, page.total_pages))


async def view_record(request: Request) -> Response:
    h, auth = await begin(request)
    c = collection_or_404(h, request.path_params["collection"])
    info = request_info(request, auth, await rules_body(request, body_limit(c, h.config.max_body_size)))
    values = await h.records.reads.view(c, _record_id(request), info)
    return await _one(request, h, c, values, info)


async def _record_body(request: Request, h: Hearth, c: Collection) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the body as rules see it, the body with the uploaded files joined in)."""
    body = await read_object(request, body_limit(c, h.config.max_body_size), uploads=True, message=RECORD_LOAD_FAILED)
    return body, merge_uploads(c, body, uploads_of(request))


async def create_record(request: Request) -> Response:
    h, auth = await begin(request)
    c = collection_or_404(h, request.path_params["collection"], MISSING_WRITE_COLLECTION)
    body, data = await _record_body(request, h, c)
    info = request_info(request, auth, body)
    values = await h.records.create(c, data, info)
    return await _one(request, h, c, values, info)


async def update_record(request: Request) -> Response:
    h, auth = await begin(request)
    c = collection_or_404(h, request.path_params["collection"], MISSING_WRITE_COLLECTION)
    rid = _record_id(request)
    body, data = await _record_body(request, h, c)
    info = request_info(request, auth, body)
    values = await h.records.update(c, rid, data, info)
    return await _one(request, h, c, values, info)


async def delete_record(request: Request) -> Response:
    h, auth = await begin(request)
    c = collection_or_404(h, request.path_params["collection"])
    body = await rules_body(request, body_limit(c, h.config.max_body_size))
    await h.records.delete(c, _record_id(request), request_info(request, auth, body))
    return responses.no_content()


routes = [
    route("GET", "/api/collections/{collection}/records", list_records, event="records_list_request"),
    route(
        "POST",
        "/api/collections/{collection}/records",
        create_record,
        own_body_limit=True,
        event="record_create_request",
    ),
    route("GET", "/api/collections/{collection}/records/{id}", view_record, event="record_view_request"),
    route(
        "PATCH",
        "/api/collections/{collection}/records/{id}",
        update_record,
        own_body_limit=True,
        event="record_update_request",
    ),
    route(
        "DELETE", "/api/collections/{collection}/records/{id}", delete_record, event="record_delete_request"
    ),
]
