"""Request bodies: JSON, multipart (with `@jsonPayload` parts) and urlencoded, size-limited.

Uploaded files are taken only where a route asks for them (`uploads=True`: record writes and the
batch); elsewhere a multipart body with a file part answers 400 before anything runs, rather than
a 200 that silently drops the file. Files are spooled to temporary files by the multipart parser
(in memory only up to its spool size) and become `hearth.files.upload.Upload`s in
`request.state.uploads`, by part name; the router closes them when the request is over. The
byte limit is enforced while the body streams in, whether or not a Content-Length was sent.
A part with no file chosen (empty name and content, as browsers send an empty file input) is no
upload and is ignored.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

import orjson
from python_multipart.multipart import parse_options_header
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.types import Message, Receive

from hearth.errors import BadRequest, FieldError, PayloadTooLarge
from hearth.files.upload import Upload

DEFAULT_MAX_BODY_SIZE = 32 << 20  # PocketBase's default
JSON_PAYLOAD = "@jsonPayload"
MAX_FORM_FIELDS = 1000
# Where the parsed body is kept: read once, shared by a request hook and the built-in handler.
BODY_KEY = "hearth.body"
# The parsed multipart form whose spooled files the router closes once the request is over.
FORM_KEY = "hearth.form"
UPLOADS_UNSUPPORTED = "This endpoint does not accept file uploads."


def uploads_refused(parts: list[str]) -> BadRequest:
    return BadRequest(
        UPLOADS_UNSUPPORTED,
        {name: FieldError("validation_file_not_accepted", "Files are not accepted here.") for name in parts},
    )


def _invalid() -> BadRequest:
    return BadRequest("Failed to load the submitted data due to invalid formatting.")


async def read_raw(request: Request, limit: int) -> bytes:
    length = request.headers.get("content-length")
    if length is not None:
        try:
            if int(length) > limit:
                raise PayloadTooLarge()
        except ValueError:
            raise _invalid() from None
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge()
        chunks.append(chunk)
    return b"".join(chunks)


async def read_object(
    request: Request, limit: int = DEFAULT_MAX_BODY_SIZE, *, uploads: bool = False
) -> dict[str, Any]:
    """The body as a dict. An empty body is `{}` whatever its type; otherwise the type must be
    JSON, multipart or urlencoded (matched case-sensitively, as PocketBase does). Uploaded files
    are refused with 400, unless `uploads`: then `request.state.uploads` maps each file part's
    name to its `Upload`s."""
    cached: dict[str, Any] | None = request.scope.get(BODY_KEY)
    if cached is None:
        cached = request.scope[BODY_KEY] = await _read_object(request, limit, uploads)
    return cached


async def _read_object(request: Request, limit: int, uploads: bool) -> dict[str, Any]:
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("multipart/form-data"):
        return await _read_multipart(request, limit, uploads)
    raw = await read_raw(request, limit)
    if not raw:
        return {}
    if ctype.startswith("application/x-www-form-urlencoded"):
        return _form_to_dict(_parse_urlencoded(raw))
    if not ctype.startswith("application/json"):
        raise BadRequest("Unsupported Content-Type.")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise _invalid() from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise _invalid()
    return data


def _parse_urlencoded(raw: bytes) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    try:
        return parse_qsl(raw.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    except (UnicodeDecodeError, ValueError):
        raise _invalid() from None


def _form_to_dict(items: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in items:
        if key in out:
            prev = out[key]
            out[key] = [*prev, value] if isinstance(prev, list) else [prev, value]
        else:
            out[key] = value
    return out


class _MultipartReceive:
    """`receive` for a multipart body: raises PayloadTooLarge once more than `limit` bytes came
    in, and notes whether the closing delimiter arrived (the parser silently drops a part cut
    off by the end of the body; a truncated body must be refused, not half taken)."""

    def __init__(self, receive: Receive, limit: int, boundary: bytes) -> None:
        self.receive = receive
        self.limit = limit
        self.size = 0
        self.closing = b"--" + boundary + b"--"
        self.tail = b""
        self.closed = False

    async def __call__(self) -> Message:
        message = await self.receive()
        if message["type"] == "http.request":
            chunk = message.get("body", b"")
            self.size += len(chunk)
            if self.size > self.limit:
                raise PayloadTooLarge()
            if not self.closed and chunk:
                window = self.tail + chunk
                self.closed = self.closing in window
                self.tail = window[-len(self.closing) :]
        return message


def _boundary(content_type: str) -> bytes:
    _, options = parse_options_header(content_type)
    return options.get(b"boundary", b"")


def _base_name(filename: str) -> str:
    """The name a client's file name stands for: its last `/` segment (as Go's multipart
    reader gives it to PocketBase)."""
    stripped = filename.rstrip("/")
    if not stripped:
        return "/" if filename else ""
    return stripped.rsplit("/", 1)[-1]


async def _read_multipart(request: Request, limit: int, uploads: bool) -> dict[str, Any]:
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise PayloadTooLarge()
    boundary = _boundary(request.headers.get("content-type", ""))
    receive = _MultipartReceive(request.receive, limit, boundary)
    try:
        form = await Request(request.scope, receive).form(
            max_files=MAX_FORM_FIELDS, max_fields=MAX_FORM_FIELDS, max_part_size=limit
        )
    except PayloadTooLarge:
        raise
    except Exception:  # python-multipart raises several types for malformed input
        raise BadRequest() from None  # PocketBase answers its generic 400 here
    request.scope[FORM_KEY] = form
    if receive.size and not receive.closed:  # (an empty body is `{}` whatever its type)
        raise BadRequest()
    items: list[tuple[str, Any]] = []
    payloads: list[dict[str, Any]] = []
    files: dict[str, list[Upload]] = {}
    for key, value in form.multi_items():
        if isinstance(value, UploadFile):
            name = _base_name(value.filename or "")
            if name or value.size:
                files.setdefault(key, []).append(Upload.from_file(name, value.size or 0, value.file))
            continue
        if key == JSON_PAYLOAD:
            try:
                data = orjson.loads(value)
            except orjson.JSONDecodeError:
                raise _invalid() from None
            if not isinstance(data, dict):
                raise _invalid()
            payloads.append(data)
            continue
        items.append((key, value))
    if files and not uploads:
        raise uploads_refused(list(files))
    out = _form_to_dict(items)
    for payload in payloads:
        out.update(payload)
    if files:
        request.state.uploads = files
    return out


def uploads_of(request: Request) -> dict[str, list[Upload]]:
    """The files of the body read with `uploads=True`, by part name (none: {})."""
    found: dict[str, list[Upload]] = getattr(request.state, "uploads", {})
    return found


async def close_form(scope: MutableMapping[str, Any]) -> None:
    """Remove the spooled files of a multipart body once its request is over."""
    form = scope.pop(FORM_KEY, None)
    if form is not None:
        await form.close()
