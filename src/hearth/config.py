"""Server configuration from CLI flags and environment (HEARTH_* variables).

The `parse_*` functions check one setting each and raise ConfigError with a message that names the
setting, says what is wrong and what would fit; the CLI prints it as one line.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_HTTP = "127.0.0.1:8090"
DEFAULT_DIR = "./hearth_data"
DEFAULT_MAX_BODY_SIZE = 32 << 20
# Seconds from SIGTERM/SIGINT to exit, at most. Under Docker's default 10 s stop grace period, so
# that a stop is never a SIGKILL (Kubernetes gives 30 s, systemd 90 s).
DEFAULT_SHUTDOWN_TIMEOUT = 8.0
# Seconds a user's hook handler or custom route may take (its next() included) before it is cut off.
DEFAULT_HOOK_TIMEOUT = 30.0
# Durable jobs one process runs at once (0: none; `hearth worker` processes run them).
DEFAULT_JOBS = 4
MAX_JOBS = 256
DEFAULT_JOB_LEASE = 30.0
LOG_FORMATS = ("text", "json")  # stdout: lines for people, or JSON lines for log shippers
HOOKS_DIR_NAME = "hearth_hooks"  # beside the data directory unless --hooks-dir says otherwise
MIGRATIONS_DIR_NAME = "hearth_migrations"  # beside the data directory unless --migrations-dir says otherwise
MAX_SHUTDOWN_TIMEOUT = 3600.0
POSTGRES_SCHEMES = ("postgres", "postgresql")
DB_URL_HELP = (
    "use postgresql://USER:PASSWORD@HOST:PORT/DATABASE for PostgreSQL, or no --db for SQLite in --dir"
)


class ConfigError(ValueError):
    """A setting Hearth cannot use; the message names it and what would fit."""


@dataclass(frozen=True, slots=True)
class Config:
    data_dir: Path = Path(DEFAULT_DIR)
    db_url: str = ""  # "" = SQLite in data_dir; postgresql://… = PostgreSQL
    max_body_size: int = DEFAULT_MAX_BODY_SIZE
    pg_pool_size: int = 10
    shutdown_timeout: float = DEFAULT_SHUTDOWN_TIMEOUT
    hooks_dir: Path | None = None  # None: HOOKS_DIR_NAME beside data_dir
    hook_timeout: float = DEFAULT_HOOK_TIMEOUT
    dev: bool = False  # reload the hooks folder when a file in it changes; write migration files
    migrations_dir: Path | None = None  # None: MIGRATIONS_DIR_NAME beside data_dir
    # OAuth2 avatar downloads may reach loopback/private addresses (an intranet identity provider;
    # tests). Off by default: a provider's avatar URL must not make the server fetch internal URLs.
    fetch_private: bool = False
    # Webhooks may be delivered to loopback/private addresses (receivers on the intranet; tests).
    # Apart from fetch_private: webhook URLs are set by superusers, avatar URLs by any provider.
    webhooks_private: bool = False
    jobs: int = DEFAULT_JOBS
    # Seconds a claimed job stays leased without a renewal: how soon a job whose process died
    # runs again elsewhere (renewed every third of it while the job runs).
    job_lease: float = DEFAULT_JOB_LEASE
    # The bearer token `GET /metrics` requires; "" turns metrics off (no route, no cost).
    metrics_token: str = ""
    log_format: str = "text"  # "json": stdout lines (request entries too) as JSON objects
    # GET /api/openapi.json for anyone, not only superusers (it shows the schema and the rules).
    openapi_public: bool = False

    @property
    def hooks_path(self) -> Path:
        return self.hooks_dir if self.hooks_dir is not None else self.data_dir.parent / HOOKS_DIR_NAME

    @property
    def migrations_path(self) -> Path:
        return self.migrations_dir if self.migrations_dir is not None else self.data_dir.parent / MIGRATIONS_DIR_NAME

    @property
    def is_postgres(self) -> bool:
        return self.db_url.startswith(("postgres://", "postgresql://"))

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "data.db"

    @property
    def data_identity(self) -> str:
        """What names this Hearth's data on this machine: the SQLite file's real path, or the
        PostgreSQL URL without its credentials. Processes that share it are one Hearth (the
        realtime channel between them is named after it)."""
        if self.is_postgres:
            parts = urlsplit(self.db_url)
            return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()
        return str(self.sqlite_path.resolve())

    def to_env(self) -> dict[str, str]:
        return {
            "HEARTH_DIR": str(self.data_dir),
            "HEARTH_DB": self.db_url,
            "HEARTH_MAX_BODY_SIZE": str(self.max_body_size),
            "HEARTH_PG_POOL_SIZE": str(self.pg_pool_size),
            "HEARTH_SHUTDOWN_TIMEOUT": str(self.shutdown_timeout),
            "HEARTH_HOOKS_DIR": str(self.hooks_path),
            "HEARTH_HOOK_TIMEOUT": str(self.hook_timeout),
            "HEARTH_DEV": "1" if self.dev else "",
            "HEARTH_MIGRATIONS_DIR": str(self.migrations_path),
            "HEARTH_FETCH_PRIVATE": "1" if self.fetch_private else "",
            "HEARTH_JOBS": str(self.jobs),
            "HEARTH_JOB_LEASE": str(self.job_lease),
            "HEARTH_WEBHOOKS_PRIVATE": "1" if self.webhooks_private else "",
            "HEARTH_METRICS_TOKEN": self.metrics_token,
            "HEARTH_LOG_FORMAT": self.log_format,
            "HEARTH_OPENAPI_PUBLIC": "1" if self.openapi_public else "",
        }

    @classmethod
    def from_env(cls) -> Config:
        env = os.environ.get
        return cls(
            data_dir=Path(env("HEARTH_DIR") or DEFAULT_DIR),
            db_url=parse_db_url(env("HEARTH_DB", ""), "HEARTH_DB"),
            max_body_size=parse_size(
                env("HEARTH_MAX_BODY_SIZE") or str(DEFAULT_MAX_BODY_SIZE), "HEARTH_MAX_BODY_SIZE"
            ),
            pg_pool_size=parse_pool_size(env("HEARTH_PG_POOL_SIZE") or "10"),
            shutdown_timeout=parse_seconds(
                env("HEARTH_SHUTDOWN_TIMEOUT") or str(DEFAULT_SHUTDOWN_TIMEOUT), "HEARTH_SHUTDOWN_TIMEOUT"
            ),
            hooks_dir=Path(env("HEARTH_HOOKS_DIR") or "") if env("HEARTH_HOOKS_DIR") else None,
            hook_timeout=parse_seconds(
                env("HEARTH_HOOK_TIMEOUT") or str(DEFAULT_HOOK_TIMEOUT), "HEARTH_HOOK_TIMEOUT"
            ),
            dev=(env("HEARTH_DEV") or "").lower() in ("1", "true", "yes"),
            migrations_dir=Path(env("HEARTH_MIGRATIONS_DIR") or "") if env("HEARTH_MIGRATIONS_DIR") else None,
            fetch_private=(env("HEARTH_FETCH_PRIVATE") or "").lower() in ("1", "true", "yes"),
            webhooks_private=(env("HEARTH_WEBHOOKS_PRIVATE") or "").lower() in ("1", "true", "yes"),
            jobs=parse_jobs(env("HEARTH_JOBS") or str(DEFAULT_JOBS), "HEARTH_JOBS"),
            job_lease=parse_seconds(env("HEARTH_JOB_LEASE") or str(DEFAULT_JOB_LEASE), "HEARTH_JOB_LEASE"),
            metrics_token=parse_metrics_token(env("HEARTH_METRICS_TOKEN") or "", "HEARTH_METRICS_TOKEN"),
            log_format=parse_log_format(env("HEARTH_LOG_FORMAT") or "text", "HEARTH_LOG_FORMAT"),
            openapi_public=(env("HEARTH_OPENAPI_PUBLIC") or "").lower() in ("1", "true", "yes"),
        )


def redact(url: str) -> str:
    """A database URL fit for a message: its password replaced by ***."""
    try:
        parts = urlsplit(url)
        if parts.password:
            netloc = parts.netloc.replace(":" + parts.password + "@", ":***@", 1)
            return parts._replace(netloc=netloc).geturl()
    except ValueError:
        pass
    return url


def parse_log_format(value: str, name: str = "--log-format") -> str:
    fmt = value.strip().lower()
    if fmt not in LOG_FORMATS:
        raise ConfigError(f"{name} {value!r} is not a log format; use one of: {', '.join(LOG_FORMATS)}")
    return fmt


def parse_db_url(value: str, name: str = "--db") -> str:
    """ "" (SQLite) or a postgresql:// URL; anything else is refused rather than ignored."""
    value = value.strip()
    if not value:
        return ""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number 0-65535
    except ValueError as exc:
        raise ConfigError(f"{name} {redact(value)!r} is not a valid URL ({exc}); {DB_URL_HELP}") from None
    scheme = parts.scheme.lower()
    if scheme in POSTGRES_SCHEMES:
        return value
    if not scheme or "://" not in value:
        raise ConfigError(f"{name} {redact(value)!r} is not a database URL; {DB_URL_HELP}")
    raise ConfigError(
        f"{name}: {scheme}:// databases are not supported (PostgreSQL and SQLite are); {DB_URL_HELP}"
    )


def _int(value: str, name: str, what: str) -> int:
    text = value.strip().replace("_", "")
    if not text.isdigit():
        raise ConfigError(f"{name} {value!r} is not {what}")
    return int(text)


def parse_size(value: str, name: str = "--max-body-size") -> int:
    size = _int(value, name, "a size in bytes (a whole number, e.g. 33554432 for 32 MiB)")
    if size < 1 or size > 1 << 40:
        raise ConfigError(f"{name} {value!r} is out of range: give 1 to {1 << 40} bytes")
    return size


# granian's (hyper's) per-connection HTTP/1 buffer: the largest request head it reads, and the
# most it reads or writes at once. The default is granian's. 8192 (its least) saves about 10 KiB
# per open connection, i.e. ~100 MB for 10,000 idle realtime clients, at the price of request heads
# over 8 KiB (431) and large uploads read 8 KiB at a time (measured: a 30 MB upload 0.17 s -> 0.93 s).
DEFAULT_HTTP_BUFFER_SIZE = 8192 + 4096 * 100
MIN_HTTP_BUFFER_SIZE = 8192
MAX_HTTP_BUFFER_SIZE = 64 << 20


def parse_http_buffer_size(value: str, name: str = "--http-buffer-size") -> int:
    size = _int(value, name, f"a size in bytes (a whole number from {MIN_HTTP_BUFFER_SIZE})")
    if size < MIN_HTTP_BUFFER_SIZE or size > MAX_HTTP_BUFFER_SIZE:
        raise ConfigError(
            f"{name} {value!r} is out of range: give {MIN_HTTP_BUFFER_SIZE} to {MAX_HTTP_BUFFER_SIZE} bytes"
        )
    return size


def parse_count(value: str, name: str, maximum: int = 1024, minimum: int = 1, why: str = "") -> int:
    count = _int(value, name, f"a whole number from {minimum} to {maximum}")
    if count < minimum or count > maximum:
        raise ConfigError(
            f"{name} {value!r} is out of range: give a whole number from {minimum} to {maximum}{why}"
        )
    return count


# A process holds up to three pool connections at once: one listens for other processes' changes,
# and a migration keeps its lock on a second while it works on a third. Fewer waited forever.
MIN_PG_POOL_SIZE = 3


def parse_pool_size(value: str, name: str = "HEARTH_PG_POOL_SIZE") -> int:
    why = " (one connection listens for changes, and a migration holds its lock on one while it works on another)"
    return parse_count(value, name, minimum=MIN_PG_POOL_SIZE, why=why)


def parse_jobs(value: str, name: str = "--jobs") -> int:
    count = _int(value, name, f"a whole number from 0 to {MAX_JOBS}")
    if count > MAX_JOBS:
        raise ConfigError(f"{name} {value!r} is out of range: give a whole number from 0 to {MAX_JOBS}")
    return count


def parse_seconds(value: str, name: str = "--shutdown-timeout") -> float:
    try:
        seconds = float(value.strip())
    except ValueError:
        raise ConfigError(f"{name} {value!r} is not a number of seconds (e.g. 8 or 2.5)") from None
    if not 0 < seconds <= MAX_SHUTDOWN_TIMEOUT:  # also refuses nan
        raise ConfigError(
            f"{name} {value!r} is out of range: give more than 0 and at most {MAX_SHUTDOWN_TIMEOUT:g} seconds"
        )
    return seconds


MIN_METRICS_TOKEN = 16


def parse_metrics_token(value: str, name: str = "--metrics-token") -> str:
    """"" (metrics off) or a token of at least MIN_METRICS_TOKEN visible characters: it is all
    that guards the instance's metrics, so a guessable one is refused."""
    token = value.strip()
    if not token:
        return ""
    if len(token) < MIN_METRICS_TOKEN or not token.isprintable() or any(c.isspace() for c in token):
        raise ConfigError(
            f"{name} must be at least {MIN_METRICS_TOKEN} characters without spaces "
            "(e.g. the output of `openssl rand -hex 32`)"
        )
    return token
