"""`/api/collections`: superuser-only collection management."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from hearth._util.projection import project
from hearth.http import responses
from hearth.http.body import COLLECTION_LOAD_FAILED, FORM_LOAD_FAILED, read_object
from hearth.http.context import begin, page_envelope, projection, query_bool, query_int, require_superuser
from hearth.http.router import route
from hearth.schema.scaffolds import scaffolds


async def list_collections(request: Request) -> Response:
    h, auth = await begin(request)
    require_superuser(auth)
    page = await h.collection_service.list(
        page=query_int(request, "page", 1),
        per_page=query_int(request, "perPage", 30),
        sort=request.query_params.get("sort", ""),
        filter_text=request.query_params.get("filter", ""),
        skip_total=query_bool(request, "skipTotal"),
    )
    items, *rest = page
    tree = projection(request)
    return responses.json(page_envelope([project(i, tree) for i in items], *rest))


async def create_collection(request: Request) -> Response:
    h, auth = await begin(request)
    require_superuser(auth)
    body = await read_object(request, h.config.max_body_size, message=COLLECTION_LOAD_FAILED)
    c = await h.collection_service.create(body)
    return responses.json(c.to_api())


async def view_collection(request: Request) -> Response:
    h, auth = await begin(request)
    require_superuser(auth)
    c = h.collection_service.get(request.path_params["collection"])
    return responses.json(project(c.to_api(), projection(request)))


async def update_collection(request: Request) -> Response:
    h, auth = await begin(request)
    require_superuser(auth)
    c = h.collection_service.get(request.path_params["collection"])
    body = await read_object(request, h.config.max_body_size)
    return responses.json((await h.collection_service.update(c, body)).to_api())


async def delete_collection(request: Request) -> Response:
    h, auth = await begin(request)
    require_superuser(auth)
    await h.collection_service.delete(h.collection_service.get(request.path_params["collection"]))
    return responses.no_content()


async def truncate_collection(request: Request) -> Response:
    h, auth = await begin(request)
    require_superuser(auth)
    await h.collection_service.truncate(h.collection_service.get(request.path_params["collection"]))
    return responses.no_content()


async def import_collections(request: Request) -> Response:
    h, auth = await begin(request)
    require_superuser(auth)
    body: Any = await read_object(request, h.config.max_body_size, message=FORM_LOAD_FAILED)
    await h.collection_service.import_collections(body)
    return responses.no_content()


async def dry_run_view(request: Request) -> Response:
    h, auth = await begin(request)
    require_superuser(auth)
    body = await read_object(request, h.config.max_body_size, message=FORM_LOAD_FAILED)
    return responses.json(await h.collection_service.dry_run_view(body))


async def get_scaffolds(request: Request) -> Response:
    _, auth = await begin(request)
    require_superuser(auth)
    return responses.json(scaffolds())


routes = [
    route("GET", "/api/collections", list_collections, event="collections_list_request"),
    route("POST", "/api/collections", create_collection, event="collection_create_request"),
    route("PUT", "/api/collections/import", import_collections, event="collections_import_request"),
    route("GET", "/api/collections/meta/scaffolds", get_scaffolds),
    route("POST", "/api/collections/meta/dry-run-view", dry_run_view),
    route("GET", "/api/collections/{collection}", view_collection, event="collection_view_request"),
    route("PATCH", "/api/collections/{collection}", update_collection, event="collection_update_request"),
    route("DELETE", "/api/collections/{collection}", delete_collection, event="collection_delete_request"),
    route(
        "DELETE",
        "/api/collections/{collection}/truncate",
        truncate_collection,
        event="collection_truncate_request",
    ),
]
