"""OAuth2 login: the provider list for the dashboard and `POST …/auth-with-oauth2`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from hearth._util.projection import project
from hearth.auth.oauth2.flow import OAuth2Flow
from hearth.auth.oauth2.registry import provider_list
from hearth.http import responses
from hearth.http.body import FORM_LOAD_FAILED, read_object
from hearth.http.context import begin, projection, require_superuser
from hearth.http.router import route
from hearth.http.routes.auth import login_context


async def list_providers(request: Request) -> Response:
    _, auth = await begin(request)
    require_superuser(auth)
    return responses.json(provider_list())


async def auth_with_oauth2(request: Request) -> Response:
    h, auth = await begin(request)
    c = h.auth.auth_collection(request.path_params["collection"])
    OAuth2Flow.require_enabled(c)
    body = await read_object(request, h.config.max_body_size, message=FORM_LOAD_FAILED)
    flow = OAuth2Flow(h.auth, h.records, h.config.fetch_private)
    out = await flow.authenticate(
        c, body, auth, request.query_params.get("expand", ""), login_context(request, body)
    )
    return responses.json(project(out, projection(request)))


routes = [
    route("GET", "/api/collections/meta/oauth2-providers", list_providers),
    route(
        "POST",
        "/api/collections/{collection}/auth-with-oauth2",
        auth_with_oauth2,
        event="record_auth_with_oauth2_request",
    ),
]
