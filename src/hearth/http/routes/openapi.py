"""`/api/openapi.json` (the OpenAPI description) and `/api/docs` (Swagger UI over it); the
description itself is built by hearth.openapi."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from hearth.errors import NotFound
from hearth.http.context import begin, require_superuser
from hearth.http.headers import DOCS_SECURITY_HEADERS
from hearth.http.router import route
from hearth.openapi import ui


class _DocsResponse(Response):
    security_headers = DOCS_SECURITY_HEADERS


async def openapi_json(request: Request) -> Response:
    """Superusers only unless HEARTH_OPENAPI_PUBLIC=1: it shows every collection and rule, which
    PocketBase shows only to superusers."""
    h, auth = await begin(request)
    if not h.config.openapi_public:
        require_superuser(auth)
    return Response(h.openapi.encoded(), media_type="application/json")


async def docs_page(request: Request) -> Response:
    return _DocsResponse(ui.PAGE, media_type="text/html; charset=utf-8")


async def docs_asset(request: Request) -> Response:
    found = ui.asset(request.path_params["asset"])
    if found is None:
        raise NotFound("File not found.")
    content, content_type = found
    response = _DocsResponse(content, headers={"cache-control": "public, max-age=3600"})
    response.headers["content-type"] = content_type
    return response


routes = [
    route("GET", "/api/openapi.json", openapi_json),
    route("GET", "/api/docs", docs_page),
    route("GET", "/api/docs/{asset}", docs_asset),
]
