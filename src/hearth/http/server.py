"""The ASGI application: Starlette routes, error envelope, default headers, lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from hearth.app import Hearth
from hearth.config import Config
from hearth.errors import ApiError, BadRequest, NotFound
from hearth.http import responses
from hearth.http.headers import DefaultHeaders
from hearth.http.routes import auth, collections, health, records, settings

log = logging.getLogger("hearth")


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return responses.error(exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code in (404, 405):
        return responses.error(NotFound())
    if exc.status_code == 400:
        return responses.error(BadRequest())
    err = ApiError()
    err.status = exc.status_code
    return responses.error(err)


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    err = ApiError()
    err.status = 500
    return responses.error(err)


def build_app(config: Config | None = None) -> Starlette:
    hearth = Hearth(config or Config.from_env())

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await hearth.start()
        try:
            yield
        finally:
            await hearth.stop()

    app = Starlette(
        routes=[*health.routes, *collections.routes, *records.routes, *auth.routes, *settings.routes],
        exception_handlers={ApiError: _api_error, HTTPException: _http_error, Exception: _unexpected},
        lifespan=lifespan,
    )
    app.state.hearth = hearth
    app.add_middleware(DefaultHeaders)
    return app


def create_app() -> Starlette:
    """Factory for ASGI servers (granian/uvicorn --factory); reads HEARTH_* env."""
    return build_app()
