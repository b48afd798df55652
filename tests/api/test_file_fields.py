"""File field names: names that are neither the record's own files nor uploaded with the request
are PocketBase's `validation_invalid_file` (answers checked against the real PocketBase 0.40.6);
a file sent to a route that takes none is refused with a 400 rather than silently dropped.
Nothing is written by a refused request. Uploads themselves: test_file_uploads.py."""

from __future__ import annotations

import json
import secrets
from typing import Any

import pytest

from tests.conftest import OPEN, Api, unique

CREATE_FAILED = "Failed to create record."
UPDATE_FAILED = "Failed to update record."
REFUSED = {"code": "validation_file_not_accepted", "message": "Files are not accepted here."}


def invalid(*names: str) -> dict[str, Any]:
    return {
        "code": "validation_invalid_file",
        "message": f"Invalid new files: [{' '.join(names)}].",
        "params": {"invalidFiles": list(names)},
    }


async def files_collection(api: Api, required: bool = False) -> str:
    c = await api.create_collection(
        {
            "name": unique("docs"),
            "type": "base",
            **OPEN,
            "fields": [
                {"name": "title", "type": "text"},
                {"name": "one", "type": "file", "maxSelect": 1},
                {"name": "many", "type": "file", "maxSelect": 2},
                {"name": "req", "type": "file", "maxSelect": 1, "required": required},
            ],
        }
    )
    return str(c["name"])


async def count(api: Api, coll: str) -> int:
    r = await api.client.get(f"/api/collections/{coll}/records", headers=api.su())
    return int(r.json()["totalItems"])


async def seeded(api: Api, coll: str, **values: Any) -> str:
    """A record holding file names, as records stored before (or imported) hold them: inserted
    under the API, since no upload can add files yet."""
    h = api.app.state.hearth
    c = h.collections.get(coll)
    codec = h.records.reads.codec(c)
    rid = secrets.token_hex(8)[:15].ljust(15, "0")
    row = {f.name: f.zero() for f in c.fields} | {"id": rid, "title": "seed"} | values
    await h.db.execute(codec.sql.insert, codec.params(row, codec.sql.columns))
    return rid


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"one": "made_up.pdf"}, {"one": invalid("made_up.pdf")}),
        ({"many": "made_up.pdf"}, {"many": invalid("made_up.pdf")}),
        ({"many": ["a.pdf", "b.pdf"]}, {"many": invalid("a.pdf", "b.pdf")}),
        ({"one": "x.pdf", "many": ["a.pdf"]}, {"one": invalid("x.pdf"), "many": invalid("a.pdf")}),
        ({"many+": "a.pdf"}, {"many": invalid("a.pdf")}),
        ({"+many": ["a.pdf"]}, {"many": invalid("a.pdf")}),
        ({"one": 5}, {"one": invalid("5")}),
        ({"one": ["a.pdf", "b.pdf"]}, {"one": invalid("b.pdf")}),  # a single field keeps the last
        ({"many": ["a", "b", "c"]}, {"many": invalid("a", "b", "c")}),  # before maxSelect
        ({"many": [5, True, "a", None, {"x": 1}]}, {"many": invalid("5", "true", "a")}),
        ({"many": '["a", "b"]'}, {"many": invalid("a", "b")}),
    ],
)
async def test_create_with_names_is_invalid_file(
    api: Api, body: dict[str, Any], errors: dict[str, Any]
) -> None:
    coll = await files_collection(api)
    for headers in ({}, api.su()):  # superusers cannot invent files either
        r = await api.client.post(f"/api/collections/{coll}/records", json=body, headers=headers)
        assert r.status_code == 400, r.text
        assert r.json() == {"data": errors, "message": CREATE_FAILED, "status": 400}
    assert await count(api, coll) == 0


async def test_create_with_names_in_a_form_is_invalid_file(api: Api) -> None:
    coll = await files_collection(api)
    url = f"/api/collections/{coll}/records"
    r = await api.client.post(url, data={"many": ["a.pdf", "b.pdf"]})  # urlencoded
    assert r.status_code == 400, r.text
    assert r.json()["data"] == {"many": invalid("a.pdf", "b.pdf")}
    r = await api.client.post(
        url, files=[("one", (None, "made_up.pdf")), ("title", (None, "t"))]
    )  # multipart
    assert r.status_code == 400, r.text
    assert r.json()["data"] == {"one": invalid("made_up.pdf")}
    assert await count(api, coll) == 0


async def test_invalid_names_are_reported_with_the_other_errors(api: Api) -> None:
    c = await api.create_collection(
        {
            "name": unique("docs"),
            "type": "base",
            **OPEN,
            "fields": [
                {"name": "title", "type": "text", "required": True},
                {"name": "att", "type": "file", "required": True},
                {"name": "other", "type": "file", "required": True},
            ],
        }
    )
    r = await api.client.post(f"/api/collections/{c['name']}/records", json={"att": "x.pdf"})
    assert r.status_code == 400, r.text
    assert r.json()["data"] == {
        "att": invalid("x.pdf"),
        "other": {"code": "validation_required", "message": "Cannot be blank."},
        "title": {"code": "validation_required", "message": "Cannot be blank."},
    }


@pytest.mark.parametrize("empty", ["", None, [], [""], [None], {}, "[]"])
async def test_empty_values_clear_and_are_fine(api: Api, empty: Any) -> None:
    coll = await files_collection(api)
    r = await api.client.post(f"/api/collections/{coll}/records", json={"one": empty, "many": empty})
    assert r.status_code == 200, r.text
    assert (r.json()["one"], r.json()["many"]) == ("", [])


async def test_update_keeps_or_drops_existing_names_only(api: Api) -> None:
    coll = await files_collection(api, required=True)
    rid = await seeded(api, coll, one="old_abc.pdf", many=["a_1.txt", "b_2.txt"], req="r_3.txt")
    other = await seeded(api, coll, one="theirs_9.pdf")
    url = f"/api/collections/{coll}/records/{rid}"
    stored = {"one": "old_abc.pdf", "many": ["a_1.txt", "b_2.txt"], "req": "r_3.txt"}

    async def current() -> dict[str, Any]:
        body = (await api.client.get(url)).json()
        return {k: body[k] for k in ("one", "many", "req")}

    # Refused, and the record is left as it was.
    for body, errors in [
        ({"one": "other.pdf"}, {"one": invalid("other.pdf")}),
        ({"many": ["a_1.txt", "b_2.txt", "new.pdf"]}, {"many": invalid("new.pdf")}),
        ({"many+": "new.pdf"}, {"many": invalid("new.pdf")}),
        ({"+many": "new.pdf"}, {"many": invalid("new.pdf")}),
        ({"many": ["a_1.txt", "old_abc.pdf"]}, {"many": invalid("old_abc.pdf")}),  # another field's
        ({"many+": "old_abc.pdf"}, {"many": invalid("old_abc.pdf")}),
        ({"one": "theirs_9.pdf"}, {"one": invalid("theirs_9.pdf")}),  # another record's
        ({"req": ""}, {"req": {"code": "validation_required", "message": "Cannot be blank."}}),
        ({"req": "r_3.txt", "one": ["x.txt"]}, {"one": invalid("x.txt")}),
        ({"title": "x", "one": "n.txt"}, {"one": invalid("n.txt")}),
    ]:
        r = await api.client.patch(url, json=body)
        assert r.status_code == 400, (body, r.text)
        assert r.json() == {"data": errors, "message": UPDATE_FAILED, "status": 400}, body
        assert await current() == stored, body
    assert (await api.client.get(url)).json()["title"] == "seed"
    # Accepted: the same names, a subset, a single name as a one-item array, removals.
    for body, expected in [
        ({"one": "old_abc.pdf", "many": ["a_1.txt", "b_2.txt"]}, stored),
        ({"one": ["old_abc.pdf"], "title": "t"}, stored),
        ({"many-": "unknown.pdf"}, stored),
        ({"many+": "a_1.txt"}, stored),
        ({"many": ["b_2.txt"]}, {**stored, "many": ["b_2.txt"]}),
        ({"many-": "b_2.txt"}, {**stored, "many": []}),
        ({"one": ""}, {**stored, "many": [], "one": ""}),
    ]:
        r = await api.client.patch(url, json=body)
        assert r.status_code == 200, (body, r.text)
        assert await current() == expected, body
    # A form may name the kept files too.
    rid2 = await seeded(api, coll, one="keep_1.pdf", many=["m_1.txt"], req="r_1.txt")
    r = await api.client.patch(
        f"/api/collections/{coll}/records/{rid2}",
        files=[("one", (None, "keep_1.pdf")), ("many", (None, "m_1.txt")), ("title", (None, "form"))],
    )
    assert r.status_code == 200, r.text
    assert (r.json()["one"], r.json()["many"], r.json()["title"]) == ("keep_1.pdf", ["m_1.txt"], "form")
    r = await api.client.patch(f"/api/collections/{coll}/records/{rid2}", data={"one": "zz"})
    assert r.status_code == 400, r.text
    assert r.json()["data"] == {"one": invalid("zz")}
    r = await api.client.patch(f"/api/collections/{coll}/records/{rid2}", json={"one": None, "many": None})
    assert r.status_code == 200, r.text
    assert (r.json()["one"], r.json()["many"]) == ("", [])
    assert other


async def test_batch_with_invalid_names_writes_nothing(api: Api) -> None:
    coll = await files_collection(api)
    await api.client.patch(
        "/api/settings", json={"batch": {"enabled": True, "maxRequests": 10}}, headers=api.su()
    )
    try:
        requests = [
            {"method": "POST", "url": f"/api/collections/{coll}/records", "body": {"title": "fine"}},
            {"method": "POST", "url": f"/api/collections/{coll}/records", "body": {"one": "made.pdf"}},
        ]
        r = await api.client.post("/api/batch", json={"requests": requests})
        assert r.status_code == 400, r.text
        assert r.json()["data"] == {
            "requests": {
                "1": {
                    "code": "batch_request_failed",
                    "message": "Batch request failed.",
                    "response": {
                        "data": {"one": invalid("made.pdf")},
                        "message": CREATE_FAILED,
                        "status": 400,
                    },
                }
            }
        }
    finally:
        await api.client.patch("/api/settings", json={"batch": {"enabled": False}}, headers=api.su())
    assert await count(api, coll) == 0


# ----- routes that take no files ---------------------------------------------------------------
FILE = ("report.pdf", b"%PDF-1.4 not really", "application/pdf")


async def test_an_empty_file_input_is_no_upload(api: Api) -> None:
    """Browsers send an unchosen file input as a part with no name and no content."""
    coll = await files_collection(api)
    r = await api.client.post(
        f"/api/collections/{coll}/records",
        files=[("one", ("", b"", "application/octet-stream")), ("title", (None, "t"))],
    )
    assert r.status_code == 200, r.text
    assert (r.json()["one"], r.json()["title"]) == ("", "t")


async def test_upload_to_any_other_route_is_refused(api: Api) -> None:
    name = unique("never")
    r = await api.client.post(
        "/api/collections",
        files=[("@jsonPayload", (None, json.dumps({"name": name, "type": "base"}))), ("logo", FILE)],
        headers=api.su(),
    )
    assert r.status_code == 400, r.text
    assert r.json()["data"] == {"logo": REFUSED}
    assert (await api.client.get(f"/api/collections/{name}", headers=api.su())).status_code == 404
    before = (await api.client.get("/api/settings", headers=api.su())).json()["meta"]["appName"]
    r = await api.client.patch(
        "/api/settings",
        files=[("@jsonPayload", (None, json.dumps({"meta": {"appName": "Changed"}}))), ("logo", FILE)],
        headers=api.su(),
    )
    assert r.status_code == 400, r.text
    assert (await api.client.get("/api/settings", headers=api.su())).json()["meta"]["appName"] == before
    r = await api.client.post(
        "/api/collections/users/auth-with-password",
        files=[("identity", (None, "x@example.com")), ("password", (None, "whatever1")), ("avatar", FILE)],
    )
    assert r.status_code == 400, r.text
    assert r.json()["data"] == {"avatar": REFUSED}
