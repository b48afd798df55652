"""`GET`/`HEAD /api/files/{collection}/{recordId}/{filename}`: a record's file, streamed.

As PocketBase 0.40.6 serves it (compared with the real binary): `?thumb=` for images, `?download=1`
for an attachment, `?token=` (a file token) for a protected file; headers: Content-Disposition
(inline only for media and PDF), Content-Security-Policy that lets no uploaded HTML or SVG run
script, Cache-Control for 30 days, no X-Frame-Options (files may be embedded). HTTP caching and
ranges as Go's http.ServeContent: Last-Modified, If-Modified-Since/If-Unmodified-Since, one
`Range` (206, or 416 with `bytes */size`; several ranges get the whole file), If-Range. Beyond
PocketBase: a strong ETag (size and modification time) with If-None-Match/If-Match.
The body streams from storage chunk by chunk; a range is read from storage as a range.
"""

from __future__ import annotations

import posixpath
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from email.utils import formatdate, parsedate_to_datetime
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from hearth.auth import tokens
from hearth.errors import NotFound
from hearth.files.storage import (
    Download,
    FileInfo,
    FileNotFound,
    InvalidKey,
    Storage,
    StorageError,
    check_key,
)
from hearth.files.thumbs import IMAGE_TYPES, allowed_size, thumb_key
from hearth.hooks.events import FileDownload
from hearth.http.context import hearth, request_info
from hearth.http.headers import FILE_SECURITY_HEADERS
from hearth.http.router import route
from hearth.query.context import GUEST, AuthState
from hearth.records.files import StorageFailed

MISSING_COLLECTION = "Missing or invalid collection context."
CSP = "default-src 'none'; media-src 'self'; style-src 'unsafe-inline'; sandbox"
CACHE_CONTROL = "max-age=2592000, stale-while-revalidate=86400"
# Served inline (shown by the browser); anything else is an attachment (downloaded).
INLINE_TYPES = frozenset(
    {
        "image/png", "image/jpg", "image/jpeg", "image/gif", "image/webp", "image/x-icon", "image/bmp",
        "video/webm", "video/mp4", "video/3gpp", "video/quicktime", "video/x-ms-wmv",
        "audio/basic", "audio/aiff", "audio/mpeg", "audio/midi", "audio/mp3", "audio/wave",
        "audio/wav", "audio/x-wav", "audio/x-mpeg", "audio/x-m4a", "audio/aac",
        "application/pdf", "application/x-pdf",
    }
)  # fmt: skip
# The Content-Type sent for these extensions whatever was detected (PocketBase's list).
EXTENSION_TYPES = {
    ".svg": "image/svg+xml",
    ".css": "text/css",
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
_TRUE = ("1", "t", "T", "TRUE", "true", "True")


SMALL_BODY = 256 * 1024  # bytes served as one body rather than streamed


class _Streamed(StreamingResponse):
    security_headers = FILE_SECURITY_HEADERS


class _Plain(Response):
    security_headers = FILE_SECURITY_HEADERS


async def download(request: Request) -> Response:
    h = hearth(request)
    await h.collections.refresh()
    params = request.path_params
    c = h.collections.get(params["collection"])
    if c is None:
        raise NotFound(MISSING_COLLECTION)

    async def requester() -> AuthState:
        token = request.query_params.get("token", "")
        state = await h.auth.verify(token, tokens.FILE) if token else None
        return state or GUEST

    found = await h.downloads.find(
        c, params["recordId"], params["filename"], requester, lambda auth: request_info(request, auth)
    )
    storage = await h.storage()
    event = FileDownload(c, request, found.record, found.field, found.key, found.name)
    ready: Download | FileInfo | None = None  # the thumb, looked up already
    ready_key = ""
    thumb = request.query_params.get("thumb", "")
    if thumb:
        size = allowed_size(thumb, list(found.field.options.get("thumbs") or []))
        key = thumb_key(found.key, thumb) if size is not None else ""
        if size is not None:
            # A thumb is made once and never changes: look for it first, so serving a cached
            # thumb is one storage call (it exists only if the original is an image).
            ready = await _lookup(request, storage, key)
        if ready is not None:
            event.served_key, event.served_name = key, f"{thumb}_{found.name}"
            ready_key = key
        elif size is not None and (original := await _info(storage, found.key)).content_type in IMAGE_TYPES:
            if await h.thumbs.ensure(storage, found.key, original.content_type, thumb, size) is not None:
                event.served_key, event.served_name = key, f"{thumb}_{found.name}"
            else:
                event.thumb_error = f"the thumb {thumb} could not be made"
        else:
            event.thumb_error = f"the thumb size {thumb!r} or the original file format are not supported"

    async def serve(e: FileDownload) -> None:
        nonlocal ready
        mine = ready if e.served_key == ready_key else None
        ready = None  # used, or to be discarded below
        e.response = await _serve(request, storage, e.served_key, e.served_name, mine)

    try:
        await h.hooks.file_download_request.trigger(event, serve)
    finally:
        if isinstance(ready, Download):  # a handler answered without serving it
            await _discard(ready)
    response: Response | None = event.response
    return response if response is not None else _Plain(status_code=204)


def _plain_get(request: Request) -> bool:
    """A GET of the whole file: the metadata and the content are fetched in one storage call."""
    return request.method == "GET" and "range" not in request.headers


async def _lookup(request: Request, storage: Storage, key: str) -> Download | FileInfo | None:
    """The file under `key` (opened for a plain GET, its metadata otherwise), or None."""
    try:
        return await (storage.open(key) if _plain_get(request) else storage.info(key))
    except (FileNotFound, InvalidKey):
        return None
    except StorageError:
        raise StorageFailed("The file storage is unavailable; try again later.") from None


async def _info(storage: Storage, key: str) -> FileInfo:
    try:
        return await storage.info(check_key(key))
    except (FileNotFound, InvalidKey):
        raise NotFound() from None
    except StorageError:
        raise StorageFailed("The file storage is unavailable; try again later.") from None


async def _serve(request: Request, storage: Storage, key: str, name: str,
                 ready: Download | FileInfo | None = None) -> Response:
    early: Download | None = ready if isinstance(ready, Download) else None
    if early is not None:
        info = early.info
    elif isinstance(ready, FileInfo):
        info = ready
    elif _plain_get(request):
        # The common GET: open at once (metadata and, for a small file, its content in one
        # storage call) instead of asking for the metadata first.
        early = await _open(storage, key)
        info = early.info
    else:
        info = await _info(storage, key)
    real_type = info.content_type
    forced = request.query_params.get("download", "") in _TRUE
    disposition = "inline" if not forced and real_type in INLINE_TYPES else "attachment"
    headers = {
        "content-disposition": _disposition(disposition, name),
        "content-security-policy": CSP,
        "cache-control": CACHE_CONTROL,
        "last-modified": _http_date(info.modified),
        "etag": _etag(info),
    }
    status = _preconditions(request, info)
    if status is not None:
        if early is not None:
            await _discard(early)
        return _Plain(status_code=status, headers=headers)
    headers["accept-ranges"] = "bytes"
    headers["content-type"] = EXTENSION_TYPES.get(posixpath.splitext(key)[1].lower(), real_type)
    start, end, status = 0, info.size, 200
    wanted = _range(request, info)
    if isinstance(wanted, str):  # unsatisfiable
        del headers["accept-ranges"]
        headers["content-type"] = "text/plain; charset=utf-8"
        headers["content-range"] = f"bytes */{info.size}"
        return _Plain(b"invalid range: failed to overlap\n", status_code=416, headers=headers)
    if wanted is not None:
        start, end = wanted
        status = 206
        headers["content-range"] = f"bytes {start}-{end - 1}/{info.size}"
    headers["content-length"] = str(end - start)
    if request.method == "HEAD":
        return _Plain(status_code=status, headers=headers)
    opened = early if early is not None else await _open(storage, key, start, end if status == 206 else None)
    if end - start <= SMALL_BODY:
        # A small file (avatars, thumbs) in one body: a streamed response costs a task group
        # and a disconnect listener per request, several times the cost of the read itself.
        body = b"".join([chunk async for chunk in _exactly(opened.chunks, end - start)])
        return _Plain(body, status_code=status, headers=headers)
    return _Streamed(_exactly(opened.chunks, end - start), status_code=status, headers=headers)


async def _open(storage: Storage, key: str, start: int = 0, end: int | None = None) -> Download:
    try:
        return await storage.open(check_key(key), start, end)
    except (FileNotFound, InvalidKey):
        raise NotFound() from None
    except StorageError:
        raise StorageFailed("The file storage is unavailable; try again later.") from None


async def _discard(opened: Download) -> None:
    aclose = getattr(opened.chunks, "aclose", None)
    if aclose is not None:
        await aclose()


async def _exactly(chunks: AsyncIterator[bytes], size: int) -> AsyncIterator[bytes]:
    """The announced Content-Length and no more (the file may have been replaced meanwhile)."""
    left = size
    try:
        async for chunk in chunks:
            if left <= 0:
                break
            if len(chunk) > left:
                chunk = chunk[:left]
            left -= len(chunk)
            yield chunk
    finally:
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            await aclose()


def _disposition(kind: str, name: str) -> str:
    if name.isascii() and name.isprintable():  # the usual stored name: nothing to replace
        ascii_name = name
    else:
        ascii_name = "".join(ch if 0x20 <= ord(ch) < 0x7F else "_" for ch in name)
    value = f'{kind}; filename="{ascii_name.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
    if ascii_name != name:
        value += f"; filename*=UTF-8''{quote(name, safe='')}"
    return value


def _http_date(moment: datetime) -> str:
    return formatdate(moment.timestamp(), usegmt=True)


def _etag(info: FileInfo) -> str:
    return f'"{info.size:x}-{int(info.modified.timestamp() * 1_000_000):x}"'


def _parse_date(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _etags(header: str) -> list[str]:
    return [t.strip() for t in header.split(",") if t.strip()]


def _seconds(info: FileInfo) -> datetime:
    return info.modified.astimezone(UTC).replace(microsecond=0)


def _preconditions(request: Request, info: FileInfo) -> int | None:
    """412 or 304 when the request's conditions say so (RFC 9110 §13.2.2's order), else None."""
    etag = _etag(info)
    if_match = request.headers.get("if-match")
    if if_match is not None:
        tags = _etags(if_match)
        if "*" not in tags and etag not in tags:  # strong comparison
            return 412
    else:
        since = _parse_date(request.headers.get("if-unmodified-since"))
        if since is not None and _seconds(info) > since:
            return 412
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        tags = [t.removeprefix("W/") for t in _etags(if_none_match)]
        if "*" in tags or etag in tags:  # weak comparison
            return 304 if request.method in ("GET", "HEAD") else 412
        return None
    since = _parse_date(request.headers.get("if-modified-since"))
    if since is not None and _seconds(info) <= since:
        return 304
    return None


def _range(request: Request, info: FileInfo) -> tuple[int, int] | str | None:
    """The one byte range to send ([start, end)), "unsatisfiable", or None for the whole file."""
    header = request.headers.get("range", "")
    if not header.startswith("bytes="):
        return None
    if_range = request.headers.get("if-range")
    if if_range is not None:
        if if_range.startswith(('"', "W/")):
            if if_range != _etag(info):
                return None
        elif _parse_date(if_range) != _seconds(info):
            return None
    specs = [s.strip() for s in header[6:].split(",") if s.strip()]
    size = info.size
    ranges: list[tuple[int, int]] = []
    for spec in specs:
        first, sep, last = spec.partition("-")
        if not sep or (first and not first.isdigit()) or (last and not last.isdigit()) or not (first or last):
            return None  # malformed: the whole file
        if not first:
            n = int(last)
            if n == 0:
                continue
            ranges.append((max(0, size - n), size))
        else:
            start = int(first)
            if start >= size:
                continue
            end = size if not last else min(size, int(last) + 1)
            if end <= start:
                return None
            ranges.append((start, end))
    if not ranges:
        # An empty file ignores ranges (as Go does: some clients send one with every request).
        return None if size == 0 else "unsatisfiable"
    if len(specs) > 1:
        return None  # several ranges: the whole file (multipart/byteranges is not sent)
    return ranges[0]


routes = [
    route("GET", "/api/files/{collection}/{recordId}/{filename}", download),
]
