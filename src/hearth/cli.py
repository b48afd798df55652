"""`hearth serve`, `hearth superuser upsert|delete`, `hearth import|export pocketbase`, `hearth --version`.

A mistake (a bad flag or environment value, a port in use, an unreachable or refusing database, a
data directory that cannot be used) ends the command with one line on stderr that says what is
wrong and what to do, and a non-zero exit status: 2 for a usage mistake, 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import ipaddress
import os
import re
import socket
import sys
import tempfile
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, NoReturn, TypeVar

from hearth.config import (
    DEFAULT_DIR,
    DEFAULT_HOOK_TIMEOUT,
    DEFAULT_HTTP,
    DEFAULT_HTTP_BUFFER_SIZE,
    DEFAULT_JOB_LEASE,
    DEFAULT_JOBS,
    DEFAULT_MAX_BODY_SIZE,
    DEFAULT_SHUTDOWN_TIMEOUT,
    HOOKS_DIR_NAME,
    MIGRATIONS_DIR_NAME,
    MIN_HTTP_BUFFER_SIZE,
    Config,
    ConfigError,
    parse_count,
    parse_db_url,
    parse_http_buffer_size,
    parse_jobs,
    parse_log_format,
    parse_metrics_token,
    parse_pool_size,
    parse_seconds,
    parse_size,
    redact,
)
from hearth.http.shutdown import KILL_MARGIN
from hearth.version import __version__

T = TypeVar("T")


class Failure(Exception):
    """Ends the command with this message (one line) and exit status 1."""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: `hearth serve: --workers 'x' is not …` (exit 2)."""

    def error(self, message: str) -> NoReturn:
        # "argument --db: --db 'x' is not …": the flag's own sentence already names it.
        message = re.sub(r"^argument (\S+): (?=\1\b)", "", message)
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _flag_type(parse: Callable[[str, str], T], flag: str) -> Callable[[str], T]:
    """An argparse `type` whose error is the parse function's own sentence."""

    def convert(value: str) -> T:
        try:
            return parse(value, flag)
        except ConfigError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return convert


# ----- settings ----------------------------------------------------------------------------------
def parse_http(value: str, name: str = "--http") -> tuple[str, int]:
    """HOST:PORT (HOST an IP address or a resolvable name, [IPv6]:PORT; an empty HOST is
    127.0.0.1) → (IP address, port)."""
    text = value.strip()
    example = "e.g. 127.0.0.1:8090, 0.0.0.0:8090 or [::1]:8090"
    if text.startswith("["):
        host, sep, port = text[1:].partition("]:")
    else:
        host, sep, port = text.rpartition(":")
        if sep and ":" in host:
            raise ConfigError(f"{name} {value!r}: put an IPv6 address in brackets ({example})")
    if not sep:
        raise ConfigError(f"{name} {value!r} is not HOST:PORT ({example})")
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        what = "has no port" if not port else f"has an invalid port {port!r} (1-65535)"
        raise ConfigError(f"{name} {value!r} {what} ({example})")
    if not host:
        return "127.0.0.1", int(port)
    try:
        return str(ipaddress.ip_address(host)), int(port)
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise ConfigError(f"{name} {value!r}: unknown host {host!r} ({example})") from None
    infos.sort(key=lambda info: info[0] != socket.AF_INET)  # IPv4 first, as 'localhost' is meant
    return str(infos[0][4][0]), int(port)


def check_port(host: str, port: int, reuse_port: bool) -> None:
    """Refuse a port another process holds. granian's sockets share their port with any other
    process that asks (SO_REUSEPORT), so two servers would answer on one port in turn."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is no conflict
        if reuse_port:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
            if exc.errno == errno.EADDRINUSE and reuse_port:
                raise Failure(
                    f"{where} is already in use by a process that does not share it "
                    "(--reuse-port shares a port only among servers that all ask for it)"
                ) from None
            if exc.errno == errno.EADDRINUSE:
                raise Failure(
                    f"{where} is already in use by another process: stop it, choose another port "
                    "with --http, or pass --reuse-port to share the port on purpose"
                ) from None
            if exc.errno == errno.EADDRNOTAVAIL:
                raise Failure(f"--http {where}: {host} is not an address of this machine") from None
            if exc.errno == errno.EACCES:
                raise Failure(
                    f"--http {where}: permission denied (ports below 1024 need root or "
                    "CAP_NET_BIND_SERVICE; choose a port from 1024 up)"
                ) from None
            raise Failure(f"cannot listen on {where}: {_reason(exc)}") from None


def check_data_dir(path: Path, name: str) -> None:
    """The SQLite data directory exists (created if missing) and is writable."""
    if path.exists() and not path.is_dir():
        raise Failure(f"{name} {path} is a file, not a directory: give a directory for Hearth's data")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise Failure(f"cannot create the data directory {path} ({name}): {_reason(exc)}") from None
    try:
        fd, probe = tempfile.mkstemp(dir=path, prefix=".hearth-write-test-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise Failure(
            f"the data directory {path} ({name}) is not writable: {_reason(exc)}; "
            "choose another --dir or fix its permissions"
        ) from None


def _reason(exc: OSError) -> str:
    return (exc.strerror or str(exc)).lower()


def _env(name: str, parse: Callable[[str, str], T], default: T) -> T:
    value = os.environ.get(name, "")
    if not value.strip():
        return default
    try:
        return parse(value, name)
    except ConfigError as exc:
        raise Failure(str(exc)) from None


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes")


def _config(args: argparse.Namespace) -> Config:
    """Flags first, then HEARTH_* variables, then defaults; each value checked."""
    dir_name = "--dir" if args.dir is not None else "HEARTH_DIR"
    raw_dir = args.dir if args.dir is not None else (os.environ.get("HEARTH_DIR") or DEFAULT_DIR)
    if not raw_dir.strip():
        raise Failure(f"{dir_name} is empty: give a directory for Hearth's data")
    db_url = args.db if args.db is not None else _env("HEARTH_DB", parse_db_url, "")
    max_body = args.max_body_size or _env("HEARTH_MAX_BODY_SIZE", parse_size, DEFAULT_MAX_BODY_SIZE)
    timeout = getattr(args, "shutdown_timeout", None) or _env(
        "HEARTH_SHUTDOWN_TIMEOUT", parse_seconds, DEFAULT_SHUTDOWN_TIMEOUT
    )
    pool = _env("HEARTH_PG_POOL_SIZE", parse_pool_size, 10)
    _check_redis_url()
    # Relative to the caller's working directory, once: workers and messages see the same path.
    data_dir = Path(raw_dir).expanduser().absolute()
    raw_hooks = getattr(args, "hooks_dir", None) or os.environ.get("HEARTH_HOOKS_DIR") or ""
    hook_timeout = getattr(args, "hook_timeout", None) or _env(
        "HEARTH_HOOK_TIMEOUT", parse_seconds, DEFAULT_HOOK_TIMEOUT
    )
    jobs = getattr(args, "jobs", None)
    if jobs is None:
        jobs = _env("HEARTH_JOBS", parse_jobs, DEFAULT_JOBS)
    config = Config(
        data_dir=data_dir,
        db_url=db_url,
        max_body_size=max_body,
        pg_pool_size=pool,
        shutdown_timeout=timeout,
        hooks_dir=Path(raw_hooks).expanduser().absolute() if raw_hooks.strip() else None,
        hook_timeout=hook_timeout,
        dev=bool(getattr(args, "dev", False)),
        migrations_dir=_migrations_dir(args),
        jobs=jobs,
        job_lease=_env("HEARTH_JOB_LEASE", parse_seconds, DEFAULT_JOB_LEASE),
        fetch_private=_env_flag("HEARTH_FETCH_PRIVATE"),
        webhooks_private=_env_flag("HEARTH_WEBHOOKS_PRIVATE"),
        metrics_token=getattr(args, "metrics_token", None)
        or _env("HEARTH_METRICS_TOKEN", parse_metrics_token, ""),
        log_format=getattr(args, "log_format", None) or _env("HEARTH_LOG_FORMAT", parse_log_format, "text"),
        openapi_public=_env_flag("HEARTH_OPENAPI_PUBLIC"),
    )
    if not config.is_postgres:
        check_data_dir(data_dir, dir_name)
    return config


def _check_redis_url() -> None:
    url = os.environ.get("HEARTH_REDIS_URL", "").strip()
    if not url:
        return
    from redis.asyncio import Redis

    try:
        Redis.from_url(url)  # parses only; connects on first use
    except ValueError as exc:
        raise Failure(f"HEARTH_REDIS_URL {url!r}: {exc}") from None


# ----- database errors ---------------------------------------------------------------------------
def describe_database_error(exc: BaseException, config: Config) -> str | None:
    """One line for a database that cannot be reached or used; None for anything else (a bug)."""
    import sqlite3

    from hearth.db.base import DatabaseError
    from hearth.errors import DatabaseUnavailable

    if isinstance(exc, DatabaseUnavailable):
        # The db layer's outage error: the driver's own error, when kept, says more.
        if exc.__cause__ is None:
            return f"cannot use the database: {exc.reason}"
        exc = exc.__cause__
    if not config.is_postgres:
        if isinstance(exc, sqlite3.Error | DatabaseError):
            return f"cannot use the SQLite database {config.sqlite_path}: {exc}"
        if isinstance(exc, OSError):
            return f"cannot use the SQLite database {config.sqlite_path}: {_reason(exc)}"
        return None
    from urllib.parse import urlsplit

    import asyncpg

    parts = urlsplit(config.db_url)
    host = parts.hostname or "localhost"
    where = f"{host}:{parts.port or 5432}"
    user = parts.username or os.environ.get("PGUSER") or "the default user"
    database = parts.path.lstrip("/") or user
    fix = f"fix --db ({redact(config.db_url)})"
    if isinstance(exc, asyncpg.InvalidCatalogNameError):
        return f"PostgreSQL at {where} has no database {database!r}: create it (createdb {database}) or {fix}"
    if isinstance(exc, asyncpg.InvalidPasswordError):
        return f"PostgreSQL at {where} refused the password of user {user!r}: {fix}"
    if isinstance(exc, asyncpg.InvalidAuthorizationSpecificationError):
        return f"PostgreSQL at {where} refused user {user!r} ({exc}): {fix}"
    if isinstance(exc, asyncpg.PostgresError | DatabaseError):
        return f"PostgreSQL at {where}: {exc}"
    if isinstance(exc, socket.gaierror):
        return f"cannot connect to PostgreSQL: unknown host {host!r}; {fix}"
    if isinstance(exc, ConnectionRefusedError) or (
        isinstance(exc, OSError) and "connect call failed" in str(exc).lower()
    ):
        return f"cannot connect to PostgreSQL at {where}: connection refused (is it running?); {fix}"
    if isinstance(exc, TimeoutError):
        return f"cannot connect to PostgreSQL at {where}: timed out (is it running and reachable?)"
    if isinstance(exc, OSError):
        return f"cannot connect to PostgreSQL at {where}: {_reason(exc)}"
    if isinstance(exc, asyncpg.InterfaceError | asyncpg.ClientConfigurationError | ValueError):
        return f"--db {redact(config.db_url)!r}: {exc}"
    return None


def _run(config: Config, work: Coroutine[Any, Any, T]) -> T:
    """Run `work`; a database that cannot be reached or used becomes a Failure."""
    try:
        return asyncio.run(work)
    except Exception as exc:
        message = describe_database_error(exc, config)
        if message is None:
            raise
        raise Failure(message) from None


# ----- commands ----------------------------------------------------------------------------------
# Granian's own logging plus Hearth's loggers (`hearth.*`, e.g. mail not sent while SMTP is off),
# at INFO on stdout. Granian replaces its "loggers" with this whole mapping, so it repeats its own.
_LOGGING: dict[str, Any] = {
    "loggers": {
        "_granian": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "granian.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
        "hearth": {"handlers": ["hearth"], "level": "INFO", "propagate": False},
    },
    "formatters": {
        "generic": {"()": "logging.Formatter", "fmt": "[%(levelname)s] %(message)s"},
        "access": {"()": "logging.Formatter", "fmt": "%(message)s"},
        "hearth": {"()": "logging.Formatter", "fmt": "[%(levelname)s] %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {"formatter": "generic", "class": "logging.StreamHandler", "stream": "ext://sys.stdout"},
        "access": {"formatter": "access", "class": "logging.StreamHandler", "stream": "ext://sys.stdout"},
        "hearth": {"formatter": "hearth", "class": "logging.StreamHandler", "stream": "ext://sys.stdout"},
    },
}

_JSON_FORMATTER = {"()": "hearth._util.jsonlog.JsonFormatter"}


def logging_config(log_format: str) -> dict[str, Any]:
    """The logging setup for `log_format`: "json" prints every line as one JSON object."""
    if log_format != "json":
        return _LOGGING
    return {**_LOGGING, "formatters": dict.fromkeys(_LOGGING["formatters"], _JSON_FORMATTER)}


def serve(args: argparse.Namespace) -> int:
    host, port = args.http
    config = _config(args)
    buffer_size = args.http_buffer_size or _env(
        "HEARTH_HTTP_BUFFER_SIZE", parse_http_buffer_size, DEFAULT_HTTP_BUFFER_SIZE
    )
    check_port(host, port, args.reuse_port)
    from hearth.app import Hearth
    from hearth.extend.app import App
    from hearth.extend.loader import HooksLoadError

    # The hooks folder is loaded here first, so a broken file is one clear line, not a worker
    # crash per process.
    try:
        App(config=config)
    except HooksLoadError as exc:
        raise Failure(f"hooks: {exc}") from None

    from hearth.auth.installer import INSTALL_DURATION, installer_token

    # Create tables once before the workers start, so they never race on a fresh database; and
    # while no superuser exists, issue the first-run installer token (docs/dashboard.md).
    async def prepare() -> str | None:
        h = Hearth(config)
        try:
            await h.start()
            assert h.db is not None  # opened by start()
            for line in await h.db.configuration_warnings():
                print(f"Warning: {line}", file=sys.stderr, flush=True)
            applied = await h.migrations.up()  # migration files not applied yet (docs/migrations.md)
            if applied:
                print(f"Applied {len(applied)} migration(s): {', '.join(applied)}", flush=True)
            return await installer_token(h)
        finally:
            await h.stop()

    from hearth.migrations.files import MigrationError

    try:
        install_token = _run(config, prepare())
    except MigrationError as exc:
        raise Failure(f"migration {exc}") from None
    os.environ.update(config.to_env())

    from granian import Granian
    from granian.constants import HTTPModes, Interfaces
    from granian.http import HTTP1Settings

    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    print(
        f"Hearth {__version__} serving http://{where} "
        f"({'PostgreSQL ' + redact(config.db_url) if config.is_postgres else config.sqlite_path}); "
        f"stops within {config.shutdown_timeout:g} s of SIGTERM/Ctrl-C",
        flush=True,
    )
    if install_token is not None:
        url = f"http://{where}/_/#/pbinstall/{install_token}"
        print(
            f"No superuser yet: open {url} within {INSTALL_DURATION // 60} minutes to create the first one "
            "(or run: hearth superuser upsert EMAIL PASS)",
            flush=True,
        )
    files = _raise_open_files_limit()
    from hearth.http.drain import ignore_in_main_process

    ignore_in_main_process()  # SIGUSR2 drains the workers (docs/deploy.md)
    server = Granian(
        "hearth.extend.factory:create_app",
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        # HTTP/1.1 only, as PocketBase without TLS: Hearth serves plain HTTP (TLS ends at a proxy),
        # where browsers and the SDKs never speak HTTP/2. granian's default ("auto") sniffs every
        # connection for HTTP/2's preface and keeps ~11 KiB more per open connection for it
        # (measured: 35 -> 24 KiB per idle realtime client).
        http=HTTPModes.http1,
        workers=args.workers,
        # Granian counts an open SSE stream as a request in flight, and by default stops
        # accepting connections at backlog/workers of them (512 each with 2 workers): realtime
        # clients would lock everyone out past ~1,000. The bound that matters is open files.
        backlog=BACKLOG,
        backpressure=max(BACKLOG // args.workers, files // args.workers),
        factory=True,
        log_access=False,
        http1_settings=HTTP1Settings(max_buffer_size=buffer_size),
        log_dictconfig=logging_config(config.log_format),
        # Each worker bounds its own stop (hearth.http.shutdown); this kills one that cannot.
        workers_kill_timeout=config.shutdown_timeout + KILL_MARGIN,  # type: ignore[arg-type]
    )
    server.serve()
    return 0


BACKLOG = 2048  # connections the kernel queues while every worker is busy


def _raise_open_files_limit() -> int:
    """Every connection is a file descriptor, and 10,000 realtime clients are 10,000 of them: the
    soft limit (often 1024) is raised to the hard one. Returns the limit in force."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = 1 << 20
    if soft != resource.RLIM_INFINITY and soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass
    return int(min(soft if soft != resource.RLIM_INFINITY else 1 << 20, 1 << 20))


def worker(args: argparse.Namespace) -> int:
    """A process that only runs durable jobs and crons (beside or instead of serve's workers)."""
    import logging.config

    config = _config(args)
    if config.jobs == 0:
        raise Failure("--jobs 0: a worker that runs no jobs would do nothing; give 1 or more")
    from hearth.extend.app import App
    from hearth.extend.loader import HooksLoadError

    logging.config.dictConfig({"version": 1, "disable_existing_loggers": False, **logging_config(config.log_format)})
    try:
        app = App(config=config)
    except HooksLoadError as exc:
        raise Failure(f"hooks: {exc}") from None
    print(
        f"Hearth {__version__} worker: up to {config.jobs} job(s) at once "
        f"({'PostgreSQL ' + redact(config.db_url) if config.is_postgres else config.sqlite_path}); "
        f"stops within {config.shutdown_timeout:g} s of SIGTERM/Ctrl-C",
        flush=True,
    )
    _run(config, app.work())
    return 0


def _migrations_dir(args: argparse.Namespace) -> Path | None:
    raw = getattr(args, "migrations_dir", None) or os.environ.get("HEARTH_MIGRATIONS_DIR") or ""
    return Path(raw).expanduser().absolute() if raw.strip() else None


def migrate(args: argparse.Namespace) -> int:
    """`hearth migrate up|down [N]|create NAME|history-sync|status` (docs/migrations.md)."""
    from hearth.app import Hearth
    from hearth.migrations.files import MigrationError

    config = _config(args)
    if args.action == "create":
        from hearth.migrations.files import write_blank

        try:
            path = write_blank(config.migrations_path, args.name)
        except (MigrationError, OSError) as exc:
            raise Failure(f"cannot create the migration file: {exc}") from None
        print(f"Created {path}")
        return 0

    async def run() -> list[str] | list[tuple[str, bool]]:
        h = Hearth(config)
        try:
            await h.start()
            if args.action == "up":
                return await h.migrations.up()
            if args.action == "down":
                return await h.migrations.down(args.count)
            if args.action == "history-sync":
                return await h.migrations.history_sync()
            return await h.migrations.status()
        finally:
            await h.stop()

    try:
        result = _run(config, run())
    except MigrationError as exc:
        raise Failure(f"migration {exc}") from None
    if args.action == "status":
        for item in result:
            name, done = item if isinstance(item, tuple) else (item, False)
            print(f"{'applied' if done else 'pending'}  {name}")
        if not result:
            print(f"No migration files in {config.migrations_path}")
        return 0
    verb = {"up": "Applied", "down": "Reverted", "history-sync": "Forgot"}[args.action]
    print(f"{verb} {len(result)} migration(s)" + (": " + ", ".join(str(r) for r in result) if result else ""))
    return 0


def superuser(args: argparse.Namespace) -> int:
    from hearth.admin_cli import delete_superuser, upsert_superuser
    from hearth.app import Hearth
    from hearth.errors import ApiError

    config = _config(args)

    async def run() -> None:
        h = Hearth(config)
        try:
            await h.start()
            if args.action == "upsert":
                await upsert_superuser(h, args.email, args.password)
            else:
                await delete_superuser(h, args.email)
        finally:
            await h.stop()

    try:
        _run(config, run())
    except ApiError as exc:
        verb = "save" if args.action == "upsert" else "delete"
        raise Failure(f"cannot {verb} superuser {args.email!r}: {describe_api_error(exc)}") from None
    print(f"Successfully {'saved' if args.action == 'upsert' else 'deleted'} superuser {args.email}!")
    return 0


def _progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def import_data(args: argparse.Namespace) -> int:
    """`hearth import pocketbase PB_DATA --db postgresql://…` (docs/migration-from-pocketbase.md)."""
    config = _config(args)
    if not config.is_postgres:
        raise Failure(
            "hearth import pocketbase copies into PostgreSQL: give --db postgresql://USER@HOST/DATABASE "
            "(on SQLite, `hearth serve --dir PB_DATA` serves a PocketBase directory in place)"
        )
    from hearth.transfer.pocketbase import import_pocketbase
    from hearth.transfer.source import TransferError

    source = Path(args.pb_data).expanduser().absolute()
    try:
        report = _run(config, import_pocketbase(source, config, args.force, _progress))
    except TransferError as exc:
        raise Failure(str(exc)) from None
    for line in report.lines():
        print(line)
    return 0 if report.ok else 1


def export_data(args: argparse.Namespace) -> int:
    """`hearth export pocketbase OUT [--dir DIR | --db URL]` (docs/migration-from-pocketbase.md)."""
    config = _config(args)
    from hearth.transfer.pocketbase import export_pocketbase
    from hearth.transfer.source import TransferError

    out = Path(args.out).expanduser().absolute()
    try:
        report = _run(config, export_pocketbase(config, out, _progress))
    except TransferError as exc:
        raise Failure(str(exc)) from None
    for line in report.lines():
        print(line)
    return 0 if report.ok else 1


def describe_api_error(exc: Any) -> str:
    """`email: Must be a valid email address; password: …`, or the error's message."""
    fields = []
    for name, error in (exc.data or {}).items():
        message = getattr(error, "message", None) or str(error)
        fields.append(f"{name}: {message.rstrip('.')}")
    return "; ".join(fields) if fields else exc.message.rstrip(".")


# ----- parser ------------------------------------------------------------------------------------
def _add_storage_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--dir",
        default=None,
        help=f"data directory: SQLite's data.db lives here (default $HEARTH_DIR or {DEFAULT_DIR}, "
        "relative to the current directory)",
    )
    p.add_argument(
        "--db",
        default=None,
        type=_flag_type(parse_db_url, "--db"),
        help="database URL (default $HEARTH_DB): postgresql://USER:PASSWORD@HOST:PORT/DATABASE switches "
        "to PostgreSQL; without it, SQLite in --dir",
    )


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="hearth", description="Hearth: a PocketBase-compatible backend in Python.")
    parser.add_argument("--version", action="version", version=f"hearth {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    p_serve = sub.add_parser("serve", help="start the HTTP server")
    p_serve.add_argument(
        "--http",
        default=parse_http(DEFAULT_HTTP),
        type=_flag_type(parse_http, "--http"),
        help=f"HOST:PORT to listen on (default {DEFAULT_HTTP}; an empty HOST is 127.0.0.1)",
    )
    p_serve.add_argument(
        "--workers",
        type=_flag_type(parse_count, "--workers"),
        default=1,
        help="worker processes (default 1; one per core)",
    )
    p_serve.add_argument(
        "--reuse-port",
        action="store_true",
        help="share the port with other servers started with --reuse-port (several instances on "
        "one machine); without it a port in use is an error",
    )
    p_serve.add_argument(
        "--shutdown-timeout",
        type=_flag_type(parse_seconds, "--shutdown-timeout"),
        default=None,
        metavar="SECONDS",
        help="on SIGTERM/SIGINT, exit within this many seconds: realtime streams close at once, "
        "requests in flight get the time less up to 1 s for cleanup "
        f"(default $HEARTH_SHUTDOWN_TIMEOUT or {DEFAULT_SHUTDOWN_TIMEOUT:g})",
    )
    _add_storage_flags(p_serve)
    p_serve.add_argument(
        "--hooks-dir",
        default=None,
        metavar="DIR",
        help=f"Python hooks and routes to load, each *.py file's setup(app) "
        f"(default $HEARTH_HOOKS_DIR or {HOOKS_DIR_NAME} beside --dir; none if it does not exist)",
    )
    p_serve.add_argument(
        "--hook-timeout",
        type=_flag_type(parse_seconds, "--hook-timeout"),
        default=None,
        metavar="SECONDS",
        help=f"cut off a hook handler or custom route after this long (default {DEFAULT_HOOK_TIMEOUT:g})",
    )
    p_serve.add_argument("--dev", action="store_true",
                         help="reload the hooks folder when its files change, and write a migration file for "
                         "every collection change")  # fmt: skip
    p_serve.add_argument(
        "--migrations-dir",
        default=None,
        metavar="DIR",
        help=f"migration files applied at start (default $HEARTH_MIGRATIONS_DIR or {MIGRATIONS_DIR_NAME} beside "
        "--dir; none if it does not exist)",
    )
    p_serve.add_argument(
        "--log-format",
        type=_flag_type(parse_log_format, "--log-format"),
        default=None,
        help="stdout lines: text (default, $HEARTH_LOG_FORMAT) or json (one JSON object a line, request "
        "log entries included, for log shippers)",
    )
    p_serve.add_argument(
        "--jobs",
        type=_flag_type(parse_jobs, "--jobs"),
        default=None,
        metavar="N",
        help=f"durable jobs each worker process runs at once (default $HEARTH_JOBS or {DEFAULT_JOBS}; "
        "0: none here, `hearth worker` processes run them)",
    )
    p_serve.add_argument(
        "--max-body-size",
        type=_flag_type(parse_size, "--max-body-size"),
        default=None,
        metavar="BYTES",
        help=f"largest accepted request body (default $HEARTH_MAX_BODY_SIZE or {DEFAULT_MAX_BODY_SIZE}, 32 MiB)",
    )
    p_serve.add_argument(
        "--http-buffer-size",
        type=_flag_type(parse_http_buffer_size, "--http-buffer-size"),
        default=None,
        metavar="BYTES",
        help=f"per-connection HTTP buffer (default $HEARTH_HTTP_BUFFER_SIZE or {DEFAULT_HTTP_BUFFER_SIZE}); "
        f"{MIN_HTTP_BUFFER_SIZE} saves ~1 KiB per open connection but refuses request heads over 8 KiB and "
        "reads uploads 8 KiB at a time (slower)",
    )
    p_serve.add_argument(
        "--metrics-token",
        type=_flag_type(parse_metrics_token, "--metrics-token"),
        default=None,
        metavar="TOKEN",
        help="serve Prometheus metrics at /metrics to requests bearing this token "
        "(default $HEARTH_METRICS_TOKEN, which keeps it out of `ps`; none: no /metrics). docs/operations.md",
    )
    p_serve.set_defaults(func=serve)

    p_work = sub.add_parser("worker", help="run durable jobs and crons only (no HTTP)")
    _add_storage_flags(p_work)
    p_work.add_argument(
        "--jobs",
        type=_flag_type(parse_jobs, "--jobs"),
        default=None,
        metavar="N",
        help=f"jobs run at once (default $HEARTH_JOBS or {DEFAULT_JOBS})",
    )
    p_work.add_argument(
        "--hooks-dir",
        default=None,
        metavar="DIR",
        help=f"the hooks folder whose jobs and crons to run (default $HEARTH_HOOKS_DIR or {HOOKS_DIR_NAME} beside --dir)",
    )
    p_work.add_argument(
        "--shutdown-timeout",
        type=_flag_type(parse_seconds, "--shutdown-timeout"),
        default=None,
        metavar="SECONDS",
        help="on SIGTERM/SIGINT, running jobs get this long before they are handed back "
        f"(default $HEARTH_SHUTDOWN_TIMEOUT or {DEFAULT_SHUTDOWN_TIMEOUT:g})",
    )
    p_work.set_defaults(func=worker, max_body_size=None)

    p_su = sub.add_parser("superuser", help="manage superusers")
    su_sub = p_su.add_subparsers(dest="action", required=True, metavar="ACTION", parser_class=_Parser)
    p_up = su_sub.add_parser("upsert", help="create or update a superuser")
    p_up.add_argument("email")
    p_up.add_argument("password")
    _add_storage_flags(p_up)
    p_del = su_sub.add_parser("delete", help="delete a superuser")
    p_del.add_argument("email")
    _add_storage_flags(p_del)
    for p in (p_up, p_del):
        p.set_defaults(max_body_size=None)
    p_su.set_defaults(func=superuser)

    p_mig = sub.add_parser("migrate", help="apply, revert or create migration files")
    mig_sub = p_mig.add_subparsers(dest="action", required=True, metavar="ACTION", parser_class=_Parser)
    m_up = mig_sub.add_parser("up", help="apply the migration files not applied yet, in order")
    m_down = mig_sub.add_parser("down", help="revert the last applied migration files")
    m_down.add_argument("count", nargs="?", default=1, type=_flag_type(parse_count, "COUNT"),
                        help="how many (default 1)")  # fmt: skip
    m_create = mig_sub.add_parser("create", help="write a blank migration file")
    m_create.add_argument("name", help="a few words saying what it does (the file name)")
    m_sync = mig_sub.add_parser("history-sync", help="forget applied migrations whose file is gone")
    m_status = mig_sub.add_parser("status", help="list the migration files, applied or pending")
    for p in (m_up, m_down, m_create, m_sync, m_status):
        _add_storage_flags(p)
        p.add_argument("--migrations-dir", default=None, metavar="DIR",
                       help=f"the migration files (default $HEARTH_MIGRATIONS_DIR or {MIGRATIONS_DIR_NAME} beside --dir)")  # fmt: skip
        p.set_defaults(max_body_size=None)
    p_mig.set_defaults(func=migrate)

    p_imp = sub.add_parser("import", help="copy another backend's data into Hearth")
    imp_sub = p_imp.add_subparsers(dest="kind", required=True, metavar="SOURCE", parser_class=_Parser)
    i_pb = imp_sub.add_parser("pocketbase", help="copy a PocketBase data directory (pb_data) into PostgreSQL")
    i_pb.add_argument("pb_data", metavar="PB_DATA", help="the PocketBase data directory (read only)")
    _add_storage_flags(i_pb)
    i_pb.add_argument("--force", action="store_true",
                      help="replace the collections, records, settings and logs the target database already holds")  # fmt: skip
    i_pb.set_defaults(func=import_data, max_body_size=None)

    p_exp = sub.add_parser("export", help="write Hearth's data in another backend's format")
    exp_sub = p_exp.add_subparsers(dest="kind", required=True, metavar="FORMAT", parser_class=_Parser)
    e_pb = exp_sub.add_parser("pocketbase", help="write a pb_data directory that PocketBase opens")
    e_pb.add_argument("out", metavar="OUT", help="a new (or empty) directory to write data.db, auxiliary.db and storage/ into")
    _add_storage_flags(e_pb)
    e_pb.set_defaults(func=export_data, max_body_size=None)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return int(args.func(args))
    except Failure as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
