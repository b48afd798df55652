"""`GET`/`HEAD /api/files/...` and file tokens, black-box over HTTP: files uploaded by multipart
record writes are served back with PocketBase's headers, thumbs, ranges, conditional requests and
protected-file rules; on SQLite and PostgreSQL, from local disk and from S3 (moto's server)."""

from __future__ import annotations

import asyncio
import io
import json
import time
from typing import Any

import httpx
import jwt
import pytest
from PIL import Image

from hearth.auth import tokens
from hearth.hooks.events import FileDownload
from hearth.records import downloads
from tests.conftest import OPEN, Api, unique
from tests.unit.test_file_storage import _make_bucket, moto_endpoint  # noqa: F401 (a fixture)

CSP = "default-src 'none'; media-src 'self'; style-src 'unsafe-inline'; sandbox"
CACHE = "max-age=2592000, stale-while-revalidate=86400"
THUMBS = ["50x50", "60x0", "0x60", "80x40t", "80x40b", "80x40f"]


def image(fmt: str, size: tuple[int, int] = (300, 200)) -> bytes:
    im = Image.new("RGB", size, (200, 30, 30))
    for i in range(min(size)):
        im.putpixel((i, i), (0, 0, 255))
    buf = io.BytesIO()
    im.save(buf, fmt)
    return buf.getvalue()


def bomb_png(side: int = 30000) -> bytes:
    """A ~100 KiB PNG that declares side × side pixels (900 M for the default)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    co = zlib.compressobj(9)
    row = b"\x00" * (1 + (side + 7) // 8)
    data = b"".join(co.compress(row) for _ in range(side)) + co.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


async def collection(api: Api, protected: bool = False, view_rule: str | None = "", **fields: Any) -> dict[str, Any]:
    return await api.create_collection(
        {
            "name": unique("files"),
            "type": "base",
            **{**OPEN, "viewRule": view_rule},
            "fields": [
                {"name": "owner", "type": "text"},
                {"name": "doc", "type": "file", "maxSelect": 10, "maxSize": 5 << 20, "thumbs": THUMBS,
                 "protected": protected},
                {"name": "other", "type": "file", "maxSelect": 1},
            ],
        }
    )


async def upload(api: Api, c: dict[str, Any], *files: tuple[str, bytes], owner: str = "") -> dict[str, Any]:
    parts: list[Any] = [("owner", (None, owner))]
    parts += [("doc", (name, data)) for name, data in files]
    r = await api.client.post(f"/api/collections/{c['name']}/records", files=parts, headers=api.su())
    assert r.status_code == 200, r.text
    record: dict[str, Any] = r.json()
    return record


def file_url(c: dict[str, Any], record: dict[str, Any], name: str) -> str:
    return f"/api/files/{c['name']}/{record['id']}/{name}"


async def get(api: Api, url: str, **kw: Any) -> httpx.Response:
    return await api.client.get(url, **kw)


def assert_not_found(r: httpx.Response) -> None:
    assert r.status_code == 404, r.text
    assert set(r.json()) == {"data", "message", "status"}


# ----- serving ------------------------------------------------------------------------------------


async def test_public_file_is_served_with_pocketbase_headers(api: Api, store: str) -> None:
    c = await collection(api)
    png = image("PNG")
    rec = await upload(api, c, ("pic.png", png))
    name = rec["doc"][0]
    r = await get(api, file_url(c, rec, name))
    assert r.status_code == 200
    assert r.content == png
    h = r.headers
    assert h["content-type"] == "image/png"
    assert h["content-disposition"] == f'inline; filename="{name}"'
    assert h["content-security-policy"] == CSP
    assert h["cache-control"] == CACHE
    assert h["x-content-type-options"] == "nosniff"
    assert "x-frame-options" not in h  # files may be embedded
    assert h["accept-ranges"] == "bytes"
    assert h["content-length"] == str(len(png))
    assert h["etag"].startswith('"') and h["last-modified"].endswith("GMT")
    # by collection id too
    r = await get(api, f"/api/files/{c['id']}/{rec['id']}/{name}")
    assert r.status_code == 200 and r.content == png


async def test_dispositions_and_types(api: Api, store: str) -> None:
    c = await collection(api)
    html = b"<html><script>alert(1)</script></html>"
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    rec = await upload(api, c, ("a.html", html), ("a.svg", svg), ("a.txt", b"hello\n"),
                       ("a.pdf", b"%PDF-1.4\n% x\n"), ("a.png", image("PNG")))
    html_n, svg_n, txt_n, pdf_n, png_n = rec["doc"]
    expected: dict[str, tuple[str, str | None]] = {
        html_n: ("attachment", "text/html; charset=utf-8"),
        svg_n: ("attachment", "image/svg+xml"),
        txt_n: ("attachment", "text/plain; charset=utf-8"),
        pdf_n: ("inline", "application/pdf"),
        png_n: ("inline", "image/png"),
    }
    for name, (kind, ctype) in expected.items():
        r = await get(api, file_url(c, rec, name))
        assert r.status_code == 200, name
        assert r.headers["content-disposition"] == f'{kind}; filename="{name}"'
        assert ctype is None or r.headers["content-type"] == ctype
        assert r.headers["content-security-policy"] == CSP
        assert r.headers["x-content-type-options"] == "nosniff"
    for value, kind in (("1", "attachment"), ("true", "attachment"), ("yes", "inline"), ("0", "inline")):
        r = await get(api, file_url(c, rec, png_n) + f"?download={value}")
        assert r.headers["content-disposition"] == f'{kind}; filename="{png_n}"'


async def test_missing_and_foreign_names_are_404(api: Api, store: str) -> None:
    c = await collection(api)
    rec = await upload(api, c, ("a.txt", b"a"))
    other = await upload(api, c, ("b.txt", b"b"))
    name = rec["doc"][0]
    r = await get(api, f"/api/files/nope_{c['name']}/{rec['id']}/{name}")
    assert_not_found(r)
    assert r.json()["message"] == "Missing or invalid collection context."
    assert_not_found(await get(api, f"/api/files/{c['name']}/nosuchrecord123/{name}"))
    assert_not_found(await get(api, file_url(c, rec, "nope.txt")))
    assert_not_found(await get(api, file_url(c, rec, other["doc"][0])))  # another record's file
    assert_not_found(await get(api, file_url(c, other, name)))
    for bad in ("..%2F..%2Fetc%2Fpasswd", "..", ".", "a%5Cb", "%00", "x" * 300, f"{name}.attrs",
                f".{name}", f"thumbs_{name}", "a" * 5000):
        r = await get(api, file_url(c, rec, bad))
        assert r.status_code == 404, bad
    for bad_id in ("..", "a%5Cb", "x" * 300):
        assert (await get(api, f"/api/files/{c['name']}/{bad_id}/{name}")).status_code == 404


async def test_head_answers_headers_without_body(api: Api, store: str) -> None:
    c = await collection(api)
    rec = await upload(api, c, ("a.txt", b"hello head"))
    r = await api.client.head(file_url(c, rec, rec["doc"][0]))
    assert r.status_code == 200
    assert r.content == b""
    assert r.headers["content-length"] == "10"
    assert r.headers["content-type"] == "text/plain; charset=utf-8"
    assert_not_found_head = await api.client.head(file_url(c, rec, "nope.txt"))
    assert assert_not_found_head.status_code == 404


# ----- ranges and conditional requests ------------------------------------------------------------


async def test_ranges(api: Api, store: str) -> None:
    c = await collection(api)
    data = bytes(range(256)) * 600  # 150 KiB: several storage chunks
    rec = await upload(api, c, ("blob.bin", data))
    url = file_url(c, rec, rec["doc"][0])
    size = len(data)
    for header, (start, end) in {
        "bytes=0-9": (0, 10),
        "bytes=100-": (100, size),
        "bytes=-5": (size - 5, size),
        "bytes=70000-140000": (70000, 140001),
        f"bytes=10-{size + 100}": (10, size),
    }.items():
        r = await get(api, url, headers={"Range": header})
        assert r.status_code == 206, header
        assert r.content == data[start:end], header
        assert r.headers["content-range"] == f"bytes {start}-{end - 1}/{size}"
        assert r.headers["content-length"] == str(end - start)
    r = await get(api, url, headers={"Range": f"bytes={size}-"})
    assert r.status_code == 416
    assert r.headers["content-range"] == f"bytes */{size}"
    r = await get(api, url, headers={"Range": "bytes=0-1,5-6"})  # several: the whole file
    assert r.status_code == 200 and r.content == data
    r = await get(api, url, headers={"Range": "items=0-1"})  # another unit: ignored
    assert r.status_code == 200 and r.content == data
    etag = r.headers["etag"]
    r = await get(api, url, headers={"Range": "bytes=0-1", "If-Range": etag})
    assert r.status_code == 206 and r.content == data[:2]
    r = await get(api, url, headers={"Range": "bytes=0-1", "If-Range": '"stale"'})
    assert r.status_code == 200 and r.content == data
    r = await get(api, url, headers={"Range": "bytes=0-1", "If-Range": r.headers["last-modified"]})
    assert r.status_code == 206
    r = await api.client.head(url, headers={"Range": "bytes=0-9"})
    assert r.status_code == 206 and r.content == b"" and r.headers["content-length"] == "10"


async def test_etag_and_last_modified(api: Api, store: str) -> None:
    c = await collection(api)
    rec = await upload(api, c, ("a.txt", b"cache me"))
    url = file_url(c, rec, rec["doc"][0])
    r = await get(api, url)
    etag, modified = r.headers["etag"], r.headers["last-modified"]
    assert (await get(api, url)).headers["etag"] == etag  # stable
    r = await get(api, url, headers={"If-None-Match": etag})
    assert r.status_code == 304 and r.content == b""
    assert r.headers["etag"] == etag and r.headers["cache-control"] == CACHE
    assert (await get(api, url, headers={"If-None-Match": f'"x", W/{etag}'})).status_code == 304
    assert (await get(api, url, headers={"If-None-Match": '"other"'})).status_code == 200
    assert (await get(api, url, headers={"If-Modified-Since": modified})).status_code == 304
    assert (await get(api, url, headers={"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"})).status_code == 200
    # If-None-Match wins over If-Modified-Since
    r = await get(api, url, headers={"If-None-Match": '"other"', "If-Modified-Since": modified})
    assert r.status_code == 200
    assert (await get(api, url, headers={"If-Match": '"other"'})).status_code == 412
    assert (await get(api, url, headers={"If-Match": etag})).status_code == 200
    assert (await get(api, url, headers={"If-Unmodified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"})).status_code == 412


# ----- thumbs -------------------------------------------------------------------------------------


async def thumb(api: Api, url: str, size: str) -> tuple[httpx.Response, Any]:
    r = await get(api, f"{url}?thumb={size}")
    assert r.status_code == 200, r.text
    try:
        im = Image.open(io.BytesIO(r.content))
    except OSError:
        return r, None
    return r, (im.format, im.size)


async def test_thumbs_of_each_format(api: Api, store: str) -> None:
    c = await collection(api)
    rec = await upload(api, c, ("a.png", image("PNG")), ("a.jpg", image("JPEG")), ("a.gif", image("GIF")),
                       ("a.webp", image("WEBP")), ("tall.png", image("PNG", (120, 400))))
    png, jpg, gif, webp, tall = rec["doc"]
    # dimensions as PocketBase 0.40.6 makes them (measured with the real binary)
    expected: dict[tuple[str, str], tuple[str, tuple[int, int]] | None] = {
        (png, "100x100"): ("PNG", (100, 100)),
        (png, "50x50"): ("PNG", (50, 50)),
        (png, "60x0"): ("PNG", (60, 40)),
        (png, "0x60"): ("PNG", (90, 60)),
        (png, "80x40t"): ("PNG", (80, 40)),
        (png, "80x40b"): ("PNG", (80, 40)),
        (png, "80x40f"): ("PNG", (60, 40)),
        (jpg, "80x40"): None,  # not offered by the field: the original
        (jpg, "50x50"): ("JPEG", (50, 50)),
        (jpg, "0x60"): ("JPEG", (90, 60)),
        (gif, "60x0"): ("GIF", (60, 40)),
        (gif, "100x100"): ("GIF", (100, 100)),
        (webp, "80x40f"): ("PNG", (60, 40)),  # WebP thumbs are PNGs
        (tall, "60x0"): ("PNG", (60, 200)),
        (tall, "0x60"): ("PNG", (18, 60)),
        (tall, "80x40f"): ("PNG", (12, 40)),
        (tall, "80x40t"): ("PNG", (80, 40)),
    }
    for (name, size), want in expected.items():
        r, got = await thumb(api, file_url(c, rec, name), size)
        if want is None:
            assert r.headers["content-disposition"] == f'inline; filename="{name}"'
            assert got is not None and got[1] == (300, 200)
            continue
        assert got == want, (name, size)
        assert r.headers["content-disposition"] == f'inline; filename="{size}_{name}"'
        ctype = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif"}[want[0]]
        assert r.headers["content-type"] == ctype
        key = f"{c['id']}/{rec['id']}/thumbs_{name}/{size}_{name}"
        storage = await api.app.state.hearth.storage()
        assert (await storage.info(key)).content_type == ctype


async def test_thumb_not_offered_or_not_an_image_serves_the_original(api: Api, store: str) -> None:
    c = await collection(api)
    png = image("PNG")
    rec = await upload(api, c, ("a.png", png), ("a.txt", b"text"), ("a.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>"))
    p, t, s = rec["doc"]
    for size in ("33x33", "0x0", "abc", "100x100x", "999999999999999999999x1"):
        r = await get(api, file_url(c, rec, p) + f"?thumb={size}")
        assert r.status_code == 200 and r.content == png, size
    r = await get(api, file_url(c, rec, t) + "?thumb=100x100")
    assert r.status_code == 200 and r.content == b"text"
    r = await get(api, file_url(c, rec, s) + "?thumb=100x100")
    assert r.status_code == 200 and r.headers["content-type"] == "image/svg+xml"
    storage = await api.app.state.hearth.storage()
    assert await storage.list(f"{c['id']}/{rec['id']}") == sorted(f"{c['id']}/{rec['id']}/{n}" for n in rec["doc"])


async def test_thumb_is_made_once(api: Api, store: str) -> None:
    c = await collection(api)
    rec = await upload(api, c, ("a.png", image("PNG")))
    url = file_url(c, rec, rec["doc"][0]) + "?thumb=50x50"
    thumbs = api.app.state.hearth.thumbs
    before = thumbs.made
    answers = await asyncio.gather(*(get(api, url) for _ in range(6)))  # concurrent first requests
    assert {r.status_code for r in answers} == {200}
    assert len({r.content for r in answers}) == 1
    assert thumbs.made == before + 1
    for _ in range(3):
        r = await get(api, url)
        assert r.content == answers[0].content
    assert thumbs.made == before + 1
    # a thumb gets ranges and conditional answers too
    r2 = await get(api, url, headers={"If-None-Match": r.headers["etag"]})
    assert r2.status_code == 304


async def test_decompression_bomb_serves_the_original(api: Api, store: str) -> None:
    c = await collection(api)
    bomb = bomb_png()
    rec = await upload(api, c, ("bomb.png", bomb))
    started = time.monotonic()
    r = await get(api, file_url(c, rec, rec["doc"][0]) + "?thumb=100x100")
    assert r.status_code == 200
    assert r.content == bomb  # as PocketBase: its thumb fails, the original is served
    assert time.monotonic() - started < 10


# ----- protected files and file tokens ------------------------------------------------------------


async def user(api: Api) -> tuple[dict[str, Any], str]:
    email = f"{unique('u')}@example.com"
    r = await api.client.post("/api/collections/users/records",
                              json={"email": email, "password": "pass123456", "passwordConfirm": "pass123456"})
    assert r.status_code == 200, r.text
    r = await api.client.post("/api/collections/users/auth-with-password",
                              json={"identity": email, "password": "pass123456"})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body["record"], body["token"]


async def file_token(api: Api, auth_token: str) -> str:
    r = await api.client.post("/api/files/token", headers={"Authorization": auth_token})
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"token"}
    token: str = r.json()["token"]
    return token


async def test_file_token_endpoint(api: Api) -> None:
    r = await api.client.post("/api/files/token")
    assert r.status_code == 401
    assert r.json()["message"] == "The request requires valid record authorization token."
    u, auth = await user(api)
    ft = await file_token(api, auth)
    claims = jwt.decode(ft, options={"verify_signature": False})
    assert set(claims) == {"id", "collectionId", "type", "exp"}
    assert claims["type"] == "file" and claims["id"] == u["id"]
    # a file token is no auth token
    r = await api.client.post("/api/files/token", headers={"Authorization": ft})
    assert r.status_code == 401
    r = await api.client.post("/api/collections/users/auth-refresh", headers={"Authorization": ft})
    assert r.status_code == 401


async def test_protected_files(api: Api, store: str) -> None:
    owner, owner_auth = await user(api)
    _, stranger_auth = await user(api)
    c = await collection(api, protected=True, view_rule="owner = @request.auth.id")
    rec = await upload(api, c, ("secret.txt", b"secret"), owner=owner["id"])
    parts: list[Any] = [("other", ("open.txt", b"open"))]
    r = await api.client.patch(f"/api/collections/{c['name']}/records/{rec['id']}", files=parts, headers=api.su())
    assert r.status_code == 200, r.text
    url = file_url(c, rec, rec["doc"][0])
    assert_not_found(await get(api, url))
    assert_not_found(await get(api, url, headers={"Authorization": owner_auth}))  # a bearer is not enough
    assert_not_found(await get(api, url + "?token=" + owner_auth))  # an auth token is no file token
    assert_not_found(await get(api, url + "?token=garbage"))
    r = await get(api, url + "?token=" + await file_token(api, owner_auth))
    assert r.status_code == 200 and r.content == b"secret"
    assert r.headers["cache-control"] == CACHE
    assert_not_found(await get(api, url + "?token=" + await file_token(api, stranger_auth)))
    r = await get(api, url + "?token=" + await file_token(api, api.token))  # superusers pass
    assert r.status_code == 200
    # the record's other, non-protected field stays public
    r = await get(api, file_url(c, rec, (await record(api, c, rec))["other"]))
    assert r.status_code == 200 and r.content == b"open"


async def record(api: Api, c: dict[str, Any], rec: dict[str, Any]) -> dict[str, Any]:
    r = await api.client.get(f"/api/collections/{c['name']}/records/{rec['id']}", headers=api.su())
    assert r.status_code == 200
    body: dict[str, Any] = r.json()
    return body


async def test_protected_file_rules(api: Api) -> None:
    _, auth = await user(api)
    ft = await file_token(api, auth)
    su_ft = await file_token(api, api.token)
    # null viewRule: superusers only; the public field ignores rules
    c = await collection(api, protected=True, view_rule=None)
    rec = await upload(api, c, ("a.txt", b"a"))
    url = file_url(c, rec, rec["doc"][0])
    assert_not_found(await get(api, url + "?token=" + ft))
    assert (await get(api, url + "?token=" + su_ft)).status_code == 200
    c2 = await collection(api, protected=False, view_rule=None)
    rec2 = await upload(api, c2, ("b.txt", b"b"))
    assert (await get(api, file_url(c2, rec2, rec2["doc"][0]))).status_code == 200
    # the rule sees @request.context = "protectedFile"
    c3 = await collection(api, protected=True, view_rule="@request.context = 'protectedFile'")
    rec3 = await upload(api, c3, ("c.txt", b"c"))
    assert (await get(api, file_url(c3, rec3, rec3["doc"][0]))).status_code == 200
    c4 = await collection(api, protected=True, view_rule="@request.context = 'default'")
    rec4 = await upload(api, c4, ("d.txt", b"d"))
    assert_not_found(await get(api, file_url(c4, rec4, rec4["doc"][0]) + "?token=" + ft))


async def test_expired_file_token(api: Api) -> None:
    u, auth = await user(api)
    c = await collection(api, protected=True, view_rule="@request.auth.id != ''")
    rec = await upload(api, c, ("a.txt", b"a"))
    url = file_url(c, rec, rec["doc"][0])
    assert (await get(api, url + "?token=" + await file_token(api, auth))).status_code == 200
    h = api.app.state.hearth
    users = h.collections.get("users")
    row = await h.records.reads.find_row(users, u["id"])
    key = str(h.records.reads.codec(users).raw_value(row, "tokenKey")) + users.token_secret("fileToken")
    claims = {"id": u["id"], "collectionId": users.id, "type": tokens.FILE, "exp": int(time.time()) - 5}
    expired = jwt.encode(claims, key, algorithm="HS256")
    assert_not_found(await get(api, url + "?token=" + expired))
    forged = jwt.encode({**claims, "exp": int(time.time()) + 100}, "a wrong key of the right length, 32+", algorithm="HS256")
    assert_not_found(await get(api, url + "?token=" + forged))


# ----- the event -----------------------------------------------------------------------------------


async def test_file_download_request_hook(api: Api) -> None:
    c = await collection(api)
    rec = await upload(api, c, ("a.txt", b"aaa"), ("b.txt", b"bbb"))
    a, b = rec["doc"]
    hook = api.app.state.hearth.hooks.file_download_request
    seen: list[FileDownload] = []

    async def rename(e: FileDownload) -> None:
        seen.append(e)
        e.served_name = "renamed.txt"
        await e.next()

    hid = hook.bind(rename, tags=[c["name"]])
    try:
        r = await get(api, file_url(c, rec, a))
        assert r.status_code == 200 and r.content == b"aaa"
        assert r.headers["content-disposition"] == 'attachment; filename="renamed.txt"'
        e = seen[0]
        assert e.record["id"] == rec["id"] and e.field.name == "doc"
        assert e.served_key == f"{c['id']}/{rec['id']}/{a}"
    finally:
        hook.unbind(hid)

    async def refuse(e: FileDownload) -> None:
        from hearth.errors import Forbidden

        raise Forbidden("no")

    hid = hook.bind(refuse, tags=[c["id"]])
    try:
        r = await get(api, file_url(c, rec, b))
        assert r.status_code == 403
    finally:
        hook.unbind(hid)
    assert (await get(api, file_url(c, rec, b))).status_code == 200


async def test_file_download_hook_over_a_cached_thumb(api: Api, store: str) -> None:
    """A cached thumb is found before the event: handlers still see it as the file served, may
    serve another key instead, or answer themselves (the thumb opened for nothing is closed)."""
    from starlette.responses import Response

    c = await collection(api)
    original = image("PNG")
    rec = await upload(api, c, ("a.png", original))
    name = rec["doc"][0]
    url = file_url(c, rec, name) + "?thumb=50x50"
    made = (await get(api, url)).content  # the thumb is made and stored
    assert made != original
    hook = api.app.state.hearth.hooks.file_download_request
    seen: list[tuple[str, str]] = []

    async def original_instead(e: FileDownload) -> None:
        seen.append((e.served_key, e.served_name))
        e.served_key, e.served_name = f"{c['id']}/{rec['id']}/{name}", name
        await e.next()

    hid = hook.bind(original_instead, tags=[c["name"]])
    try:
        r = await get(api, url)
        assert r.status_code == 200 and r.content == original
        thumb_key = f"{c['id']}/{rec['id']}/thumbs_{name}/50x50_{name}"
        assert seen == [(thumb_key, f"50x50_{name}")]
    finally:
        hook.unbind(hid)

    async def answer(e: FileDownload) -> None:
        e.response = Response(b"from the hook", media_type="text/plain")

    hid = hook.bind(answer, tags=[c["name"]])
    try:
        for method in ("GET", "HEAD"):
            r = await api.client.request(method, url)
            assert r.status_code == 200 and r.content == (b"from the hook" if method == "GET" else b"")
    finally:
        hook.unbind(hid)
    assert (await get(api, url)).content == made


async def test_file_token_request_hook(api: Api) -> None:
    import orjson
    from starlette.responses import JSONResponse

    from hearth.hooks.events import RequestEvent

    u, auth = await user(api)
    hook = api.app.state.hearth.hooks.file_token_request
    seen: list[tuple[dict[str, Any] | None, str]] = []

    async def replace(e: RequestEvent) -> None:
        await e.next()
        seen.append((e.record, orjson.loads(e.response.body)["token"]))
        e.response = JSONResponse({"token": "replaced"})

    hid = hook.bind(replace)
    try:
        r = await api.client.post("/api/files/token", headers={"Authorization": auth})
        assert r.status_code == 200 and r.json() == {"token": "replaced"}
    finally:
        hook.unbind(hid)
    record, token = seen[0]
    assert record is not None and record["id"] == u["id"] and "password" not in record
    assert jwt.decode(token, options={"verify_signature": False})["type"] == "file"


async def test_a_file_is_served_as_its_record_says_now_even_when_another_process_changed_it(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL a record that showed a public file is kept a moment (hearth.records.downloads,
    KEEP_SECONDS). It may only confirm names it holds: a file added by another process is served
    at once, one removed by another process is refused once the bound has passed, and one removed
    by this process at once. Raw SQL plays the other process (nothing here hears it)."""
    monkeypatch.setattr(downloads, "KEEP_SECONDS", 1.0)
    h = api.app.state.hearth
    d = h.db.dialect
    c = await collection(api)
    rec = await upload(api, c, ("a.txt", b"aaa"), ("b.txt", b"bbb"))
    a_name, b_name = rec["doc"]
    update = f'UPDATE "{c["name"]}" SET "doc" = {d.json_param(d.placeholder(1))} WHERE "id" = {d.placeholder(2)}'

    async def record_holds(*names: str) -> None:
        await h.db.execute(update, (json.dumps(list(names)), rec["id"]))

    await record_holds(a_name)  # b's stored file stays
    assert (await get(api, file_url(c, rec, a_name))).status_code == 200  # the record [a] is kept
    await record_holds(a_name, b_name)
    assert (await get(api, file_url(c, rec, b_name))).status_code == 200  # not in what was kept: read
    await record_holds(b_name)  # the record [a, b] is kept now
    await asyncio.sleep(1.05)
    assert_not_found(await get(api, file_url(c, rec, a_name)))
    assert (await get(api, file_url(c, rec, b_name))).status_code == 200
    r = await api.client.patch(f"/api/collections/{c['name']}/records/{rec['id']}", json={"doc-": [b_name]}, headers=api.su())
    assert r.status_code == 200, r.text
    assert_not_found(await get(api, file_url(c, rec, b_name)))  # this process forgot it at once
