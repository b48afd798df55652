"""Users' routes: `@app.route("GET", "/api/hello/{name}")`, with the built-in routes' auth
context, body parsing, error envelope and rate limits (settings rules match them by path)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from hearth.errors import Forbidden, Unauthorized
from hearth.hooks.chain import call_guarded
from hearth.http import responses
from hearth.http.body import read_object
from hearth.http.context import begin
from hearth.http.router import Handler
from hearth.query.context import AuthState

if TYPE_CHECKING:
    from hearth.extend.app import App

RouteHandler = Callable[["RouteEvent"], Any]
Middleware = Callable[["RouteEvent"], Awaitable[None] | None]


@dataclass(eq=False)
class RouteEvent:
    """What a route handler gets: the request, who sent it, the path parameters."""

    request: Request
    auth: AuthState
    params: dict[str, str]
    app: App
    query: dict[str, str] = field(default_factory=dict)

    async def body(self) -> dict[str, Any]:
        """The body as a dict (JSON, multipart or urlencoded), as built-in routes parse it."""
        return await read_object(self.request, self.app.config.max_body_size)

    @property
    def ip(self) -> str:
        client = self.request.client
        return client.host if client is not None else ""


def require_auth(*collections: str) -> Middleware:
    """Only an authenticated record (of one of `collections`, by name or id, when given) or a
    superuser passes; others get 401 (no auth) or 403 (another collection)."""

    def check(e: RouteEvent) -> None:
        auth = e.auth
        if auth.record is None or auth.collection is None:
            raise Unauthorized("The request requires valid record authorization token.")
        if (
            collections
            and not auth.is_superuser
            and not {auth.collection.name, auth.collection.id} & set(collections)
        ):
            raise Forbidden("The authorized record is not allowed to perform this action.")

    return check


def require_superuser() -> Middleware:
    """Only superusers pass (401 without auth, 403 for other records)."""

    def check(e: RouteEvent) -> None:
        if e.auth.record is None:
            raise Unauthorized("The request requires valid record authorization token.")
        if not e.auth.is_superuser:
            raise Forbidden("The authorized record is not allowed to perform this action.")

    return check


def route_handler(app: App, fn: RouteHandler, middlewares: Sequence[Middleware]) -> Handler:
    """The router's handler for a user's route. Its return value is the answer: a dict or list
    as JSON (200), a starlette Response as is, None as 204."""

    async def handle(request: Request) -> Response:
        _, auth = await begin(request)
        e = RouteEvent(request, auth, dict(request.path_params), app, dict(request.query_params))
        for mw in middlewares:
            await call_guarded(mw, e, app.config.hook_timeout)
        result = await call_guarded(fn, e, app.config.hook_timeout)
        if result is None:
            return responses.no_content()
        if isinstance(result, Response):
            return result
        return responses.json(result)

    return handle
