"""The ASGI application factory."""

from __future__ import annotations

import asyncio
from typing import Any

from hearth.app import Hearth
from hearth.config import Config
from hearth.http.request_hooks import wrapper
from hearth.http.router import App, Route, Router
from hearth.http.routes import (
    api_keys,
    audit,
    auth,
    backups,
    batch,
    collections,
    crons,
    dashboard,
    files,
    health,
    installer,
    jobs,
    logs,
    metrics,
    oauth2,
    openapi,
    playground,
    realtime,
    records,
    settings,
    sql_console,
    webhooks,
)


def all_routes() -> list[Route]:
    """Every built-in API route."""
    return [
        *health.routes,
        *collections.routes,
        *records.routes,
        *auth.routes,
        *settings.routes,
        *batch.routes,
        *oauth2.routes,
        *api_keys.routes,
        *realtime.routes,
        *files.routes,
        *crons.routes,
        *jobs.routes,
        *logs.routes,
        *backups.routes,
        *webhooks.routes,
        *metrics.routes,
        *audit.routes,
        *playground.routes,
        *sql_console.routes,
        *openapi.routes,
        *dashboard.routes,
        *installer.routes,
    ]


def build_app(config: Config | None = None) -> App:
    inflight: set[asyncio.Task[Any]] = set()  # the router's requests being handled, for metrics
    hearth = Hearth(config or Config.from_env(), in_flight=inflight.__len__)
    router = Router(all_routes(), wrapper(hearth, hearth.hooks))
    app = App(
        router,
        on_startup=hearth.serve,
        on_shutdown=hearth.stop,
        max_body_size=hearth.config.max_body_size,
        on_stopping=hearth.stopping,
        on_draining=hearth.draining,
        shutdown_timeout=hearth.config.shutdown_timeout,
        done=hearth.hooks.request_done,
        inflight=inflight,
    )
    app.state.hearth = hearth
    return app


def create_app() -> App:
    """Factory for ASGI servers (granian/uvicorn --factory); reads HEARTH_* env."""
    return build_app()
