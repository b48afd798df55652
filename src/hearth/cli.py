"""`hearth serve` and `hearth superuser upsert|delete`."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from hearth.config import DEFAULT_DIR, DEFAULT_HTTP, Config


def _config(args: argparse.Namespace) -> Config:
    return Config(
        data_dir=Path(args.dir),
        db_url=args.db or os.environ.get("HEARTH_DB", ""),
        max_body_size=args.max_body_size,
    )


def _add_storage_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--dir", default=os.environ.get("HEARTH_DIR", DEFAULT_DIR), help="data directory (SQLite file)"
    )
    p.add_argument("--db", default="", help="database URL; postgresql://… switches to PostgreSQL")
    p.add_argument(
        "--max-body-size",
        type=int,
        default=int(os.environ.get("HEARTH_MAX_BODY_SIZE", 32 << 20)),
        help="largest accepted request body in bytes (default 32 MiB)",
    )


# Granian's own logging plus Hearth's loggers (`hearth.*`, e.g. mail not sent while SMTP is off),
# at INFO on stdout. Granian replaces its "loggers" with this whole mapping, so it repeats its own.
_LOGGING = {
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


def serve(args: argparse.Namespace) -> int:
    from granian import Granian
    from granian.constants import Interfaces

    config = _config(args)
    host, _, port = args.http.rpartition(":")
    os.environ.update(config.to_env())
    # Create tables once before the workers start, so they never race on a fresh database.
    from hearth.app import Hearth

    async def prepare() -> None:
        h = Hearth(config)
        await h.start()
        await h.stop()

    from hearth.errors import DatabaseUnavailable

    try:
        asyncio.run(prepare())
    except DatabaseUnavailable as exc:
        # Fail fast with one line: a running server survives outages, a starting one cannot
        # create its tables without the database.
        print(f"Error: cannot open the database: {exc.reason}", file=sys.stderr, flush=True)
        return 1
    print(
        f"Hearth serving http://{host or '127.0.0.1'}:{port} ({'PostgreSQL' if config.is_postgres else config.sqlite_path})",
        flush=True,
    )
    server = Granian(
        "hearth.http.server:create_app",
        address=host or "127.0.0.1",
        port=int(port),
        interface=Interfaces.ASGI,
        workers=args.workers,
        factory=True,
        log_access=False,
        log_dictconfig=_LOGGING,
    )
    server.serve()
    return 0


def superuser(args: argparse.Namespace) -> int:
    from hearth.admin_cli import delete_superuser, upsert_superuser
    from hearth.app import Hearth

    config = _config(args)

    async def run() -> int:
        h = Hearth(config)
        await h.start()
        try:
            if args.action == "upsert":
                await upsert_superuser(h, args.email, args.password)
                print(f"Successfully saved superuser {args.email}!")
            else:
                await delete_superuser(h, args.email)
                print(f"Successfully deleted superuser {args.email}!")
            return 0
        finally:
            await h.stop()

    try:
        return asyncio.run(run())
    except Exception as exc:  # surface validation errors as a CLI message
        from hearth.errors import ApiError

        if isinstance(exc, ApiError):
            print(f"Error: {exc.message} {exc.envelope()['data']}", file=sys.stderr)
            return 1
        raise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="hearth", description="Hearth: a PocketBase-compatible backend in Python."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p_serve = sub.add_parser("serve", help="start the HTTP server")
    p_serve.add_argument(
        "--http", default=DEFAULT_HTTP, help="HOST:PORT to listen on (default 127.0.0.1:8090)"
    )
    p_serve.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    _add_storage_flags(p_serve)
    p_serve.set_defaults(func=serve)

    p_su = sub.add_parser("superuser", help="manage superusers")
    su_sub = p_su.add_subparsers(dest="action", required=True)
    p_up = su_sub.add_parser("upsert", help="create or update a superuser")
    p_up.add_argument("email")
    p_up.add_argument("password")
    _add_storage_flags(p_up)
    p_del = su_sub.add_parser("delete", help="delete a superuser")
    p_del.add_argument("email")
    _add_storage_flags(p_del)
    p_su.set_defaults(func=superuser)

    args = parser.parse_args(argv)
    return int(args.func(args))
