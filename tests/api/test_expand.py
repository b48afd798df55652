"""`?expand=`: relations, nesting, back-relations, and the view rule of every expanded record."""

from __future__ import annotations

from tests.conftest import OPEN, Api, unique


async def blog(api: Api, author_view_rule: str | None = "") -> dict[str, str]:
    authors = await api.create_collection(
        {
            "name": unique("authors"),
            "type": "base",
            **OPEN,
            "viewRule": author_view_rule,
            "fields": [{"name": "name", "type": "text"}, {"name": "secret", "type": "text", "hidden": True}],
        }
    )
    posts = await api.create_collection(
        {
            "name": unique("posts"),
            "type": "base",
            **OPEN,
            "fields": [
                {"name": "title", "type": "text"},
                {"name": "author", "type": "relation", "collectionId": authors["id"], "maxSelect": 1},
                {"name": "fans", "type": "relation", "collectionId": authors["id"], "maxSelect": 5},
            ],
        }
    )
    comments = await api.create_collection(
        {
            "name": unique("comments"),
            "type": "base",
            **OPEN,
            "fields": [
                {"name": "text", "type": "text"},
                {"name": "post", "type": "relation", "collectionId": posts["id"], "maxSelect": 1},
            ],
        }
    )
    c, su = api.client, api.su()
    ann = (
        await c.post(
            f"/api/collections/{authors['name']}/records", json={"name": "Ann", "secret": "s1"}, headers=su
        )
    ).json()["id"]
    bob = (
        await c.post(f"/api/collections/{authors['name']}/records", json={"name": "Bob"}, headers=su)
    ).json()["id"]
    p1 = (
        await c.post(
            f"/api/collections/{posts['name']}/records",
            json={"title": "P1", "author": ann, "fans": [bob, ann]},
        )
    ).json()["id"]
    p2 = (
        await c.post(f"/api/collections/{posts['name']}/records", json={"title": "P2", "author": bob})
    ).json()["id"]
    await c.post(f"/api/collections/{comments['name']}/records", json={"text": "c1", "post": p1})
    await c.post(f"/api/collections/{comments['name']}/records", json={"text": "c2", "post": p1})
    return {
        "authors": authors["name"],
        "posts": posts["name"],
        "comments": comments["name"],
        "ann": ann,
        "bob": bob,
        "p1": p1,
        "p2": p2,
    }


async def test_single_multi_and_nested_expand(api: Api) -> None:
    s = await blog(api)
    c = api.client
    r = (
        await c.get(f"/api/collections/{s['posts']}/records/{s['p1']}", params={"expand": "author,fans"})
    ).json()
    assert r["expand"]["author"]["name"] == "Ann" and "secret" not in r["expand"]["author"]
    assert [a["name"] for a in r["expand"]["fans"]] == ["Bob", "Ann"], (
        "multi relations keep the field's order"
    )
    r = (
        await c.get(
            f"/api/collections/{s['comments']}/records", params={"expand": "post.author", "sort": "text"}
        )
    ).json()
    assert [
        (x["text"], x["expand"]["post"]["title"], x["expand"]["post"]["expand"]["author"]["name"])
        for x in r["items"]
    ] == [
        ("c1", "P1", "Ann"),
        ("c2", "P1", "Ann"),
    ]
    r = (
        await c.get(f"/api/collections/{s['posts']}/records/{s['p1']}", params={"expand": "nope,title"})
    ).json()
    assert "expand" not in r
    r = (
        await c.get(
            f"/api/collections/{s['posts']}/records/{s['p2']}",
            params={"expand": "fans", "fields": "title,expand"},
        )
    ).json()
    assert r == {"title": "P2", "expand": {}}, "a valid relation with nothing to show still gives expand: {}"


async def test_back_relation_expand(api: Api) -> None:
    s = await blog(api)
    via = f"{s['posts']}_via_author"
    r = (
        await api.client.get(
            f"/api/collections/{s['authors']}/records/{s['ann']}",
            params={"expand": f"{via}.{s['comments']}_via_post"},
        )
    ).json()
    posts = r["expand"][via]
    assert [p["title"] for p in posts] == ["P1"]
    assert sorted(x["text"] for x in posts[0]["expand"][f"{s['comments']}_via_post"]) == ["c1", "c2"]


async def test_expanded_records_pass_their_own_view_rule(api: Api) -> None:
    s = await blog(api, author_view_rule="name = 'Bob'")
    r = (
        await api.client.get(
            f"/api/collections/{s['posts']}/records/{s['p1']}", params={"expand": "author,fans"}
        )
    ).json()
    assert "author" not in r["expand"], "Ann fails the authors' view rule for a guest"
    assert [a["name"] for a in r["expand"]["fans"]] == ["Bob"]
    r = (
        await api.client.get(
            f"/api/collections/{s['posts']}/records/{s['p1']}", params={"expand": "author"}, headers=api.su()
        )
    ).json()
    assert r["expand"]["author"]["secret"] == "s1", "superusers see everything, hidden fields included"
