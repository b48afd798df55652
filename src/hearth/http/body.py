"""Request bodies: JSON, multipart (with `@jsonPayload` parts) and urlencoded, size-limited.

File storage is not built yet, so an uploaded file is never accepted: a multipart body with a
file part answers 400 (`uploads_refused`) before anything is written, rather than a 200 that
silently drops the file. Only /api/batch takes the parts (`uploads=True`) to refuse them in its
own envelope. A part with no file chosen (empty name and content, as browsers send an empty file
input) is no upload and is ignored.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.datastructures import UploadFile
from starlette.requests import Request

from hearth.errors import BadRequest, PayloadTooLarge
from hearth.schema.fields.file import uploads_refused

DEFAULT_MAX_BODY_SIZE = 32 << 20  # PocketBase's default
JSON_PAYLOAD = "@jsonPayload"
MAX_FORM_FIELDS = 1000
# Where the parsed body is kept: read once, shared by a request hook and the built-in handler.
BODY_KEY = "hearth.body"


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
    name to the uploaded file names (the files themselves are not kept)."""
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


async def _read_multipart(request: Request, limit: int, uploads: bool) -> dict[str, Any]:
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise PayloadTooLarge()
    try:
        form = await request.form(max_files=MAX_FORM_FIELDS, max_fields=MAX_FORM_FIELDS, max_part_size=limit)
    except Exception:  # python-multipart raises several types for malformed input
        raise BadRequest("Failed to read the submitted data.") from None
    try:
        items: list[tuple[str, Any]] = []
        payloads: list[dict[str, Any]] = []
        files: dict[str, list[str]] = {}
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                if value.filename or value.size:
                    files.setdefault(key, []).append(value.filename or "")
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
    finally:
        await form.close()
