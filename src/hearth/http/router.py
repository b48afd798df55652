"""A small ASGI dispatcher: exact segment matching, PocketBase's error envelope, default headers.

Starlette's Router tries every route's regex in turn and wraps each request in two exception
middlewares; on the hot path (one record by id) that cost more than the database read. Here a
route is found by (method, segment count) and literal segments, and errors are turned into the
envelope in one place. Handlers still take Starlette `Request`s and return `Response`s.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from hearth._util.outage import Throttle
from hearth.config import DEFAULT_SHUTDOWN_TIMEOUT
from hearth.errors import ApiError, DatabaseUnavailable, NotFound, PayloadTooLarge
from hearth.hooks.chain import Hook
from hearth.hooks.events import RequestDone
from hearth.http import responses
from hearth.http.body import FORM_KEY, close_form, query_pairs
from hearth.http.drain import Drain
from hearth.http.headers import ALLOW_METHODS, SECURITY_HEADERS
from hearth.http.rate_limit import RateLimitGate
from hearth.http.shutdown import GracefulStop

log = logging.getLogger("hearth")

Handler = Callable[[Request], Awaitable[Response]]
# Set in the ASGI scope for the request_done event: the matched route's template, and what failed.
ROUTE_KEY = "hearth.route"
ERROR_KEY = "hearth.error"



class _FirstValueQuery(QueryParams):
    """Query parameters as PocketBase reads them: a name given twice means its first value (Go's
    url.Values.Get: `?filter=a&filter=b` filters by `a`); a pair with a bad escape is dropped."""

    def __init__(self, query_string: bytes) -> None:
        super().__init__(query_pairs(query_string))
        first: dict[str, str] = {}
        for key, value in self._list:
            first.setdefault(key, value)
        self._dict = first


class GoRequest(Request):
    @property
    def query_params(self) -> QueryParams:
        if not hasattr(self, "_query_params"):
            self._query_params = _FirstValueQuery(self.scope["query_string"])
        return self._query_params

@dataclass(frozen=True, slots=True)
class Route:
    method: str
    path: str
    handler: Handler
    # True when the handler enforces its own body limit (batch: settings.batch.maxBodySize).
    own_body_limit: bool = False
    # The request-tier hook wrapped around the handler (hearth.hooks.catalog.REQUEST_EVENTS).
    event: str = ""


def route(
    method: str, path: str, handler: Handler, *, own_body_limit: bool = False, event: str = ""
) -> Route:
    return Route(method, path, handler, own_body_limit, event)


class _Compiled:
    __slots__ = ("segments", "params", "handler", "own_body_limit", "pattern")

    def __init__(self, path: str, handler: Handler, own_body_limit: bool = False, method: str = "") -> None:
        self.own_body_limit = own_body_limit
        self.pattern = f"{method} {path}"  # what rate limit rules know the route by
        parts = path.strip("/").split("/")
        self.segments = [None if p.startswith("{") else p for p in parts]
        self.params = [(i, p[1:-1]) for i, p in enumerate(parts) if p.startswith("{")]
        self.handler = handler

    def match(self, parts: list[str]) -> dict[str, str] | None:
        for seg, part in zip(self.segments, parts, strict=True):
            if seg is not None and seg != part:
                return None
        return {name: parts[i] for i, name in self.params}


class Router:
    def __init__(self, routes: Sequence[Route], wrap: Callable[[Route], Handler] | None = None) -> None:
        """`wrap` gives the handler to run for a route (its request hook around it)."""
        self._table: dict[tuple[str, int], list[_Compiled]] = {}
        self._paths: dict[int, list[_Compiled]] = {}
        self._added: dict[int, list[tuple[tuple[str, int], _Compiled]]] = {}
        for r in routes:
            self.add(r, wrap(r) if wrap is not None else r.handler)

    def add(self, r: Route, handler: Handler | None = None) -> None:
        """Serve `r` (after every route added before it: a built-in route is never shadowed)."""
        compiled = _Compiled(r.path, handler or r.handler, r.own_body_limit, r.method)
        n = len(compiled.segments)
        methods = [r.method, "HEAD"] if r.method == "GET" else [r.method]
        for m in methods:
            self._table.setdefault((m, n), []).append(compiled)
            self._added.setdefault(id(r), []).append(((m, n), compiled))
        self._paths.setdefault(n, []).append(compiled)

    def remove(self, r: Route) -> None:
        """Stop serving a route added with `add` (hooks reloaded in dev mode)."""
        for key, compiled in self._added.pop(id(r), []):
            self._table[key].remove(compiled)
            if compiled in self._paths.get(key[1], []):
                self._paths[key[1]].remove(compiled)

    def find(self, method: str, path: str) -> tuple[_Compiled, dict[str, str]] | None:
        parts = path.strip("/").split("/")
        for candidate in self._table.get((method, len(parts)), ()):
            params = candidate.match(parts)
            if params is not None:
                return candidate, params
        return None


class App:
    """The ASGI callable: lifespan, dispatch, CORS/security headers, error envelopes."""

    def __init__(
        self,
        router: Router,
        on_startup: Callable[[], Awaitable[None]],
        on_shutdown: Callable[[], Awaitable[None]],
        max_body_size: int,
        on_stopping: Callable[[float], None] = lambda deadline: None,
        shutdown_timeout: float = DEFAULT_SHUTDOWN_TIMEOUT,
        on_draining: Callable[[], None] = lambda: None,
        done: Hook[RequestDone] | None = None,
        inflight: set[asyncio.Task[Any]] | None = None,
    ) -> None:
        """`done`: triggered once each request was answered (request logs, metrics observe it);
        `inflight`: the set to keep the requests being handled in (metrics count it)."""
        self.router = router
        self.done = done
        self.max_body_size = max_body_size
        self.on_startup = on_startup
        self.on_shutdown = on_shutdown
        self.state = _State()
        self.rate_limit = RateLimitGate(self.state)
        # Tracebacks of unexpected errors: the first of a kind per route, then one per interval.
        self._bugs = Throttle()
        # Requests being handled, which a stop cancels when they outlast the shutdown timeout.
        self.inflight: set[asyncio.Task[Any]] = set() if inflight is None else inflight
        self.graceful_stop = GracefulStop(shutdown_timeout, on_stopping, self.shutdown, self.inflight)
        # SIGUSR2: out of the load balancer's rotation before a stop (http/drain.py).
        self.drain = Drain(on_draining)
        self._shutdown: asyncio.Task[None] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            if self.done is not None and len(self.done):
                await self._observed(scope, receive, send, self.done)
                return
            task = asyncio.current_task()
            if task is None:
                await self._http(scope, receive, send)
                return
            self.inflight.add(task)
            try:
                await self._http(scope, receive, send)
            except asyncio.CancelledError:
                if not self.graceful_stop.cutting:
                    raise
                await self._cut_short(scope, receive, send)
            finally:
                self.inflight.discard(task)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _observed(self, scope: Scope, receive: Receive, send: Send, done: Hook[RequestDone]) -> None:
        """One request, then its `request_done` event (only when something observes requests:
        the status is read from what is sent)."""
        started = time.time()
        clock = time.perf_counter()
        status = 0

        async def sending(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        task = asyncio.current_task()
        if task is not None:
            self.inflight.add(task)
        try:
            await self._http(scope, receive, sending)
        except asyncio.CancelledError:
            if not self.graceful_stop.cutting:
                raise
            await self._cut_short(scope, receive, sending)
        finally:
            if task is not None:
                self.inflight.discard(task)
            client = scope.get("client")
            event = RequestDone(
                method=scope["method"], path=scope["path"], query=scope.get("query_string", b"").decode("latin-1"),
                route=scope.get(ROUTE_KEY, ""), status=status or 500, started=started,
                duration=time.perf_counter() - clock, remote_ip=client[0] if client else "",
                headers=scope["headers"], auth=scope.get("hearth.auth"), error=scope.get(ERROR_KEY),
            )  # fmt: skip
            try:
                await done.trigger(event)
            except DatabaseUnavailable:
                pass  # an outage, which the db layer has logged (once per interval)
            except Exception:  # an observer's failure never reaches the client, which was answered
                log.exception("request_done: a handler failed")

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.on_startup()
                except Exception as exc:  # reported to the server, which exits
                    log.exception("startup failed")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                # In a server worker: SIGTERM/SIGINT start the bounded stop (http/shutdown.py).
                self.graceful_stop.install()
                self.drain.install()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def shutdown(self) -> None:
        """on_shutdown, once: the lifespan asks, and so does a stop whose timeout ran out while
        the server still held connections (http/shutdown.py)."""
        if self._shutdown is None:
            self._shutdown = asyncio.get_running_loop().create_task(self._shutdown_once())
        await asyncio.shield(self._shutdown)

    async def _shutdown_once(self) -> None:
        try:
            await self.on_shutdown()
            await self.rate_limit.close()
        except Exception:  # the process ends anyway; say why its cleanup was cut short
            log.exception("shutdown failed")

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = self
        method = scope["method"]
        origin = False
        too_large = False
        has_body = False
        for key, value in scope["headers"]:
            if key == b"origin":
                origin = True
            elif key == b"content-length":
                # Every route refuses an announced body over the limit, as PocketBase does.
                too_large = not value.isdigit() or int(value) > self.max_body_size
                has_body = value != b"0"
            elif key == b"transfer-encoding":
                has_body = True
        body = _BodyReceive(receive) if has_body else None
        if body is not None:
            receive = body
        draining = self.drain.active
        if draining and self.drain.refuses(method, scope["headers"]):
            await self._sent_away(scope, send)
            return
        if method == "OPTIONS" and origin:
            await self._preflight(scope, send)
            return
        found = self.router.find(method, scope["path"])
        # Before the body limit and the 404, as PocketBase's middleware order has it.
        if not self.rate_limit.idle() and (limited := await self.rate_limit.check(scope, found)) is not None:
            response = limited
        elif too_large and not (found is not None and found[0].own_body_limit):
            response = responses.error(PayloadTooLarge())
        elif found is None:
            # GET falls through to static files in PocketBase, hence its different message.
            response = responses.error(NotFound("File not found." if method in ("GET", "HEAD") else ""))
        else:
            compiled, params = found
            handler = compiled.handler
            scope["path_params"] = params
            scope[ROUTE_KEY] = compiled.pattern
            try:
                # The Request is not kept: a realtime stream is awaited below for as long as it
                # lasts, and 10,000 idle streams each holding theirs (and its parsed headers) add up.
                response = await handler(GoRequest(scope, receive, send))
            except ApiError as exc:
                # DatabaseUnavailable too: a 503 the db layer has already logged (once per
                # interval, never a traceback).
                scope[ERROR_KEY] = exc
                response = responses.error(exc)
            except Exception as exc:
                scope[ERROR_KEY] = exc
                held = self._bugs.admit((type(exc), compiled.pattern))
                if held is not None:
                    more = f" ({held} more like it in the last {self._bugs.interval:g} s)" if held else ""
                    log.exception("unhandled error on %s %s%s", method, scope["path"], more)
                err = ApiError()
                err.status = 500
                response = responses.error(err)
        # A served file says which of them it takes (hearth.http.routes.files).
        response.raw_headers.extend(getattr(response, "security_headers", SECURITY_HEADERS))
        if origin:
            response.raw_headers.append((b"access-control-allow-origin", b"*"))
        if method == "HEAD":
            response.body = b""
        if body is not None and not await body.drain(0 if too_large else _DRAIN_LIMIT):
            # An answer given before the body was read (an error, mostly): say that the
            # connection closes, or a keep-alive client would send its next request into a
            # socket the server drops (PocketBase/Go: drain up to 256 KiB, else close).
            response.raw_headers.append((b"connection", b"close"))
        elif draining:
            response.raw_headers.append((b"connection", b"close"))  # none kept: http/drain.py
        try:
            await response(scope, receive, send)
        finally:
            if FORM_KEY in scope:
                await close_form(scope)

    async def _cut_short(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A request still running when the shutdown timeout ran out was cancelled: a 503 if
        nothing was answered yet (the connection closes either way)."""
        err = ApiError("The server is shutting down; try again.")
        err.status = 503
        response = responses.error(err)
        response.raw_headers.extend(SECURITY_HEADERS)
        try:
            await response(scope, receive, send)
        except Exception:  # the response had started: nothing more can be said
            pass

    async def _sent_away(self, scope: Scope, send: Send) -> None:
        """Draining: a 503 the load balancer answers by sending the request to another instance
        (and by leaving this one out of its rotation for a while); the request is not run."""
        err = ApiError("This server is being taken out of service; try again.")
        err.status = 503
        response = responses.error(err)
        response.raw_headers.extend(SECURITY_HEADERS)
        response.raw_headers.append((b"retry-after", b"1"))
        response.raw_headers.append((b"connection", b"close"))
        # How many requests that came through a proxy this process has sent away so far:
        # deploy/rolling-restart.sh reads it to know that nginx was answered such a 503.
        response.raw_headers.append((b"x-hearth-sent-away", str(self.drain.proxied).encode()))
        await response(scope, _no_body, send)

    async def _preflight(self, scope: Scope, send: Send) -> None:
        requested = b""
        for key, value in scope["headers"]:
            if key == b"access-control-request-headers":
                requested = value
        headers = [
            *SECURITY_HEADERS,
            (b"access-control-allow-origin", b"*"),
            (b"access-control-allow-methods", ALLOW_METHODS),
        ]
        if requested:
            headers.append((b"access-control-allow-headers", requested))
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b""})


_DRAIN_LIMIT = 256 * 1024


async def _no_body() -> Any:
    return {"type": "http.request", "body": b"", "more_body": False}


class _BodyReceive:
    """`receive`, remembering whether the request body has been read to its end."""

    __slots__ = ("_receive", "done")

    def __init__(self, receive: Receive) -> None:
        self._receive = receive
        self.done = False

    async def __call__(self) -> Any:
        message = await self._receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            self.done = True
        return message

    async def drain(self, limit: int) -> bool:
        """Read what is left of the body, up to `limit` bytes; True when nothing is left."""
        read = 0
        while not self.done and read <= limit:
            message = await self()
            read += len(message.get("body", b""))
        return self.done


class _State:
    """Attribute bag, like Starlette's `app.state`."""

    # The services of this process (hearth.app.Hearth), set by the server factory; typed loosely
    # because the HTTP layer must not import the composition root.
    hearth: Any
