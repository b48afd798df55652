"""Hearth: an open-source backend that speaks PocketBase's HTTP API, on SQLite or PostgreSQL.

The public surface, for hooks files and for Hearth used as a library (docs/hooks.md). Everything
else is private and may change.
"""

from hearth.errors import ApiError, BadRequest, Forbidden, NotFound, TooManyRequests, Unauthorized
from hearth.extend.app import App
from hearth.extend.routes import RouteEvent, require_auth, require_superuser
from hearth.hooks.events import (
    AuthMail,
    BackupEvent,
    CollectionChange,
    CredentialCheck,
    FileDownload,
    JobRun,
    Lifecycle,
    RealtimeMessage,
    RecordCommitted,
    RecordEnrich,
    RecordFailed,
    RecordValidate,
    RecordWrite,
    RequestEvent,
    SessionEnded,
)
from hearth.http.responses import json as json_response
from hearth.version import __version__

__all__ = [
    "ApiError",
    "App",
    "AuthMail",
    "BackupEvent",
    "BadRequest",
    "CollectionChange",
    "CredentialCheck",
    "FileDownload",
    "Forbidden",
    "JobRun",
    "Lifecycle",
    "NotFound",
    "RealtimeMessage",
    "RecordCommitted",
    "RecordEnrich",
    "RecordFailed",
    "RecordValidate",
    "RecordWrite",
    "RequestEvent",
    "RouteEvent",
    "SessionEnded",
    "TooManyRequests",
    "Unauthorized",
    "__version__",
    "json_response",
    "require_auth",
    "require_superuser",
]
