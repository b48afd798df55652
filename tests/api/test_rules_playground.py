"""The rules playground (`POST /api/hearth/collections/{collection}/rules-playground`) through a
running Hearth (SQLite and PostgreSQL): the records a guest or an auth record may list or view
(as the records API itself answers them), each top-level part of the rule of a refused record,
rules joining another collection, superusers only, and bad input; and the splitting of a rule
into its top-level parts."""

from __future__ import annotations

from typing import Any

import pytest

from hearth.filter import FilterSyntaxError
from hearth.filter.parts import RuleParts, top_level_parts
from tests.conftest import OPEN, Api, unique

PW = "Secret-pass-123"
RULE = "published = true || @request.auth.id = author"


def url(collection: str) -> str:
    return f"/api/hearth/collections/{collection}/rules-playground"


async def play(api: Api, collection: str, body: dict[str, Any], status: int = 200) -> dict[str, Any]:
    r = await api.client.post(url(collection), json=body, headers=api.su())
    assert r.status_code == status, r.text
    return dict(r.json())


async def people(api: Api) -> str:
    c = await api.create_collection({"name": unique("people"), "type": "auth", **OPEN})
    return str(c["name"])


async def person(api: Api, coll: str) -> str:
    email = f"{unique('p')}@example.com"
    r = await api.client.post(f"/api/collections/{coll}/records",
                              json={"email": email, "password": PW, "passwordConfirm": PW})  # fmt: skip
    assert r.status_code == 200, r.text
    return str(r.json()["id"])


async def token(api: Api, coll: str, rid: str) -> str:
    r = await api.client.post(f"/api/collections/{coll}/impersonate/{rid}", json={}, headers=api.su())
    assert r.status_code == 200, r.text
    return str(r.json()["token"])


async def posts(api: Api, owners: str, list_rule: str = RULE, view_rule: str | None = RULE) -> str:
    c = await api.create_collection({
        "name": unique("posts"), "listRule": list_rule, "viewRule": view_rule,
        "fields": [{"name": "title", "type": "text"}, {"name": "published", "type": "bool"},
                   {"name": "author", "type": "relation", "collectionId": owners, "maxSelect": 1}],
    })  # fmt: skip
    return str(c["name"])


async def post(api: Api, coll: str, title: str, published: bool, author: str = "") -> str:
    r = await api.client.post(f"/api/collections/{coll}/records",
                              json={"title": title, "published": published, "author": author},
                              headers=api.su())  # fmt: skip
    assert r.status_code == 200, r.text
    return str(r.json()["id"])


async def listed_as(api: Api, coll: str, auth: str | None) -> set[str]:
    """What the records API itself lists for this token (None: a guest)."""
    headers = {"Authorization": auth} if auth else {}
    r = await api.client.get(f"/api/collections/{coll}/records", params={"perPage": 500}, headers=headers)
    assert r.status_code == 200, r.text
    return {x["id"] for x in r.json()["items"]}


def ids(answer: dict[str, Any]) -> set[str]:
    return {x["id"] for x in answer["items"]}


async def test_guest_and_author_see_what_the_records_api_lists(api: Api) -> None:
    owners = await people(api)
    author, other = await person(api, owners), await person(api, owners)
    coll = await posts(api, owners)
    public = await post(api, coll, "public", True, other)
    draft = await post(api, coll, "mine", False, author)
    hidden = await post(api, coll, "theirs", False, other)

    guest = await play(api, coll, {"auth": None, "rule": "list"})
    assert ids(guest) == {public} == await listed_as(api, coll, None)
    assert guest["totalItems"] == 1 and guest["auth"] is None and guest["expression"] == RULE
    assert guest["access"] == "expression" and guest["superuser"] is False

    as_author = await play(api, coll, {"auth": {"collection": owners, "id": author}, "rule": "list"})
    assert ids(as_author) == {public, draft} == await listed_as(api, coll, await token(api, coll=owners, rid=author))
    assert as_author["auth"] == {"collection": owners, "id": author}
    # The items are the records as that requester would get them.
    mine = next(x for x in as_author["items"] if x["id"] == draft)
    assert mine["title"] == "mine" and mine["author"] == author and mine["collectionName"] == coll
    assert hidden not in ids(as_author)

    # Whether the rule admits each of a list of records (a missing one is not admitted).
    checked = await play(api, coll, {"auth": None, "check": [public, draft, hidden, "missing0000000"]})
    assert checked["checked"] == {public: True, draft: False, hidden: False, "missing0000000": False}
    checked = await play(api, coll, {"auth": {"collection": owners, "id": author}, "check": [public, draft, hidden]})
    assert checked["checked"] == {public: True, draft: True, hidden: False}

    # Paging goes through the same list.
    first = await play(api, coll, {"auth": {"collection": owners, "id": author}, "page": 1, "perPage": 1})
    second = await play(api, coll, {"auth": {"collection": owners, "id": author}, "page": 2, "perPage": 1})
    assert first["totalItems"] == 2 and first["totalPages"] == 2 and first["perPage"] == 1
    assert ids(first) | ids(second) == {public, draft} and ids(first) != ids(second)


async def test_a_refused_record_reports_each_part(api: Api) -> None:
    owners = await people(api)
    author, other = await person(api, owners), await person(api, owners)
    coll = await posts(api, owners)
    hidden = await post(api, coll, "theirs", False, other)
    draft = await post(api, coll, "mine", False, author)
    public = await post(api, coll, "public", True, other)
    as_author = {"collection": owners, "id": author}

    refused = (await play(api, coll, {"auth": as_author, "record": hidden}))["record"]
    assert refused == {"id": hidden, "allowed": False, "operator": "||", "parts": [
        {"expression": "published = true", "result": False},
        {"expression": "@request.auth.id = author", "result": False},
    ]}  # fmt: skip
    admitted = (await play(api, coll, {"auth": as_author, "record": draft}))["record"]
    assert admitted["allowed"] is True
    assert [p["result"] for p in admitted["parts"]] == [False, True]
    by_guest = (await play(api, coll, {"auth": None, "record": public}))["record"]
    assert by_guest["allowed"] is True and [p["result"] for p in by_guest["parts"]] == [True, False]

    # The view rule is asked for with rule "view"; it may differ from the list rule.
    r = await api.client.patch(f"/api/collections/{coll}", json={"viewRule": "@request.auth.id != '' && published = false"},
                               headers=api.su())  # fmt: skip
    assert r.status_code == 200, r.text
    viewed = await play(api, coll, {"auth": as_author, "rule": "view", "record": public})
    assert viewed["expression"] == "@request.auth.id != '' && published = false"
    assert ids(viewed) == {hidden, draft}
    assert viewed["record"]["allowed"] is False and viewed["record"]["operator"] == "&&"
    assert [(p["expression"], p["result"]) for p in viewed["record"]["parts"]] == [
        ("@request.auth.id != ''", True), ("published = false", False)]  # fmt: skip
    assert ids(await play(api, coll, {"auth": None, "rule": "view"})) == set()


async def test_parts_made_of_parts(api: Api) -> None:
    owners = await people(api)
    author = await person(api, owners)
    rule = 'published = true || (@request.auth.id = author && title = "keep") && title != ""'
    coll = await posts(api, owners, list_rule=rule)
    draft = await post(api, coll, "draft", False, author)
    keep = await post(api, coll, "keep", False, author)
    as_author = {"collection": owners, "id": author}
    explained = (await play(api, coll, {"auth": as_author, "record": draft}))["record"]
    assert explained["allowed"] is False and explained["operator"] == "||"
    assert explained["parts"] == [
        {"expression": "published = true", "result": False},
        {"expression": '(@request.auth.id = author && title = "keep") && title != ""', "result": False,
         "operator": "&&", "parts": [
             {"expression": '(@request.auth.id = author && title = "keep")', "result": False,
              "operator": "&&", "parts": [
                  {"expression": "@request.auth.id = author", "result": True},
                  {"expression": 'title = "keep"', "result": False}]},
             {"expression": 'title != ""', "result": True}]},
    ]  # fmt: skip
    assert ids(await play(api, coll, {"auth": as_author})) == {keep}


async def test_null_and_empty_rules_and_a_superuser(api: Api) -> None:
    owners = await people(api)
    someone = await person(api, owners)
    coll = await posts(api, owners, list_rule="", view_rule=None)
    rec = await post(api, coll, "x", False)

    everyone = await play(api, coll, {"auth": None, "record": rec})
    assert everyone["access"] == "everyone" and ids(everyone) == {rec}
    assert everyone["record"] == {"id": rec, "allowed": True, "operator": "", "parts": []}

    locked = await play(api, coll, {"auth": {"collection": owners, "id": someone}, "rule": "view", "record": rec})
    assert locked["access"] == "superusers" and locked["expression"] is None
    assert locked["items"] == [] and locked["totalItems"] == 0
    assert locked["record"]["allowed"] is False and locked["record"]["parts"] == []

    su_id = (await api.client.get("/api/collections/_superusers/records", headers=api.su())).json()["items"][0]["id"]
    as_su = await play(api, coll, {"auth": {"collection": "_superusers", "id": su_id}, "rule": "view", "record": rec})
    assert as_su["superuser"] is True and ids(as_su) == {rec} and as_su["record"]["allowed"] is True


async def test_rules_joining_another_collection(api: Api) -> None:
    owners = await people(api)
    member, outsider = await person(api, owners), await person(api, owners)
    coll = await posts(api, owners)
    grants = await api.create_collection({"name": unique("grants"), **OPEN, "fields": [
        {"name": "user", "type": "relation", "collectionId": owners, "maxSelect": 1}]})  # fmt: skip
    r = await api.client.post(f"/api/collections/{grants['name']}/records", json={"user": member}, headers=api.su())
    assert r.status_code == 200, r.text
    rule = f"published = true || @collection.{grants['name']}.user ?= @request.auth.id"
    r = await api.client.patch(f"/api/collections/{coll}", json={"listRule": rule}, headers=api.su())
    assert r.status_code == 200, r.text
    public = await post(api, coll, "public", True)
    draft = await post(api, coll, "draft", False)

    as_member = await play(api, coll, {"auth": {"collection": owners, "id": member}})
    assert ids(as_member) == {public, draft} == await listed_as(api, coll, await token(api, owners, member))
    as_outsider = await play(api, coll, {"auth": {"collection": owners, "id": outsider}, "record": draft})
    assert ids(as_outsider) == {public} == await listed_as(api, coll, await token(api, owners, outsider))
    assert [(p["expression"], p["result"]) for p in as_outsider["record"]["parts"]] == [
        ("published = true", False), (f"@collection.{grants['name']}.user ?= @request.auth.id", False)]  # fmt: skip
    explained = (await play(api, coll, {"auth": {"collection": owners, "id": member}, "record": draft}))["record"]
    assert explained["allowed"] is True and [p["result"] for p in explained["parts"]] == [False, True]


async def test_superusers_only(api: Api) -> None:
    owners = await people(api)
    someone = await person(api, owners)
    coll = await posts(api, owners)
    r = await api.client.post(url(coll), json={"auth": None})
    assert r.status_code == 401, r.text
    assert set(r.json()) == {"status", "message", "data"} and r.json()["status"] == 401
    r = await api.client.post(url(coll), json={"auth": None}, headers={"Authorization": await token(api, owners, someone)})
    assert r.status_code == 403, r.text
    assert set(r.json()) == {"status", "message", "data"} and r.json()["status"] == 403


async def test_bad_input(api: Api) -> None:
    owners = await people(api)
    someone = await person(api, owners)
    coll = await posts(api, owners)
    missing = await play(api, unique("nope"), {"auth": None}, 404)
    assert missing["status"] == 404 and missing["message"] == "Missing collection context."
    gone = await play(api, coll, {"auth": None, "record": "doesnotexist123"}, 404)
    assert gone["status"] == 404
    cases: list[tuple[dict[str, Any], str]] = [
        ({"auth": {"collection": coll, "id": someone}}, "auth"),  # not an auth collection
        ({"auth": {"collection": owners, "id": "nobody123456789"}}, "auth"),
        ({"auth": {"collection": unique("nope"), "id": someone}}, "auth"),
        ({"auth": "guest"}, "auth"),
        ({"auth": None, "rule": "create"}, "rule"),
        ({"auth": None, "page": "2"}, "page"),
        ({"auth": None, "record": 12}, "record"),
        ({"auth": None, "record": "a\x00b"}, "record"),
        ({"auth": {"collection": owners, "id": "a\x00b"}}, "auth"),
        ({"auth": None, "check": ["a\x00b"]}, "check"),
        ({"auth": None, "check": "abc"}, "check"),
        ({"auth": None, "check": ["x"] * 101}, "check"),
    ]
    for body, name in cases:
        answer = await play(api, coll, body, 400)
        assert answer["status"] == 400 and name in answer["data"], (body, answer)


# ----- the splitting of a rule into its top-level parts (no server) ---------------------------


@pytest.mark.parametrize("rule, expected", [
    ("a = 1", RuleParts("", ("a = 1",))),
    ("a = 1 && b = 2", RuleParts("&&", ("a = 1", "b = 2"))),
    # && binds tighter than ||: the top level is ||.
    ("a = 1 && b = 2 || c = 3", RuleParts("||", ("a = 1 && b = 2", "c = 3"))),
    ("a = 1 || b = 2 && c = 3", RuleParts("||", ("a = 1", "b = 2 && c = 3"))),
    ("(a = 1 || b = 2) && c = 3", RuleParts("&&", ("(a = 1 || b = 2)", "c = 3"))),
    # Parentheses around the whole rule are looked through, nested ones kept.
    ("((a = 1 || (b = 2 && c = 3)))", RuleParts("||", ("a = 1", "(b = 2 && c = 3)"))),
    ("(a = 1) && (b = 2)", RuleParts("&&", ("(a = 1)", "(b = 2)"))),
    # Joins inside quotes and function calls are not the rule's.
    ("title = 'x && y' || geoDistance(a, b, 1, 2) < 5", RuleParts("||", ("title = 'x && y'", "geoDistance(a, b, 1, 2) < 5"))),
    ("a = 1 // first\n&& b = 2", RuleParts("&&", ("a = 1", "b = 2"))),
    ("   // nothing\n", RuleParts("", ())),
])  # fmt: skip
def test_top_level_parts(rule: str, expected: RuleParts) -> None:
    assert top_level_parts(rule) == expected
    for part in expected.parts:  # each part is a rule of its own
        assert top_level_parts(part).parts


def test_an_invalid_rule_is_refused() -> None:
    for rule in ("a = 1 &&", "(a = 1", "a = 1)"):
        with pytest.raises(FilterSyntaxError):
            top_level_parts(rule)
