"""File uploads through the records API and the batch: what is stored, what the record holds, and
that files go only once the write's outcome is known (never an orphan, never a lost file). Every
test runs on SQLite and PostgreSQL, with the files on local disk and in S3 (moto's server)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.conftest import OPEN, Api, unique

NAME = re.compile(r"^[a-z0-9_]+_[a-z0-9]{10}\.[a-z0-9.]+$")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n% hearth test\n"


@pytest.fixture(autouse=True)
def each_store(store: str) -> str:
    """Every test here runs on both storages (tests/conftest.py `store`)."""
    return store


async def files_collection(api: Api, **extra: Any) -> dict[str, Any]:
    return await api.create_collection(
        {
            "name": unique("docs"),
            "type": "base",
            **OPEN,
            "fields": [
                {"name": "title", "type": "text"},
                {"name": "one", "type": "file", "maxSelect": 1, "maxSize": 1024},
                {"name": "many", "type": "file", "maxSelect": 3, "maxSize": 1024},
                {"name": "pics", "type": "file", "maxSelect": 2, "mimeTypes": ["image/png"]},
            ],
            **extra,
        }
    )


async def stored(api: Api, prefix: str) -> list[str]:
    h = api.app.state.hearth
    return await (await h.storage()).list(prefix)


async def content(api: Api, key: str) -> bytes:
    h = api.app.state.hearth
    download = await (await h.storage()).open(key)
    return b"".join([chunk async for chunk in download.chunks])


def url(c: dict[str, Any], rid: str = "") -> str:
    return f"/api/collections/{c['name']}/records" + (f"/{rid}" if rid else "")


async def test_create_stores_the_file_under_a_sanitized_random_name(api: Api) -> None:
    c = await files_collection(api)
    r = await api.client.post(
        url(c), files=[("title", (None, "t")), ("one", ("My Report.PDF", PDF, "image/png"))]
    )
    assert r.status_code == 200, r.text
    record = r.json()
    name = record["one"]
    assert name.startswith("my_report_") and name.endswith(".PDF") and len(name) == len("my_report_") + 14
    assert await stored(api, c["id"]) == [f"{c['id']}/{record['id']}/{name}"]
    key = f"{c['id']}/{record['id']}/{name}"
    assert await content(api, key) == PDF
    info = await (await api.app.state.hearth.storage()).info(key)
    assert info.content_type == "application/pdf"  # detected, not the claimed image/png
    assert (await api.client.get(url(c, record["id"]))).json()["one"] == name


async def test_multiple_files_append_prepend_remove_and_replace(api: Api) -> None:
    c = await files_collection(api)
    r = await api.client.post(url(c), files=[("many", ("alpha.txt", b"a", "text/plain")), ("many", ("beta.txt", b"b", "text/plain"))])
    assert r.status_code == 200, r.text
    rid = r.json()["id"]
    a, b = r.json()["many"]
    assert a.startswith("alpha_") and b.startswith("beta_")
    folder = f"{c['id']}/{rid}"
    r = await api.client.patch(url(c, rid), files=[("many+", ("gamma.txt", b"c", "text/plain"))])
    assert r.status_code == 200, r.text
    cc = r.json()["many"][2]
    assert r.json()["many"] == [a, b, cc]
    r = await api.client.patch(url(c, rid), json={"many-": [a]})
    assert r.status_code == 200, r.text
    assert r.json()["many"] == [b, cc]
    assert await stored(api, folder) == sorted(f"{folder}/{n}" for n in (b, cc))  # a is gone
    r = await api.client.patch(url(c, rid), files=[("+many", ("delta.txt", b"d", "text/plain"))])
    d = r.json()["many"][0]
    assert r.json()["many"] == [d, b, cc]
    # `many` with names and files: keep the names sent, add the files; the rest goes.
    r = await api.client.patch(
        url(c, rid), files=[("many", (None, cc)), ("many", ("eps.txt", b"e", "text/plain"))]
    )
    assert r.status_code == 200, r.text
    e = r.json()["many"][1]
    assert r.json()["many"] == [cc, e]
    assert await stored(api, folder) == sorted(f"{folder}/{n}" for n in (cc, e))
    assert await content(api, f"{folder}/{e}") == b"e"
    # A single field: replacing drops the old file, unsetting drops it too.
    r = await api.client.patch(url(c, rid), files=[("one", ("x.txt", b"x", "text/plain"))])
    x = r.json()["one"]
    r = await api.client.patch(url(c, rid), files=[("one", ("y.txt", b"y", "text/plain"))])
    y = r.json()["one"]
    assert x != y and f"{folder}/{x}" not in await stored(api, folder)
    r = await api.client.patch(url(c, rid), json={"one": None})
    assert r.json()["one"] == ""
    assert await stored(api, folder) == sorted(f"{folder}/{n}" for n in (cc, e))


async def test_json_payload_with_files(api: Api) -> None:
    c = await files_collection(api)
    r = await api.client.post(
        url(c),
        files=[("@jsonPayload", (None, json.dumps({"title": "from json"}))), ("one", ("p.pdf", PDF, "x/y"))],
    )
    assert r.status_code == 200, r.text
    assert r.json()["title"] == "from json" and NAME.match(r.json()["one"])


@pytest.mark.parametrize(
    ("files", "field", "code"),
    [
        ([("one", ("big.txt", b"x" * 1025, "text/plain"))], "one", "validation_file_size_limit"),
        ([("pics", ("fake.png", b"just text", "image/png"))], "pics", "validation_invalid_mime_type"),
        ([("many", (f"f{i}.txt", b"f", "text/plain")) for i in range(4)], "many", "validation_too_many_files"),
    ],
)
async def test_refused_uploads_store_nothing(api: Api, files: list[Any], field: str, code: str) -> None:
    c = await files_collection(api)
    r = await api.client.post(url(c), files=[*files, ("title", (None, "t"))])
    assert r.status_code == 400, r.text
    assert r.json()["data"][field]["code"] == code, r.text
    assert await stored(api, c["id"]) == []
    assert (await api.client.get(url(c))).json()["totalItems"] == 0


async def test_size_and_type_errors_name_the_file(api: Api) -> None:
    c = await files_collection(api)
    r = await api.client.post(url(c), files=[("one", ("big.txt", b"x" * 1025, "text/plain"))])
    assert r.json()["data"]["one"] == {
        "code": "validation_file_size_limit",
        "message": "Failed to upload big.txt - the maximum allowed file size is 1024 bytes.",
        "params": {"file": "big.txt", "maxSize": 1024},
    }
    r = await api.client.post(url(c), files=[("pics", ("fake.png", b"text", "image/png"))])
    err = r.json()["data"]["pics"]
    assert err["code"] == "validation_invalid_mime_type"
    assert err["message"].endswith('mime type must be one of: image/png.') and '"fake_' in err["message"]
    r = await api.client.post(url(c), files=[("pics", ("real.png", PNG, "text/plain"))])
    assert r.status_code == 200, r.text


async def test_a_write_failing_inside_the_transaction_leaves_no_file(api: Api) -> None:
    # The create rule is checked on the new row inside the transaction: after the upload.
    c = await files_collection(api, createRule="title ~ 'ok'")
    r = await api.client.post(url(c), files=[("title", (None, "no")), ("one", ("alpha.txt", b"a", "text/plain"))])
    assert r.status_code == 400, r.text
    assert await stored(api, c["id"]) == []
    r = await api.client.post(url(c), files=[("title", (None, "ok")), ("one", ("alpha.txt", b"a", "text/plain"))])
    assert r.status_code == 200, r.text
    rid, old = r.json()["id"], r.json()["one"]
    # A unique index refusing an update keeps the old file and stores no new one.
    await api.client.patch(
        f"/api/collections/{c['id']}",
        json={"indexes": [f"CREATE UNIQUE INDEX idx_{c['name']}_title ON {c['name']} (title)"], "updateRule": ""},
        headers=api.su(),
    )
    r2 = await api.client.post(url(c), json={"title": "ok2"})
    assert r2.status_code == 200, r2.text
    r = await api.client.patch(url(c, rid), files=[("title", (None, "ok2")), ("one", ("beta.txt", b"b", "text/plain"))])
    assert r.status_code == 400, r.text
    assert await stored(api, f"{c['id']}/{rid}") == [f"{c['id']}/{rid}/{old}"]
    assert (await api.client.get(url(c, rid))).json()["one"] == old


async def test_deleting_the_record_or_the_collection_removes_its_files(api: Api) -> None:
    c = await files_collection(api)
    rids = []
    for i in range(2):
        r = await api.client.post(url(c), files=[("many", (f"{i}.txt", b"x", "text/plain"))])
        rids.append(r.json()["id"])
    r = await api.client.delete(url(c, rids[0]))
    assert r.status_code == 204
    assert [k.split("/")[1] for k in await stored(api, c["id"])] == [rids[1]]
    r = await api.client.delete(f"/api/collections/{c['id']}", headers=api.su())
    assert r.status_code == 204, r.text
    assert await stored(api, c["id"]) == []


async def test_a_refused_delete_keeps_the_files(api: Api) -> None:
    c = await files_collection(api)
    r = await api.client.post(url(c), files=[("one", ("k.txt", b"k", "text/plain"))])
    rid = r.json()["id"]
    other = await api.create_collection(
        {"name": unique("refs"), "type": "base", **OPEN,
         "fields": [{"name": "doc", "type": "relation", "collectionId": c["id"], "required": True}]}
    )  # fmt: skip
    assert (await api.client.post(url(other), json={"doc": rid})).status_code == 200
    r = await api.client.delete(url(c, rid))
    assert r.status_code == 400, r.text
    assert len(await stored(api, f"{c['id']}/{rid}")) == 1


async def test_batch_with_files(api: Api) -> None:
    c = await files_collection(api)
    await api.client.patch("/api/settings", json={"batch": {"enabled": True, "maxRequests": 10}}, headers=api.su())
    try:
        payload = {
            "requests": [
                {"method": "POST", "url": url(c), "body": {"title": "a"}},
                {"method": "POST", "url": url(c), "body": {"title": "b"}},
            ]
        }
        r = await api.client.post(
            "/api/batch",
            files=[
                ("@jsonPayload", (None, json.dumps(payload))),
                ("requests.0.one", ("aaa.txt", b"A", "text/plain")),
                ("requests[1].many", ("bb1.txt", b"B1", "text/plain")),
                ("requests[1].many", ("bb2.txt", b"B2", "text/plain")),
                ("requests.7.one", ("stray.txt", b"S", "text/plain")),  # no such request: ignored
            ],
        )
        assert r.status_code == 200, r.text
        first, second = (x["body"] for x in r.json())
        assert first["one"].startswith("aaa_") and [n[:4] for n in second["many"]] == ["bb1_", "bb2_"]
        assert await content(api, f"{c['id']}/{first['id']}/{first['one']}") == b"A"
        assert len(await stored(api, c["id"])) == 3
        # A failing batch stores nothing.
        payload["requests"].append({"method": "POST", "url": url(c), "body": {"one": "made_up.txt"}})
        r = await api.client.post(
            "/api/batch",
            files=[("@jsonPayload", (None, json.dumps(payload))), ("requests.0.one", ("z.txt", b"Z", "text/plain"))],
        )
        assert r.status_code == 400, r.text
        assert len(await stored(api, c["id"])) == 3
    finally:
        await api.client.patch("/api/settings", json={"batch": {"enabled": False}}, headers=api.su())


async def test_uploads_to_other_fields_are_ignored_as_in_pocketbase(api: Api) -> None:
    c = await files_collection(api)
    r = await api.client.post(
        url(c), files=[("title", ("t.txt", b"t", "text/plain")), ("nope", ("n.txt", b"n", "text/plain"))]
    )
    assert r.status_code == 200, r.text
    assert r.json()["title"] == ""
    assert await stored(api, c["id"]) == []


async def test_truncated_multipart_is_a_400_and_stores_nothing(api: Api) -> None:
    c = await files_collection(api)
    body = b'--XX\r\nContent-Disposition: form-data; name="one"; filename="a.txt"\r\n\r\nhalf a fi'
    r = await api.client.post(url(c), content=body, headers={"Content-Type": "multipart/form-data; boundary=XX"})
    assert r.status_code == 400, r.text
    assert await stored(api, c["id"]) == []


async def test_a_body_over_the_collection_limit_is_413(api: Api) -> None:
    c = await files_collection(api)
    h = api.app.state.hearth
    limit = h.config.max_body_size + 1024 + 3 * 1024 + 2 * (5 << 20)
    r = await api.client.post(
        url(c), content=b"x", headers={"Content-Type": "multipart/form-data; boundary=XX", "Content-Length": str(limit + 1)}
    )
    assert r.status_code == 413, r.text


async def test_path_like_client_names_become_plain_names(api: Api) -> None:
    c = await files_collection(api)
    for name in ("../../etc/passwd", "..\\..\\win.ini", "/abs/x.txt", ".hidden", "a" * 1000 + ".txt", "ü n î.txt"):
        r = await api.client.post(url(c), files=[("one", (name, b"x", "text/plain"))])
        assert r.status_code == 200, (name, r.text)
        stored_name = r.json()["one"]
        assert "/" not in stored_name and "\\" not in stored_name and not stored_name.startswith(".")
        assert len(stored_name) <= 150
        key = f"{c['id']}/{r.json()['id']}/{stored_name}"
        assert await content(api, key) == b"x"
