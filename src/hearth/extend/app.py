"""`hearth.App`: Hearth as a library, and what hooks files get as `app`.

    import hearth

    app = hearth.App("hearth_data")

    @app.on_record_create("posts")
    async def slug(e):
        e.record["slug"] = e.record["title"].lower().replace(" ", "-")
        await e.next()

    @app.route("GET", "/api/hello/{name}")
    async def hello(e):
        return {"message": f"Hello {e.params['name']}"}

    app.serve()

Every event in hearth.hooks.catalog is `app.on_<event>(*collections)`, or `app.on("<event>")`.
Handlers are `async def` or plain functions (run in a worker thread), guarded: an exception
other than an API error (hearth.BadRequest...) answers PocketBase's generic 400 and is logged;
one that runs past `hook_timeout` seconds is cut off (504). The server keeps serving either way.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import signal
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from hearth.config import DEFAULT_DIR, DEFAULT_HOOK_TIMEOUT, Config, parse_db_url
from hearth.extend.jobs import Jobs
from hearth.extend.loader import HooksLoadError, hook_files, load_file, watch
from hearth.extend.records import Records
from hearth.extend.routes import Middleware, RouteHandler, route_handler
from hearth.hooks.chain import Hook
from hearth.hooks.events import Lifecycle
from hearth.http.router import Route
from hearth.http.server import build_app
from hearth.jobs.cron import CronFunction
from hearth.jobs.worker import DEFAULT_TIMEOUT as DEFAULT_JOB_TIMEOUT
from hearth.jobs.worker import JobFunction

log = logging.getLogger("hearth.hooks")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


class App:
    """One Hearth: its services, its ASGI application, and what users add to them."""

    def __init__(
        self,
        data_dir: str | Path = DEFAULT_DIR,
        *,
        db: str = "",
        hooks_dir: str | Path | None = None,
        hook_timeout: float = DEFAULT_HOOK_TIMEOUT,
        dev: bool = False,
        config: Config | None = None,
    ) -> None:
        """`db`: "" for SQLite in `data_dir`, or a postgresql:// URL. `hooks_dir`: a folder of
        hooks files to load (default: hearth_hooks beside `data_dir`, if it exists)."""
        self.config = config or Config(
            data_dir=Path(data_dir).expanduser().absolute(),
            db_url=parse_db_url(db, "db"),
            hooks_dir=Path(hooks_dir).expanduser().absolute() if hooks_dir is not None else None,
            hook_timeout=hook_timeout,
            dev=dev,
        )
        self.asgi = build_app(self.config)
        self.hearth = self.asgi.state.hearth
        self.hooks = self.hearth.hooks
        self.records = Records(self.hearth)
        self.logger = self.hearth.logger  # its records are request log entries too (docs/hooks.md)
        # What the hooks folder registered, dropped when it is reloaded.
        self._loading = False
        self._folder_hooks: list[tuple[Hook[Any], str]] = []
        self._folder_routes: list[Route] = []
        self._folder_jobs: list[str] = []
        self._folder_crons: list[str] = []
        self.jobs = Jobs(self.hearth)
        self._watcher: asyncio.Task[None] | None = None
        if self.config.dev:
            self.hooks.serve.bind(self._start_watching, id="hearth.dev")
            self.hooks.terminate.bind(self._stop_watching, id="hearth.dev")
        self.load_hooks_dir()

    # ----- hooks -----------------------------------------------------------------------------
    def on(
        self, event: str, *collections: str, priority: int = 0, id: str = "", timeout: float | None = None
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Bind the decorated function to `event` (for `collections` only, when given)."""
        hook = getattr(self.hooks, event, None)
        if not isinstance(hook, Hook):
            known = ", ".join(sorted(self.hooks.catalog()))
            raise ValueError(f"unknown event {event!r}; the events are: {known}")

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            hid = hook.bind(
                fn,
                id=id,
                priority=priority,
                tags=collections,
                guarded=True,
                timeout=timeout or self.config.hook_timeout,
            )
            if self._loading:
                self._folder_hooks.append((hook, hid))
            return fn

        return decorator

    def __getattr__(self, name: str) -> Any:
        """`app.on_<event>(*collections, priority=..., id=...)` for every event."""
        if name.startswith("on_") and isinstance(getattr(self.hooks, name[3:], None), Hook):
            return functools.partial(self.on, name[3:])
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    # ----- routes ------------------------------------------------------------------------------
    def route(
        self, method: str, path: str, *, middlewares: Sequence[Middleware] = ()
    ) -> Callable[[RouteHandler], RouteHandler]:
        """Serve `method path` (`{name}` segments are parameters) with the decorated function.
        Built-in routes come first: a path they already serve is theirs."""
        method = method.upper()
        if method not in METHODS:
            raise ValueError(f"method {method!r}: use one of {', '.join(METHODS)}")
        if not path.startswith("/"):
            raise ValueError(f"path {path!r} must start with /")

        def decorator(fn: RouteHandler) -> RouteHandler:
            r = Route(method, path, route_handler(self, fn, middlewares))
            self.asgi.router.add(r)
            if self._loading:
                self._folder_routes.append(r)
            return fn

        return decorator

    # ----- background work ---------------------------------------------------------------------
    def job(self, name: str, *, timeout: float = DEFAULT_JOB_TIMEOUT) -> Callable[[JobFunction], JobFunction]:
        """Run the decorated function for each durable job named `name` (it gets the JobRun
        event: `e.payload`, `e.attempt`...); an exception fails the attempt (retried with
        backoff while attempts are left), as does running past `timeout` seconds."""
        if not isinstance(name, str) or not name:
            raise ValueError("a job name is a non-empty string")

        def decorator(fn: JobFunction) -> JobFunction:
            self.hearth.job_functions.register(name, fn, timeout)
            if self._loading:
                self._folder_jobs.append(name)
            return fn

        return decorator

    def cron(
        self, cron_id: str, expression: str, *, timeout: float = DEFAULT_JOB_TIMEOUT
    ) -> Callable[[CronFunction], CronFunction]:
        """Run the decorated function on the schedule `expression` (five fields or a macro such
        as `@daily`, UTC), once per tick across every process and instance. It takes no
        argument, or the JobRun event."""

        def decorator(fn: CronFunction) -> CronFunction:
            self.hearth.crons.add(cron_id, expression, fn, timeout)
            if self._loading:
                self._folder_crons.append(cron_id)
            return fn

        return decorator

    # ----- services for hooks ------------------------------------------------------------------
    async def send_mail(self, to: str, subject: str, html: str) -> None:
        """Send an HTML mail with the SMTP settings in force (logged whole while SMTP is off)."""
        await self.hearth.mailer.send(to, subject, html)

    async def settings(self) -> dict[str, Any]:
        """The current settings."""
        current: dict[str, Any] = await self.hearth.settings.current()
        return current

    # ----- the hooks folder --------------------------------------------------------------------
    def load_hooks_dir(self) -> None:
        """Load every hooks file (raises HooksLoadError naming the file that failed)."""
        self._loading = True
        try:
            for path in hook_files(self.config.hooks_path):
                load_file(path, self)
                log.info("hooks: loaded %s", path)
        finally:
            self._loading = False

    def reload_hooks_dir(self) -> None:
        """Drop what the folder registered and load it again; a broken file is logged and the
        files before it stay loaded (the server keeps serving)."""
        for hook, hid in self._folder_hooks:
            hook.unbind(hid)
        for r in self._folder_routes:
            self.asgi.router.remove(r)
        for name in self._folder_jobs:
            self.hearth.job_functions.unregister(name)
        for cron_id in self._folder_crons:
            self.hearth.crons.remove(cron_id)
        self._folder_hooks, self._folder_routes, self._folder_jobs, self._folder_crons = [], [], [], []
        try:
            self.load_hooks_dir()
        except HooksLoadError as exc:
            log.error("hooks: reload failed: %s", exc)
            return
        log.info("hooks: reloaded %s", self.config.hooks_path)

    async def _start_watching(self, e: Lifecycle) -> None:
        self._watcher = asyncio.get_running_loop().create_task(
            watch(self.config.hooks_path, self.reload_hooks_dir)
        )
        await e.next()

    async def _stop_watching(self, e: Lifecycle) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        await e.next()

    # ----- a jobs-only process -------------------------------------------------------------------
    async def work(self) -> None:
        """Run durable jobs and the cron schedule (no HTTP) until SIGTERM or Ctrl-C; a stop
        gives running jobs until the shutdown timeout, then hands them back to other workers."""
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await self.hearth.start(background=True)
        try:
            await stop.wait()
            self.hearth.stopping(loop.time() + self.config.shutdown_timeout)
        finally:
            await self.hearth.stop()

    # ----- serving -----------------------------------------------------------------------------
    def serve(self, host: str = "127.0.0.1", port: int = 8090) -> None:
        """Serve in this process until SIGTERM or Ctrl-C (several processes: `hearth serve`)."""
        asyncio.run(self._serve(host, port))

    async def _serve(self, host: str, port: int) -> None:
        from granian.constants import Interfaces
        from granian.server.embed import Server

        server = Server(self.asgi, address=host, port=port, interface=Interfaces.ASGI)
        loop = asyncio.get_running_loop()

        def stop(_signum: int, _frame: Any) -> None:
            loop.call_soon_threadsafe(server.stop)

        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, stop)
        print(f"Hearth serving http://{host}:{port}", flush=True)
        await server.serve()
