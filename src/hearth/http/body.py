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

import re
from collections.abc import MutableMapping
from typing import Any
from urllib.parse import unquote_to_bytes

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


LOAD_FAILED = "Failed to load the submitted data due to invalid formatting."
# PocketBase's message for a body it cannot load depends on the endpoint (each binds into its
# own form); routes pass theirs to `read_object`.
RECORD_LOAD_FAILED = "Something went wrong while processing your request."
FORM_LOAD_FAILED = "An error occurred while loading the submitted data."
COLLECTION_LOAD_FAILED = "Failed to load the collection type data due to invalid formatting."


def _invalid(message: str = LOAD_FAILED) -> BadRequest:
    return BadRequest(message)


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
    request: Request, limit: int = DEFAULT_MAX_BODY_SIZE, *, uploads: bool = False, message: str = LOAD_FAILED
) -> dict[str, Any]:
    """The body as a dict. An empty body is `{}` whatever its type; otherwise the type must be
    JSON, multipart or urlencoded (matched case-sensitively, as PocketBase does). Uploaded files
    are refused with 400, unless `uploads`: then `request.state.uploads` maps each file part's
    name to its `Upload`s. A body that cannot be loaded (bad JSON, a JSON object with a key
    twice, a bad percent-escape) answers 400 with `message`."""
    cached: dict[str, Any] | None = request.scope.get(BODY_KEY)
    if cached is None:
        try:
            cached = await _read_object(request, limit, uploads)
        except _Unloadable:
            raise _invalid(message) from None
        request.scope[BODY_KEY] = cached
    return cached


async def rules_body(request: Request, limit: int) -> dict[str, Any] | None:
    """The body a record read or delete carries, which rules see as `@request.body`. PocketBase
    parses it (a malformed one is a 400 even on GET); a urlencoded one only on POST, PUT and
    PATCH, as Go's ParseForm reads it. None when there is none (the common case: nothing read)."""
    headers = request.headers
    if headers.get("content-length", "0") in ("", "0") and "transfer-encoding" not in headers:
        return None
    urlencoded = headers.get("content-type", "").startswith("application/x-www-form-urlencoded")
    if urlencoded and request.method not in ("POST", "PUT", "PATCH"):
        return None
    return await read_object(request, limit, message=RECORD_LOAD_FAILED)


class _Unloadable(Exception):
    """The body is malformed; `read_object` answers with the route's message."""


async def _read_object(request: Request, limit: int, uploads: bool) -> dict[str, Any]:
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("multipart/form-data"):
        return await _read_multipart(request, limit, uploads)
    raw = await read_raw(request, limit)
    if not raw:
        return {}
    if ctype.startswith("application/x-www-form-urlencoded"):
        return _form_to_dict(parse_urlencoded(raw))
    if not ctype.startswith("application/json"):
        raise BadRequest("Unsupported Content-Type.")
    data = load_json(raw)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise _Unloadable()
    return data


def load_json(raw: bytes | str) -> Any:
    """JSON as PocketBase's decoder takes it: an object naming a key twice is refused (Go's
    json.Unmarshal would keep the last, but PocketBase answers 400), at any depth."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise _Unloadable() from None
    # Each key is followed by a colon outside any string, so a body with no more colons than
    # parsed keys has no duplicate; only otherwise is it decoded again, counting pairs.
    if isinstance(data, (dict, list)):
        colons = raw.count(b":") if isinstance(raw, bytes) else raw.count(":")
        if colons > _count_keys(data) and _has_duplicate_key(raw):
            raise _Unloadable()
    return data


def _count_keys(value: Any) -> int:
    n = 0
    stack = [value]
    pop, push = stack.pop, stack.extend
    while stack:
        v = pop()  # only dicts and lists are ever pushed
        if type(v) is dict:
            n += len(v)
            push([x for x in v.values() if type(x) is dict or type(x) is list])
        else:
            push([x for x in v if type(x) is dict or type(x) is list])
    return n


# The structural tokens of JSON text: a whole string (escapes included), or a bracket or comma.
_JSON_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[{}\[\],]', re.S)


def _has_duplicate_key(raw: bytes | str) -> bool:
    """Whether any object of `raw` (JSON known to parse) names a key twice, keys compared as
    decoded. A scan over its tokens with a stack of its own: a recursive decoder would overflow
    Python's stack on the 1,000 levels of nesting a body may have."""
    import json

    text = raw.decode() if isinstance(raw, bytes) else raw
    stack: list[set[str] | None] = []  # per open container: its keys so far (None: an array)
    expect_key = False
    for m in _JSON_TOKEN.finditer(text):
        token = m.group()
        if token[0] == '"':
            if expect_key:
                key = json.loads(token) if "\\" in token else token[1:-1]
                keys = stack[-1]
                assert keys is not None
                if key in keys:
                    return True
                keys.add(key)
                expect_key = False
        elif token == "{":
            stack.append(set())
            expect_key = True
        elif token == "[":
            stack.append(None)
        elif token == ",":
            expect_key = bool(stack) and stack[-1] is not None
        else:
            stack.pop()
            expect_key = False
    return False


_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def parse_urlencoded(raw: bytes) -> list[tuple[str, str]]:
    """Pairs of a urlencoded body, decoded as Go's url.ParseQuery does: a malformed
    percent-escape or a `;` separator makes the whole body unloadable (Python's parse_qsl would
    keep the escape as text); bytes that are not UTF-8 become U+FFFD."""
    text = raw.decode("latin-1")
    out: list[tuple[str, str]] = []
    for part in text.split("&"):
        if not part:
            continue
        if ";" in part or _BAD_ESCAPE.search(part):
            raise _Unloadable()
        key, _, value = part.partition("=")
        out.append((_unquote(key), _unquote(value)))
        if len(out) > MAX_FORM_FIELDS:
            raise _Unloadable()
    return out


def query_pairs(raw: bytes) -> list[tuple[str, str]]:
    """A URL's query as Go's URL.Query() reads it for PocketBase: a pair with a malformed
    percent-escape or a `;` is left out (the others kept), never taken as literal text."""
    out: list[tuple[str, str]] = []
    for part in raw.decode("latin-1").split("&"):
        if not part or ";" in part or _BAD_ESCAPE.search(part):
            continue
        key, _, value = part.partition("=")
        out.append((_unquote(key), _unquote(value)))
    return out


def _unquote(text: str) -> str:
    return unquote_to_bytes(text.replace("+", " ")).decode("utf-8", "replace")


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
            data = load_json(value)
            if not isinstance(data, dict):
                raise _Unloadable()
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
