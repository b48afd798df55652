"""`/api/collections/{collection}/auth-*`: methods, password login and token refresh."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from hearth.http import responses
from hearth.http.body import read_object
from hearth.http.context import begin, projection
from hearth.http.fields import project
from hearth.http.router import route


async def auth_methods(request: Request) -> Response:
    h, _ = await begin(request)
    c = h.auth.auth_collection(request.path_params["collection"])
    return responses.json(project(h.auth.methods(c), projection(request)))


async def auth_with_password(request: Request) -> Response:
    h, _ = await begin(request)
    c = h.auth.auth_collection(request.path_params["collection"])
    body = await read_object(request, h.config.max_body_size)
    token, values = await h.auth.with_password(c, body)
    body = await h.auth.auth_response(c, token, values, request.query_params.get("expand", ""))
    return responses.json(project(body, projection(request)))


async def auth_refresh(request: Request) -> Response:
    h, auth = await begin(request)
    c = h.auth.auth_collection(request.path_params["collection"])
    token, values = await h.auth.refresh(c, auth)
    body = await h.auth.auth_response(c, token, values, request.query_params.get("expand", ""))
    return responses.json(project(body, projection(request)))


routes = [
    route("GET", "/api/collections/{collection}/auth-methods", auth_methods),
    route("POST", "/api/collections/{collection}/auth-with-password", auth_with_password),
    route("POST", "/api/collections/{collection}/auth-refresh", auth_refresh),
]
