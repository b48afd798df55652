"""`POST /api/batch`, black-box through HTTP, on SQLite and PostgreSQL.

Expected answers are PocketBase 0.40.6's (probed on the real binary and recorded in the
conformance reference). Every test that changes `settings.batch` restores it at the end: the
app is shared by the whole module.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest

from tests.conftest import OPEN, Api, unique

BATCH_FAILED = "Batch transaction failed."


async def set_batch(api: Api, **batch: Any) -> dict[str, Any]:
    r = await api.client.patch("/api/settings", json={"batch": batch}, headers=api.su())
    assert r.status_code == 200, r.text
    return r.json()["batch"]


@pytest.fixture
async def batch_on(api: Api) -> AsyncIterator[None]:
    r = await api.client.get("/api/settings", headers=api.su())
    before = r.json()["batch"]
    await set_batch(api, enabled=True, maxRequests=50, timeout=10, maxBodySize=0)
    try:
        yield
    finally:
        await set_batch(api, **before)


async def items(api: Api, name: str) -> list[dict[str, Any]]:
    r = await api.client.get(f"/api/collections/{name}/records", params={"perPage": 100}, headers=api.su())
    assert r.status_code == 200, r.text
    return r.json()["items"]  # type: ignore[no-any-return]


async def titles(api: Api, name: str) -> list[str]:
    return sorted(f"{x['title']}:{x['n']}" for x in await items(api, name))


async def base(
    api: Api, rules: dict[str, Any] | None = None, extra: list[dict[str, Any]] | None = None
) -> str:
    name = unique("bt")
    await api.create_collection(
        {
            "name": name,
            "type": "base",
            **(OPEN if rules is None else rules),
            "fields": [
                {"name": "title", "type": "text", "required": True},
                {"name": "n", "type": "number", "max": 10},
                *(extra or []),
            ],
        }
    )
    return name


def rec_url(name: str, rid: str = "") -> str:
    return f"/api/collections/{name}/records" + (f"/{rid}" if rid else "")


def sub(method: str, url: str, body: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"method": method, "url": url}
    if body is not None:
        out["body"] = body
    out.update(extra)
    return out


async def send(api: Api, requests: Any, headers: dict[str, str] | None = None) -> Any:
    return await api.client.post("/api/batch", json={"requests": requests}, headers=headers or {})


def failed(index: int, response: dict[str, Any]) -> dict[str, Any]:
    return {
        "data": {
            "requests": {
                str(index): {
                    "code": "batch_request_failed",
                    "message": "Batch request failed.",
                    "response": response,
                }
            }
        },
        "message": BATCH_FAILED,
        "status": 400,
    }


def invalid(data: dict[str, Any]) -> dict[str, Any]:
    return {"data": {"requests": data}, "message": "Invalid batch request data.", "status": 400}


READ_FAILED = {"data": {}, "message": "Failed to read the submitted batch data.", "status": 400}
GENERIC_400 = {"data": {}, "message": "Something went wrong while processing your request.", "status": 400}
NOT_FOUND = {"data": {}, "message": "The requested resource wasn't found.", "status": 404}


def multipart(parts: list[tuple[str, Any]]) -> tuple[bytes, str]:
    """A multipart body as the JS SDK builds it (values: str, or (filename, bytes, type))."""
    boundary = "----hearth" + secrets.token_hex(8)
    out = bytearray()
    for name, value in parts:
        out += f"--{boundary}\r\n".encode()
        if isinstance(value, tuple):
            filename, data, ctype = value
            out += f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'.encode()
            out += f"Content-Type: {ctype}\r\n\r\n".encode() + data + b"\r\n"
        else:
            out += f'Content-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            out += value.encode() + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


# ----- settings ------------------------------------------------------------------------------
async def test_disabled_by_default(api: Api) -> None:
    r = await api.client.get("/api/settings", headers=api.su())
    assert r.json()["batch"] == {"enabled": False, "maxRequests": 50, "timeout": 3, "maxBodySize": 0}
    name = await base(api)
    for headers in ({}, api.su()):
        r = await send(api, [sub("POST", rec_url(name), {"title": "x"})], headers)
        assert r.status_code == 403
        assert r.json() == {"data": {}, "message": "Batch requests are not allowed.", "status": 403}
    assert await items(api, name) == []


async def test_max_requests(api: Api, batch_on: None) -> None:
    name = await base(api)
    await set_batch(api, maxRequests=2)
    three = [sub("POST", rec_url(name), {"title": f"t{i}"}) for i in range(3)]
    r = await send(api, three)
    assert r.status_code == 400
    assert r.json() == invalid(
        {
            "code": "validation_length_too_long",
            "message": "The length must be no more than 2.",
            "params": {"max": 2, "min": 0},
        }
    )
    r = await send(api, three[:2])
    assert r.status_code == 200, r.text
    assert len(r.json()) == 2
    assert await titles(api, name) == ["t0:0", "t1:0"]


async def test_body_limit(api: Api, batch_on: None) -> None:
    name = await base(api)
    await set_batch(api, maxBodySize=200)
    r = await send(api, [sub("POST", rec_url(name), {"title": "x" * 300})])
    assert r.status_code == 413
    assert r.json() == {"data": {}, "message": "Request entity too large.", "status": 413}
    r = await send(api, [sub("POST", rec_url(name), {"title": "short"})])
    assert r.status_code == 200, r.text
    assert await titles(api, name) == ["short:0"]


# ----- success -------------------------------------------------------------------------------
async def test_create_update_delete_upsert(api: Api, batch_on: None) -> None:
    name = await base(api)
    c = api.client
    pre = (await c.post(rec_url(name), json={"title": "pre", "n": 0})).json()
    pre2 = (await c.post(rec_url(name), json={"title": "pre2", "n": 9})).json()
    r = await send(
        api,
        [
            sub("POST", rec_url(name), {"title": "b1", "n": 1}),
            sub("POST", rec_url(name), {"title": "b2", "n": 2}),
            sub("PATCH", rec_url(name, pre["id"]), {"n": 5}),
            sub("DELETE", rec_url(name, pre2["id"])),
            sub("PUT", rec_url(name), {"id": "upsertid0000001", "title": "up", "n": 7}),
        ],
    )
    assert r.status_code == 200, r.text
    out = r.json()
    cid = pre["collectionId"]

    def rec(rid: str, title: str, n: int) -> dict[str, Any]:
        return {"collectionId": cid, "collectionName": name, "id": rid, "n": n, "title": title}

    assert out == [
        {"body": rec(out[0]["body"]["id"], "b1", 1), "status": 200},
        {"body": rec(out[1]["body"]["id"], "b2", 2), "status": 200},
        {"body": rec(pre["id"], "pre", 5), "status": 200},
        {"body": None, "status": 204},
        {"body": rec("upsertid0000001", "up", 7), "status": 200},
    ]
    assert [list(x) for x in out] == [["body", "status"]] * 5
    assert await titles(api, name) == ["b1:1", "b2:2", "pre:5", "up:7"]

    # Upsert of an existing id updates it (only the sent fields change).
    r = await send(api, [sub("PUT", rec_url(name), {"id": "upsertid0000001", "title": "up2"})])
    assert r.status_code == 200, r.text
    assert r.json() == [{"body": rec("upsertid0000001", "up2", 7), "status": 200}]
    # An upsert without id (or an empty one) creates.
    r = await send(
        api,
        [sub("PUT", rec_url(name), {"title": "noid"}), sub("PUT", rec_url(name), {"id": "", "title": "e"})],
    )
    assert r.status_code == 200, r.text
    assert len(await items(api, name)) == 6


async def test_upsert_sees_earlier_requests_and_relations_to_new_records(api: Api, batch_on: None) -> None:
    parents = await base(api)
    r = await api.client.get(f"/api/collections/{parents}", headers=api.su())
    parents_id = r.json()["id"]
    children = await base(
        api,
        extra=[{"name": "parent", "type": "relation", "collectionId": parents_id, "maxSelect": 1}],
    )
    pid = "parent000000001"
    r = await send(
        api,
        [
            sub("POST", rec_url(parents), {"id": pid, "title": "p"}),
            sub("POST", rec_url(children) + "?expand=parent", {"title": "c", "parent": pid}),
            sub("PUT", rec_url(parents) + "?fields=id,title", {"id": pid, "title": "p2"}),
        ],
    )
    assert r.status_code == 200, r.text
    out = r.json()
    assert out[1]["body"]["parent"] == pid
    assert out[1]["body"]["expand"]["parent"]["title"] == "p2"  # expanded after the commit
    assert out[2] == {"body": {"id": pid, "title": "p2"}, "status": 200}
    assert await titles(api, parents) == ["p2:0"]

    # A relation to a record that does not exist (not even in the batch) fails the batch.
    r = await send(api, [sub("POST", rec_url(children), {"title": "x", "parent": "missing00000000"})])
    assert r.status_code == 400
    assert r.json() == failed(
        0,
        {
            "data": {
                "parent": {
                    "code": "validation_missing_rel_records",
                    "message": "Failed to find all relation records with the provided ids.",
                }
            },
            "message": "Failed to create record.",
            "status": 400,
        },
    )


# ----- failures and rollback -----------------------------------------------------------------
async def test_failure_in_the_middle_rolls_everything_back(api: Api, batch_on: None) -> None:
    name = await base(api)
    keep = (await api.client.post(rec_url(name), json={"title": "keep", "n": 1})).json()
    r = await send(
        api,
        [
            sub("POST", rec_url(name), {"title": "ok-1", "n": 1}),
            sub("PATCH", rec_url(name, keep["id"]), {"title": "changed"}),
            sub("POST", rec_url(name), {"n": 50}),
            sub("POST", rec_url(name), {"title": "ok-2"}),
        ],
    )
    assert r.status_code == 400
    assert r.json() == failed(
        2,
        {
            "data": {
                "n": {
                    "code": "validation_max_number_constraint",
                    "message": "Must be less or equal than 10.",
                    "params": {"max": 10},
                },
                "title": {"code": "validation_required", "message": "Cannot be blank."},
            },
            "message": "Failed to create record.",
            "status": 400,
        },
    )
    # Go marshals the nested field errors with sorted keys.
    assert list(r.json()["data"]["requests"]["2"]["response"]["data"]) == ["n", "title"]
    assert await titles(api, name) == ["keep:1"]

    r = await send(
        api, [sub("POST", rec_url(name), {"title": "x"}), sub("DELETE", rec_url(name, "doesnotexist123"))]
    )
    assert r.status_code == 400
    assert r.json() == failed(1, NOT_FOUND)

    r = await send(api, [sub("POST", rec_url(unique("nosuch")), {"title": "x"})])
    assert r.status_code == 400
    assert r.json() == failed(0, {"data": {}, "message": "Missing collection context.", "status": 404})

    # A unique violation inside the shared transaction (PostgreSQL aborts it) is a sub-failure.
    dup = {"id": "dup000000000001", "title": "d"}
    r = await send(api, [sub("POST", rec_url(name), dup), sub("POST", rec_url(name), dup)])
    assert r.status_code == 400
    assert r.json() == failed(
        1,
        {
            "data": {"id": {"code": "validation_not_unique", "message": "Value must be unique."}},
            "message": "Failed to create record.",
            "status": 400,
        },
    )

    r = await send(api, [sub("PATCH", rec_url(name, "nope"), {"title": "x"})])
    assert r.json() == failed(0, NOT_FOUND)
    assert await titles(api, name) == ["keep:1"]


async def test_unknown_actions_fail_the_sub_request(api: Api, batch_on: None) -> None:
    name = await base(api)
    for method, url in [
        ("GET", rec_url(name)),
        ("POST", "/api/health"),
        ("POST", rec_url(name) + "/"),
        ("POST", "http://x" + rec_url(name)),
        ("POST", " " + rec_url(name)),
        ("PATCH", rec_url(name)),
        ("DELETE", rec_url(name)),
        ("PUT", rec_url(name, "abc")),
        ("POST", rec_url(name) + "?a=\nb"),
    ]:
        r = await send(
            api, [sub("POST", rec_url(name), {"title": "first"}), sub(method, url, {"title": "x"})]
        )
        assert r.status_code == 400, (method, url)
        assert r.json() == failed(1, GENERIC_400), (method, url)
    assert await items(api, name) == []


async def test_rules_apply_per_sub_request(api: Api, batch_on: None) -> None:
    locked = await base(api, rules={})  # every rule null: superusers only
    r = await send(api, [sub("POST", rec_url(locked), {"title": "guest"})])
    assert r.status_code == 400
    assert r.json() == failed(
        0, {"data": {}, "message": "Only superusers can perform this action.", "status": 403}
    )

    # As in PocketBase, the batch's own auth applies: a sub-request's Authorization header does
    # not change who is asking (it is only a header that rules could read).
    r = await send(
        api, [sub("POST", rec_url(locked), {"title": "guest"}, headers={"Authorization": api.token})]
    )
    assert r.status_code == 400
    assert r.json()["data"]["requests"]["0"]["response"]["status"] == 403
    r = await send(
        api, [sub("POST", rec_url(locked), {"title": "su"}, headers={"Authorization": ""})], api.su()
    )
    assert r.status_code == 200, r.text
    assert r.json()[0]["body"]["title"] == "su"
    assert await titles(api, locked) == ["su:0"]

    # Expression rules see the sub-request: its method, body, headers and `@request.context`.
    ruled = await base(
        api,
        rules={
            "listRule": "",
            "viewRule": "",
            "createRule": '@request.context = "batch" && @request.headers.x_test = "yes" && @request.body.n > 0',
            "updateRule": '@request.method = "PATCH"',
            "deleteRule": None,
        },
    )
    ok = sub("POST", rec_url(ruled), {"title": "a", "n": 1}, headers={"X-Test": "yes"})
    r = await send(api, [ok])
    assert r.status_code == 200, r.text
    rid = r.json()[0]["body"]["id"]
    r = await api.client.post(rec_url(ruled), json={"title": "a", "n": 1}, headers={"X-Test": "yes"})
    assert r.status_code == 400, "context is not batch outside a batch"
    r = await send(api, [sub("POST", rec_url(ruled), {"title": "a", "n": 1})])
    assert r.json() == failed(0, {"data": {}, "message": "Failed to create record.", "status": 400})
    # The batch request's own headers are inherited by every sub-request.
    r = await send(api, [sub("POST", rec_url(ruled), {"title": "b", "n": 2})], {"X-Test": "yes"})
    assert r.status_code == 200, r.text
    # Upsert of an existing id runs as a PATCH.
    r = await send(api, [sub("PUT", rec_url(ruled), {"id": rid, "title": "up"})])
    assert r.status_code == 200, r.text
    assert r.json()[0]["body"]["title"] == "up"
    r = await send(api, [sub("DELETE", rec_url(ruled, rid))])
    assert r.json() == failed(
        0, {"data": {}, "message": "Only superusers can perform this action.", "status": 403}
    )
    assert sorted(x["title"] for x in await items(api, ruled)) == ["b", "up"]


async def test_timeout_rolls_back(api: Api, batch_on: None) -> None:
    users = unique("busers")
    await api.create_collection(
        {
            "name": users,
            "type": "auth",
            **OPEN,
            "fields": [{"name": "password", "type": "password", "required": True, "min": 8, "cost": 13}],
        }
    )
    await set_batch(api, timeout=1)
    reqs = [
        sub(
            "POST",
            rec_url(users),
            {"email": f"u{i}@example.com", "password": "pass12345", "passwordConfirm": "pass12345"},
        )
        for i in range(4)
    ]
    r = await send(api, reqs)
    assert r.status_code == 400
    assert r.json() == {"data": {}, "message": BATCH_FAILED, "status": 400}
    r = await api.client.get(rec_url(users), headers=api.su())
    assert r.json()["totalItems"] == 0


# ----- body formats --------------------------------------------------------------------------
async def test_multipart_with_json_payload_as_the_sdk_sends_it(api: Api, batch_on: None) -> None:
    name = await base(api)
    payload = {
        "requests": [
            {"method": "POST", "url": rec_url(name), "headers": {}, "body": {"title": "mp", "n": 3}},
            {
                "method": "PUT",
                "url": rec_url(name) + "?fields=title",
                "headers": {},
                "body": {"title": "mp2"},
            },
        ]
    }
    body, ctype = multipart([("@jsonPayload", orjson.dumps(payload).decode())])
    r = await api.client.post("/api/batch", content=body, headers={"Content-Type": ctype})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out[0]["status"] == 200 and out[0]["body"]["title"] == "mp" and out[0]["body"]["n"] == 3
    assert out[1] == {"body": {"title": "mp2"}, "status": 200}

    # Stray plain fields do not break the batch, nor does a file part `requests.N.field` for a
    # field that takes no files: ignored, as PocketBase ignores it (uploads: test_file_uploads.py).
    body, ctype = multipart(
        [
            ("@jsonPayload", orjson.dumps({"requests": [payload["requests"][0]]}).decode()),
            ("requests.0.title", "ignored"),
        ]
    )
    r = await api.client.post("/api/batch", content=body, headers={"Content-Type": ctype})
    assert r.status_code == 200, r.text
    assert r.json()[0]["body"]["title"] == "mp"
    body, ctype = multipart(
        [
            ("@jsonPayload", orjson.dumps({"requests": [payload["requests"][0]]}).decode()),
            ("requests.0.doc", ("a.txt", b"hello", "text/plain")),
        ]
    )
    r = await api.client.post("/api/batch", content=body, headers={"Content-Type": ctype})
    assert r.status_code == 200, r.text
    assert "doc" not in r.json()[0]["body"]

    body, ctype = multipart([("requests", orjson.dumps(payload["requests"]).decode())])
    r = await api.client.post("/api/batch", content=body, headers={"Content-Type": ctype})
    assert r.status_code == 400 and r.json() == READ_FAILED
    assert await titles(api, name) == ["mp2:0", "mp:3", "mp:3", "mp:3"]


async def test_json_keys_bind_case_insensitively(api: Api, batch_on: None) -> None:
    name = await base(api)
    r = await api.client.post(
        "/api/batch",
        json={
            "Requests": [{"METHOD": "POST", "Url": rec_url(name), "Body": {"title": "ci"}, "headers": None}]
        },
    )
    assert r.status_code == 200, r.text
    assert r.json()[0]["body"]["title"] == "ci"


@pytest.mark.parametrize(
    "body",
    [
        b'{"requests":{}}',
        b'{"requests":"x"}',
        b'{"requests":[1]}',
        b'{"requests":[[]]}',
        b'{"requests":[{"method":1,"url":"/x"}]}',
        b'{"requests":[{"method":"POST","url":"/x","body":"x"}]}',
        b'{"requests":[{"method":"POST","url":"/x","body":[1]}]}',
        b'{"requests":[{"method":"POST","url":"/x","headers":{"a":1}}]}',
        b'{"requests":[{"method":"POST","url":"/x","headers":[]}]}',
        b"[1]",
        b"{bad",
        b'"requests"',
    ],
)
async def test_unreadable_bodies(api: Api, batch_on: None, body: bytes) -> None:
    r = await api.client.post("/api/batch", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    assert r.json() == READ_FAILED


async def test_unreadable_content_types(api: Api, batch_on: None) -> None:
    r = await api.client.post(
        "/api/batch", content=b'{"requests":[]}', headers={"Content-Type": "text/plain"}
    )
    assert r.status_code == 400 and r.json() == READ_FAILED
    body, ctype = multipart([("@jsonPayload", "notjson")])
    r = await api.client.post("/api/batch", content=body, headers={"Content-Type": ctype})
    assert r.status_code == 400 and r.json() == READ_FAILED


@pytest.mark.parametrize("body", [b"", b"{}", b"null", b'{"requests":[]}', b'{"requests":null}'])
async def test_empty_requests(api: Api, batch_on: None, body: bytes) -> None:
    r = await api.client.post("/api/batch", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert r.json() == invalid({"code": "validation_required", "message": "Cannot be blank."})


async def test_invalid_sub_requests(api: Api, batch_on: None) -> None:
    name = await base(api)
    required = {"code": "validation_required", "message": "Cannot be blank."}
    r = await send(
        api,
        [
            sub("POST", rec_url(name) + "?x=" + "a" * 2000),
            {"method": "PUT"},
            sub("GET", "x"),  # a valid method (no action: fails only when run)
            sub("post", rec_url(name)),
            {},
            None,
        ],
    )
    assert r.status_code == 400
    assert r.json() == invalid(
        {
            "0": {
                "url": {
                    "code": "validation_length_too_long",
                    "message": "The length must be no more than 2000.",
                    "params": {"max": 2000, "min": 0},
                }
            },
            "1": {"url": required},
            "3": {"method": {"code": "validation_in_invalid", "message": "Must be a valid value."}},
            "4": {"method": required, "url": required},
            "5": {"method": required, "url": required},
        }
    )
    assert await items(api, name) == []
