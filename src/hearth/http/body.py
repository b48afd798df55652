"""Request bodies: JSON, multipart (with `@jsonPayload` parts) and urlencoded, size-limited."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.datastructures import UploadFile
from starlette.requests import Request

from hearth.errors import BadRequest, PayloadTooLarge

DEFAULT_MAX_BODY_SIZE = 32 << 20  # PocketBase's default
JSON_PAYLOAD = "@jsonPayload"
MAX_FORM_FIELDS = 1000


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


async def read_object(request: Request, limit: int = DEFAULT_MAX_BODY_SIZE) -> dict[str, Any]:
    """The body as a dict. An empty body is `{}` whatever its type; otherwise the type must be
    JSON, multipart or urlencoded (matched case-sensitively, as PocketBase does)."""
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("multipart/form-data"):
        return await _read_multipart(request, limit)
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


async def _read_multipart(request: Request, limit: int) -> dict[str, Any]:
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise PayloadTooLarge()
    try:
        form = await request.form(max_files=MAX_FORM_FIELDS, max_fields=MAX_FORM_FIELDS, max_part_size=limit)
    except Exception:  # python-multipart raises several types for malformed input
        raise BadRequest("Failed to read the submitted data.") from None
    items: list[tuple[str, Any]] = []
    payloads: list[dict[str, Any]] = []
    files: dict[str, list[UploadFile]] = {}
    for key, value in form.multi_items():
        if isinstance(value, UploadFile):
            files.setdefault(key, []).append(value)
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
    out = _form_to_dict(items)
    for payload in payloads:
        out.update(payload)
    if files:
        # Uploads are kept for the files issue; field values stay filenames meanwhile.
        request.state.uploads = files
    return out
