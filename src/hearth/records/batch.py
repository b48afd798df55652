"""`POST /api/batch`: several record writes in one transaction, all or nothing.

The request list is read the way PocketBase binds it (Go's `encoding/json`: keys matched
case-insensitively, a wrong JSON type anywhere is a read failure) and validated with its rules
(`requests` required and at most `maxRequests` long, each `method` one of five verbs, each `url`
non-empty and at most 2000 characters). Each sub-request is then matched against the four
record actions PocketBase allows in a batch and run through RecordService inside ONE
transaction, with its own RequestInfo (`@request.context = "batch"`). The batch's own auth
applies to every sub-request: PocketBase 0.40.6 copies the batch request's auth into each one,
so an `Authorization` in a sub-request's `headers` is visible to rules as a header but does not
change who is asking. The first failure rolls everything back and answers PocketBase's nested
envelope; so does running past `settings.batch.timeout`.

This module never sees HTTP: the route module reads the body and turns the outcomes into JSON.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from hearth.db.base import Transaction
from hearth.errors import ApiError, BadRequest, DatabaseUnavailable, FieldError, Forbidden, NotFound
from hearth.files.upload import Upload
from hearth.query.context import AuthState, RequestInfo
from hearth.records.files import batch_uploads
from hearth.records.passwords import Prehashed, prehash
from hearth.records.service import RecordService
from hearth.schema.collection import Collection

log = logging.getLogger("hearth")

READ_FAILED = "Failed to read the submitted batch data."
INVALID = "Invalid batch request data."
TRANSACTION_FAILED = "Batch transaction failed."
REQUEST_FAILED = "Batch request failed."
REQUEST_FAILED_CODE = "batch_request_failed"
NOT_ALLOWED = "Batch requests are not allowed."
MISSING_COLLECTION = "Missing collection context."

DEFAULT_TIMEOUT = 3  # seconds, when settings.batch.timeout is not positive
DEFAULT_MAX_BODY_SIZE = 128 << 20  # when settings.batch.maxBodySize is 0
MAX_URL_LENGTH = 2000
MAX_ID_LENGTH = 255
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")  # accepted by validation; GET has no action

# PocketBase's ValidBatchActions (apis/batch.go), matched on "METHOD URL". Go's `.` stops at "\n".
_RECORDS = r"/api/collections/(?P<collection>[^/?]+)/records"
_ID = r"/(?P<id>[^/?]+)"
_QUERY = r"(?P<query>\?[^\n]*)?"
_ACTIONS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("upsert", re.compile(f"PUT {_RECORDS}{_QUERY}")),
    ("create", re.compile(f"POST {_RECORDS}{_QUERY}")),
    ("update", re.compile(f"PATCH {_RECORDS}{_ID}{_QUERY}")),
    ("delete", re.compile(f"DELETE {_RECORDS}{_ID}{_QUERY}")),
)
_FILE_KEY = re.compile(r"^requests(?:\.(\d+)\.|\[(\d+)\]\.)(.+)$", re.S)


@dataclass(slots=True)
class SubRequest:
    """One entry of `requests`, as bound from the body."""

    method: str
    url: str
    body: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    # Files sent as `requests.N.<key>` / `requests[N].<key>`, by <key>.
    uploads: dict[str, list[Upload]] = field(default_factory=dict)


@dataclass(slots=True)
class Outcome:
    """A successful sub-request: 200 with a record (`values` as stored), or 204 for a delete."""

    status: int
    collection: Collection | None = None
    values: dict[str, Any] | None = None
    info: RequestInfo | None = None
    query: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Limits:
    max_requests: int
    timeout: float
    max_body_size: int


def limits(settings_batch: dict[str, Any]) -> Limits:
    """The batch settings, or 403 when batches are off (PocketBase also refuses maxRequests <= 0)."""
    max_requests = int(settings_batch.get("maxRequests") or 0)
    if not settings_batch.get("enabled") or max_requests <= 0:
        raise Forbidden(NOT_ALLOWED)
    timeout = float(settings_batch.get("timeout") or 0)
    body = int(settings_batch.get("maxBodySize") or 0)
    return Limits(
        max_requests=max_requests,
        timeout=timeout if timeout > 0 else DEFAULT_TIMEOUT,
        max_body_size=body if body > 0 else DEFAULT_MAX_BODY_SIZE,
    )


# ----- binding and validation ----------------------------------------------------------------
class _ReadError(Exception):
    pass


def _key(obj: dict[str, Any], name: str) -> Any:
    """Go's encoding/json: an exact or case-insensitive key match, the last one in the object wins."""
    found: Any = None
    for k, v in obj.items():
        if isinstance(k, str) and k.lower() == name:
            found = v
    return found


def _string(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _ReadError()
    return value


def _bind_one(item: Any) -> SubRequest:
    if item is None:
        item = {}  # PocketBase answers 500 here; an empty entry fails validation instead
    if not isinstance(item, dict):
        raise _ReadError()
    body = _key(item, "body")
    if body is None:
        body = {}
    elif not isinstance(body, dict):
        raise _ReadError()
    headers = _key(item, "headers")
    if headers is None:
        headers = {}
    elif not isinstance(headers, dict):
        raise _ReadError()
    return SubRequest(
        method=_string(_key(item, "method")),
        url=_string(_key(item, "url")),
        body=body,
        headers={str(k): _string(v) for k, v in headers.items()},
    )


def _too_long(limit: int) -> FieldError:
    return FieldError(
        "validation_length_too_long",
        f"The length must be no more than {limit}.",
        {"max": limit, "min": 0},
    )


def parse_requests(
    data: dict[str, Any], max_requests: int, uploads: dict[str, list[Upload]] | None = None
) -> list[SubRequest]:
    """`{"requests": [...]}` → sub-requests, or PocketBase's 400 envelopes. `uploads` (multipart
    file part name → files) go to the sub-request their name points at."""
    try:
        raw = _key(data, "requests")
        if raw is None:
            raw = []
        if not isinstance(raw, list):
            raise _ReadError()
        subs = [_bind_one(item) for item in raw]
    except _ReadError:
        raise BadRequest(READ_FAILED) from None
    if uploads:
        _assign_uploads(uploads, subs)
    if not subs:
        raise BadRequest(INVALID, {"requests": FieldError("validation_required", "Cannot be blank.")})
    if len(subs) > max_requests:
        raise BadRequest(INVALID, {"requests": _too_long(max_requests)})
    errors: dict[str, Any] = {}
    for i, sub in enumerate(subs):
        item: dict[str, Any] = {}
        if not sub.method:
            item["method"] = FieldError("validation_required", "Cannot be blank.")
        elif sub.method not in METHODS:
            item["method"] = FieldError("validation_in_invalid", "Must be a valid value.")
        if not sub.url:
            item["url"] = FieldError("validation_required", "Cannot be blank.")
        elif len(sub.url) > MAX_URL_LENGTH:
            item["url"] = _too_long(MAX_URL_LENGTH)
        if item:
            errors[str(i)] = item
    if errors:
        raise BadRequest(INVALID, {"requests": dict(sorted(errors.items()))})
    return subs


def _assign_uploads(uploads: dict[str, list[Upload]], subs: list[SubRequest]) -> None:
    """Files named `requests.N.<key>` or `requests[N].<key>` join sub-request N under <key>
    (what <key> may be is the record write's business); other names point nowhere and are
    ignored, as in PocketBase."""
    for name, files in uploads.items():
        m = _FILE_KEY.match(name)
        if m is None:
            continue
        index = int(m.group(1) or m.group(2))
        if index < len(subs):
            subs[index].uploads.setdefault(m.group(3), []).extend(files)


# ----- execution -----------------------------------------------------------------------------
class _SubFailed(Exception):
    def __init__(self, index: int, error: ApiError) -> None:
        super().__init__(error.message)
        self.index = index
        self.error = error


def _go_string(value: Any) -> str:
    """spf13/cast.ToString for the JSON values an upsert `id` can hold."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e21 else repr(value)
    return ""


def _match(target: str) -> tuple[str, re.Match[str]] | None:
    for action, pattern in _ACTIONS:
        m = pattern.fullmatch(target)
        if m is not None:
            return action, m
    return None


def _sorted_keys(value: Any) -> Any:
    """Go marshals maps with sorted keys; the nested envelope follows it (field errors included)."""
    if isinstance(value, dict):
        return {k: _sorted_keys(value[k]) for k in sorted(value)}
    return value


def _header_key(name: str) -> str:
    return name.lower().replace("-", "_")


class BatchService:
    def __init__(self, records: RecordService) -> None:
        self.records = records
        self.db = records.db
        self.collections = records.collections

    async def _run(
        self,
        subs: list[SubRequest],
        auth: AuthState,
        headers: dict[str, str],
        timeout: float,
    ) -> list[Outcome]:
        """The transaction itself; its writes' after-commit events run once it commits."""
        outcomes: list[Outcome] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with asyncio.timeout_at(deadline):  # the time limit covers the hashing too
            hashes = await self._prehash(subs)
        async with self.db.transaction() as tx:
            # asyncio.timeout interrupts awaits that really wait (PostgreSQL, bcrypt); the
            # explicit check covers SQLite, whose calls run inline and never yield.
            async with asyncio.timeout_at(deadline):
                for i, sub in enumerate(subs):
                    if loop.time() >= deadline:
                        raise TimeoutError()
                    outcomes.append(await self._one(tx, i, sub, auth, headers, hashes))
        return outcomes

    async def run(
        self,
        subs: list[SubRequest],
        auth: AuthState,
        headers: dict[str, str],
        timeout: float,
    ) -> list[Outcome]:
        """Run every sub-request in one transaction; any failure or the timeout rolls all back.

        `headers` are the batch request's own (already `@request.headers`-normalised); each
        sub-request's `headers` are laid over them, as PocketBase clones and then sets them.
        """
        try:
            return await self._run(subs, auth, headers, timeout)
        except _SubFailed as failed:
            raise BadRequest(
                TRANSACTION_FAILED,
                {
                    "requests": {
                        str(failed.index): {
                            "code": REQUEST_FAILED_CODE,
                            "message": REQUEST_FAILED,
                            "response": _sorted_keys(failed.error.envelope()),
                        }
                    }
                },
            ) from None
        except TimeoutError:
            raise BadRequest(TRANSACTION_FAILED) from None

    async def _prehash(self, subs: list[SubRequest]) -> Prehashed:
        """The passwords the batch sets, hashed before its transaction takes the write lock."""
        hashes: Prehashed = {}
        for sub in subs:
            found = _match(f"{sub.method} {sub.url}")
            c = self.collections.get(found[1].group("collection")) if found is not None else None
            if c is not None and c.is_auth:
                await prehash(c, sub.body, hashes)
        return hashes

    async def _one(
        self,
        tx: Transaction,
        index: int,
        sub: SubRequest,
        auth: AuthState,
        base_headers: dict[str, str],
        hashes: Prehashed,
    ) -> Outcome:
        try:
            return await self._dispatch(tx, sub, auth, base_headers, hashes)
        except DatabaseUnavailable:
            raise  # the whole batch answers 503 (rolled back), not a failed sub-request's 400
        except ApiError as exc:
            raise _SubFailed(index, exc) from exc
        except (_SubFailed, TimeoutError):
            raise
        except Exception as exc:
            # PocketBase turns any non-API error of a sub-request into a generic 400.
            log.exception("batch sub-request %d failed: %s %s", index, sub.method, sub.url[:200])
            raise _SubFailed(index, BadRequest()) from exc

    async def _dispatch(
        self,
        tx: Transaction,
        sub: SubRequest,
        auth: AuthState,
        base_headers: dict[str, str],
        hashes: Prehashed,
    ) -> Outcome:
        found = _match(f"{sub.method} {sub.url}")
        if found is None:
            raise BadRequest()  # "unknown batch request action" → the generic 400
        action, m = found
        c = self.collections.get(m.group("collection"))
        if c is None:
            raise NotFound(MISSING_COLLECTION)
        query = dict(parse_qsl((m.group("query") or "?")[1:], keep_blank_values=True))
        headers = dict(base_headers)
        headers.update({_header_key(k): v for k, v in sub.headers.items()})
        body = sub.body
        rid = m.group("id") if action in ("update", "delete") else ""
        method = sub.method
        if action == "upsert":
            # Update when `body.id` names an existing record (looked up without rules), else create.
            upsert_id = _go_string(body.get("id"))
            existing = None
            if upsert_id and len(upsert_id) <= MAX_ID_LENGTH and "\x00" not in upsert_id:
                existing = await self.records.reads.find_row(c, upsert_id, tx)
            if existing is not None:
                action, rid, method = "update", upsert_id, "PATCH"
            else:
                action, method = "create", "POST"
        info = RequestInfo(auth=auth, method=method, query=query, headers=headers, body=body, context="batch")
        data = batch_uploads(c, body, sub.uploads)
        if action == "create":
            values = await self.records.create(c, data, info, tx, hashes)
            return Outcome(200, c, values, info, query)
        if not rid or len(rid) > MAX_ID_LENGTH or "\x00" in rid:
            raise NotFound()
        if action == "update":
            values = await self.records.update(c, rid, data, info, tx, hashes)
            return Outcome(200, c, values, info, query)
        await self.records.delete(c, rid, info, tx)
        return Outcome(204, query=query)
