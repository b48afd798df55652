"""The request tier of the event spine: each API route runs inside its hook's chain.

A route without handlers bound costs one length check. With handlers, the requester and the
route's collection are resolved first (once: the built-in handler reuses them), and the body is
parsed on demand and shared, so a handler's change to it is what the built-in handler sees.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from hearth._util.gate import RequestGate
from hearth.hooks.catalog import Hooks
from hearth.hooks.events import RequestEvent
from hearth.http import responses
from hearth.http.body import RECORD_LOAD_FAILED, read_object
from hearth.http.context import RECORD_KEY, begin
from hearth.http.router import Handler, Route
from hearth.records.files import body_limit

if TYPE_CHECKING:
    from hearth.app import Hearth


def wrapper(h: Hearth, hooks: Hooks) -> Any:
    """What hearth.http.router.Router runs for each route."""

    def wrap(r: Route) -> Handler:
        inner = r.handler if not r.event else evented(h, hooks.request_hook(r.event), r.handler, r.event in UPLOAD_EVENTS)
        if (r.method, r.path) in UNGATED:
            return inner
        return gated(h.gate, inner)

    return wrap


# Streams that last as long as their client: a restore closes them rather than waiting for them.
UNGATED = frozenset({("GET", "/api/realtime")})


def gated(gate: RequestGate, handler: Handler) -> Handler:
    """The handler behind the process's request gate (a restore closes it while it switches the
    data: hearth.backups.service)."""

    async def run(request: Request) -> Response:
        await gate.enter()
        try:
            return await handler(request)
        finally:
            gate.leave()

    return run


# The routes that take uploaded files (their handlers read the body the same way).
UPLOAD_EVENTS = frozenset({"record_create_request", "record_update_request"})


def evented(h: Hearth, hook: Any, handler: Handler, uploads: bool = False) -> Handler:
    async def read_body(request: Request) -> dict[str, Any]:
        if uploads:
            c = h.collections.get(request.path_params.get("collection", ""))
            limit = h.config.max_body_size if c is None else body_limit(c, h.config.max_body_size)
            return await read_object(request, limit, uploads=True, message=RECORD_LOAD_FAILED)
        return await read_object(request, h.config.max_body_size)

    async def run(request: Request) -> Response:
        if not len(hook):
            return await handler(request)
        _, auth = await begin(request)
        name = request.path_params.get("collection")
        c = h.collections.get(name) if name else None
        event = RequestEvent(request, auth, c, _read_body=read_body)

        async def built_in(e: RequestEvent) -> None:
            request.scope["hearth.auth"] = e.auth
            e.response = await handler(request)
            e.record = request.scope.get(RECORD_KEY)

        await hook.trigger(event, built_in)
        response: Response | None = event.response
        return response if response is not None else responses.no_content()

    return run
