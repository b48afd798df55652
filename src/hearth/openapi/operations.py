"""Operations (issue 14): request logs and backups (PocketBase's API), Hearth's audit trail and the
Prometheus metrics, each as its handler and service answer (`http/routes/logs.py`, `backups.py`,
`audit.py`, `metrics.py`)."""

from __future__ import annotations

from typing import Any

from hearth.openapi import common
from hearth.openapi.common import BOOLEAN, FIELDS, FILTER, PAGE, SKIP_TOTAL, STRING, Schema, closed, ref
from hearth.openapi.system import superuser_op

METRICS_SCHEME = "metricsToken"
MAX_NAME = 150  # backups/archive.py's MAX_NAME (a sibling layer: not imported)
TAGS = [
    {"name": "logs", "description": "Request logs and the application's log entries (superusers only)."},
    {"name": "backups", "description": "Backups: list, create, upload, download, delete, restore (superusers only)."},
    {"name": "audit", "description": "Hearth's audit trail of record, schema and settings changes (superusers only)."},
    {"name": "metrics", "description": "Prometheus metrics (the metrics token, not an auth token)."},
]

_DATETIME = {"type": "string", "description": "PocketBase's datetime form: `2026-01-02 15:04:05.000Z`."}
_PER_PAGE = common.query("perPage", {"type": "integer", "minimum": 1, "maximum": 1000, "default": 30},
                         "Items per page (at most 1000; more is read as 1000).")  # fmt: skip
_SORT = common.query("sort", STRING, "Comma-separated fields, `-` before a field for descending order.")
_LOG_EXAMPLE = {
    "id": "ai5z3aoed6809au", "created": "2026-01-02 15:04:05.123Z", "level": 0, "message": "GET /api/health",
    "data": {"type": "request", "execTime": 0.4, "url": "/api/health", "method": "GET", "status": 200,
             "referer": "", "userAgent": "curl/8.5.0", "userIP": "127.0.0.1", "remoteIP": "127.0.0.1"},
}  # fmt: skip
_AUDIT_EXAMPLE = {
    "id": "42", "created": "2026-01-02 15:04:05.123Z", "collectionRef": "pbc_1234567890", "collection": "posts",
    "record": "r1a2b3c4d5e6f7g", "action": "update", "actorType": "superuser", "actorId": "s1a2b3c4d5e6f7g",
    "actorCollection": "_superusers", "ip": "127.0.0.1", "userAgent": "curl/8.5.0",
    "before": {"title": "Old"}, "after": {"title": "New"},
}  # fmt: skip
_AUDIT_SETTINGS_EXAMPLE = {"collections": ["posts"], "schema": True, "settings": False, "retentionDays": 90}


def components() -> dict[str, Schema]:
    audit_text = {
        name: STRING
        for name in ("collectionRef", "collection", "record", "actorId", "actorCollection", "ip", "userAgent")
    }
    change = {"type": ["object", "null"], "description": "Field values (secrets as `[redacted]`); null on "
              "this side of a create (`before`) or a delete (`after`)."}  # fmt: skip
    return {
        "LogEntry": closed(
            {"id": STRING, "created": _DATETIME,
             "level": {"type": "integer", "description": "-4 debug, 0 info, 4 warn, 8 error."},
             "message": STRING,
             "data": {"type": "object", "description": "A request's `type: request`, `url`, `method`, "
                      "`status`, `execTime`, IPs, `auth`, `error`…; a log record's own attributes."}},
            required=[], description="Every key is present unless `?fields=` leaves it out.",
            examples=[_LOG_EXAMPLE],
        ),  # fmt: skip
        "LogStats": {
            "type": "array",
            "description": "Entries per hour, oldest first (hours without entries left out).",
            "items": closed({"total": {"type": "integer", "minimum": 1}, "date": _DATETIME}),
            "examples": [[{"total": 12, "date": "2026-01-02 15:00:00.000Z"}]],
        },
        "Backup": closed(
            {"key": STRING, "size": {"type": "integer", "minimum": 0, "description": "Bytes."}, "modified": _DATETIME},
            examples=[{"key": "pb_backup_20260102150405.zip", "size": 43210, "modified": "2026-01-02 15:04:06.000Z"}],
        ),
        "AuditEntry": closed(
            {"id": {"type": "string", "pattern": "^[0-9]+$", "description": "Growing with time."},
             "created": _DATETIME, **audit_text,
             "action": {"type": "string", "enum": ["create", "update", "delete"]},
             "actorType": {"type": "string", "enum": ["superuser", "record", "apiKey", "guest", "job", "cli", "installer", "system"]},
             "before": change, "after": change},
            examples=[_AUDIT_EXAMPLE],
        ),  # fmt: skip
        "AuditSettings": closed(
            {"collections": {"type": "array", "items": STRING, "description": "The audited collections' names."},
             "schema": {"type": "boolean", "description": "Collection changes are audited."},
             "settings": {"type": "boolean", "description": "Settings changes are audited."},
             "retentionDays": {"type": "integer", "minimum": 0, "maximum": 36500,
                               "description": "Days entries are kept; 0: for ever."}},
            examples=[_AUDIT_SETTINGS_EXAMPLE],
        ),  # fmt: skip
    }


def security_schemes() -> dict[str, Any]:
    return {
        METRICS_SCHEME: {
            "type": "http",
            "scheme": "bearer",
            "description": "The metrics token the server runs with (`--metrics-token` / HEARTH_METRICS_TOKEN).",
        }
    }


def paths() -> dict[str, dict[str, Any]]:
    return {**_logs(), **_backups(), **_audit(), **_metrics()}


def _logs() -> dict[str, dict[str, Any]]:
    entry = ref("LogEntry")
    return {
        "/api/logs": {
            "get": superuser_op("logs.list", "logs", "List log entries (oldest first unless sorted)",
                       {**common.ok(common.page_of(entry)), **common.errors(400)},
                       parameters=[PAGE, _PER_PAGE, _SORT, FILTER, FIELDS, SKIP_TOTAL],
                       description="Filter and sort by `id`, `created`, `level`, `message` and "
                       "`data.*` (e.g. `data.status >= 400`)."),
        },
        "/api/logs/stats": {
            "get": superuser_op("logs.stats", "logs", "Log entries per hour",
                       {**common.ok(ref("LogStats")), **common.errors(400)},
                       parameters=[common.query("filter", STRING, "Count only the entries it matches.")]),
        },
        "/api/logs/{id}": {
            "get": superuser_op("logs.view", "logs", "View a log entry", {**common.ok(entry), **common.errors(404)},
                       parameters=[common.path("id", "The entry id."), FIELDS]),
        },
    }  # fmt: skip


def _backups() -> dict[str, dict[str, Any]]:
    key = common.path("key", "The backup's file name.")
    binary = {"type": "string", "format": "binary"}
    name = {"type": "string", "maxLength": MAX_NAME, "pattern": r"^[a-z0-9_-]+\.zip$",
            "description": "The file name; generated (`pb_backup_<time>.zip`) when absent or empty."}  # fmt: skip
    return {
        "/api/backups": {
            "get": superuser_op("backups.list", "backups", "List backups, by key",
                       common.ok({"type": "array", "items": ref("Backup")})),
            "post": superuser_op("backups.create", "backups", "Take a backup now (the answer waits for it)",
                        {**common.no_content("Taken."), **common.errors(400)},
                        requestBody=common.body(closed({"name": name}, required=[]), required=False,
                                                example={"name": "before_upgrade.zip"}),
                        description="400 while another backup or restore runs."),
        },  # fmt: skip
        "/api/backups/upload": {
            "post": superuser_op("backups.upload", "backups", "Add a backup archive from a file",
                        {**common.no_content("Stored."), **common.errors(400)},
                        requestBody={"required": True, "content": {"multipart/form-data": {
                            "schema": closed({"file": binary}),
                            "encoding": {"file": {"contentType": "application/zip"}}}}},
                        description="The `file` part must be a ZIP archive (its content is sniffed, not "
                        "its declared type), named as no existing backup (a name holding a folder or "
                        "starting with a dot is refused); the body size limit does not apply."),
        },  # fmt: skip
        "/api/backups/{key}": {
            "get": {
                "operationId": "backups.download",
                "tags": ["backups"],
                "summary": "Download a backup",
                "description": "Access: **a superuser's file token** in `?token=` (POST /api/files/token); "
                "the Authorization header is not read. Ranges and conditional requests are honoured.",
                "parameters": [key, common.query("token", STRING, "A superuser's file token.")],
                "security": [{}],
                "responses": {
                    "200": {"description": "The archive.", "content": {"application/zip": {"schema": binary}}},
                    "206": {"description": "A range of it.", "content": {"application/zip": {"schema": binary}}},
                    "304": {"description": "Not modified."},
                    **common.errors(400, 403, 404),
                    "416": {"description": "The range cannot be satisfied.", "content": {"text/plain": {"schema": STRING}}},
                },
            },  # fmt: skip
            "delete": superuser_op("backups.delete", "backups", "Delete a backup",
                          {**common.no_content("Deleted."), **common.errors(400, 404)}, parameters=[key],
                          description="400 for a missing key or the backup being restored; 404 for a "
                          "key holding `/` (no such route)."),
        },  # fmt: skip
        "/api/backups/{key}/restore": {
            "post": superuser_op("backups.restore", "backups", "Restore a backup (the server restarts on it)",
                        {**common.no_content("Restore started."), **common.errors(400, 404)}, parameters=[key],
                        description="Answers when the restore has started; 400 for a missing backup or "
                        "while another backup or restore runs; 404 for a key holding `/` (no such route)."),
        },  # fmt: skip
    }


def _audit() -> dict[str, dict[str, Any]]:
    entry, settings = ref("AuditEntry"), ref("AuditSettings")
    return {
        "/api/hearth/audit": {
            "get": superuser_op("audit.list", "audit", "List audit entries (newest first after the sort)",
                       {**common.ok(common.page_of(entry)), **common.errors(400)},
                       parameters=[PAGE, _PER_PAGE,
                                   common.query("sort", STRING, "Comma-separated columns (`id`, `created`, "
                                                "`collection`, `action`, `actorType`…), `-` for descending."),
                                   common.query("filter", STRING, "A filter over the columns, `before.*`/`after.*` "
                                                "too (e.g. `collection = \"posts\" && action = \"delete\"`)."),
                                   SKIP_TOTAL]),
        },
        "/api/hearth/audit/settings": {
            "get": superuser_op("audit.settings", "audit", "What is audited", common.ok(settings)),
            "patch": superuser_op("audit.updateSettings", "audit", "Change what is audited (keys left out are kept)",
                         {**common.ok(settings), **common.errors(400, 413)},
                         requestBody=common.body(closed(
                             {"collections": {"type": "array", "items": STRING,
                                              "description": "Names or ids of writable (non-view) collections; "
                                              "replaces the list."},
                              "schema": BOOLEAN, "settings": BOOLEAN,
                              "retentionDays": {"type": "integer", "minimum": 0, "maximum": 36500}},
                             required=[]), required=False, example=_AUDIT_SETTINGS_EXAMPLE)),
        },
        "/api/hearth/audit/{id}": {
            "get": superuser_op("audit.view", "audit", "View an audit entry", {**common.ok(entry), **common.errors(404)},
                       parameters=[common.path("id", "The entry id (digits).")]),
        },
    }  # fmt: skip


def _metrics() -> dict[str, dict[str, Any]]:
    not_found = {"description": "No metrics token is configured: answered as an unknown path.",
                 "content": common.json_content(common.ERROR_REF)}  # fmt: skip
    return {
        "/metrics": {
            "get": {
                "operationId": "metrics",
                "tags": ["metrics"],
                "summary": "Prometheus metrics (text exposition format 0.0.4)",
                "description": "Access: `Authorization: Bearer <metrics token>`. Answers while the "
                "database is away (`hearth_database_up 0`).",
                "security": [{METRICS_SCHEME: []}],
                "responses": {
                    "200": {"description": "The metrics.", "content": {"text/plain": {
                        "schema": STRING, "example": "# TYPE hearth_database_up gauge\nhearth_database_up 1.0\n"}}},
                    "401": {"description": "The metrics token is missing or wrong.",
                            "content": common.json_content(common.ERROR_REF)},
                    "404": not_found,
                },
            }
        },
    }  # fmt: skip

