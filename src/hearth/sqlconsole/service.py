"""`POST /api/sql`: a superuser's SQL run as written, as PocketBase 0.40's console runs it.

The answer is PocketBase's: `{"execTime", "affectedRows", "columns": [{"name", "type",
"nullable"}], "rows": [[…]]}` with every value as text (null stays null), at most 1000 rows, a
query of at most 5000 characters, cut off after 3 minutes; an engine error is a 400 carrying the
engine's text. Writes are not checked against anything: no API rule, hook, realtime event or
audit entry sees them (the request log does).
"""

from __future__ import annotations

import datetime
import time
from decimal import Decimal
from typing import Any

import orjson

from hearth.db.base import ConsoleError, Database
from hearth.errors import BadRequest, FieldError

MAX_ROWS = 1000
MAX_QUERY = 5000
TIMEOUT_S = 180.0


class SqlConsole:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def run(self, body: dict[str, Any]) -> dict[str, Any]:
        query = body.get("query", "")
        if query is None:
            query = ""
        if not isinstance(query, str):
            raise BadRequest("An error occurred while loading the submitted data.")
        if not query:
            raise _invalid(FieldError("validation_required", "Cannot be blank."))
        if len(query) > MAX_QUERY:
            raise _invalid(FieldError("validation_length_too_long", f"The length must be no more than {MAX_QUERY}.",
                                      {"max": MAX_QUERY, "min": 0}))  # fmt: skip
        started = time.perf_counter()
        try:
            result = await self.db.console(query, MAX_ROWS, TIMEOUT_S)
        except ConsoleError as exc:
            raise BadRequest(f"Failed to execute query. Raw error:\n{exc}") from exc
        return {
            "execTime": int((time.perf_counter() - started) * 1000),
            "affectedRows": result.affected,
            "columns": [{"name": name, "type": kind, "nullable": True} for name, kind in result.columns],
            "rows": [[_text(v) for v in row] for row in result.rows],
        }


def _invalid(error: FieldError) -> BadRequest:
    return BadRequest("An error occurred while validating the submitted data.", {"query": error})


def _text(value: Any) -> str | None:
    """A value as the console shows it: text, as PocketBase's (SQLite's) driver gives it."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, dict | list | tuple):
        return orjson.dumps(value, default=str).decode()
    return str(value)
