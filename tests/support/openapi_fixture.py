"""Collections of every field type (and an auth collection, a view) that the OpenAPI tests describe."""

from __future__ import annotations

from typing import Any

import httpx

OPEN = {"listRule": "", "viewRule": "", "createRule": "", "updateRule": "", "deleteRule": ""}
MEMBERS_LIST_RULE = '@request.auth.id != ""'


def members_body() -> dict[str, Any]:
    return {
        "name": "oa_members", "type": "auth",
        "listRule": MEMBERS_LIST_RULE, "viewRule": "id = @request.auth.id",
        "createRule": "", "updateRule": "id = @request.auth.id", "deleteRule": None,
        "fields": [
            {"name": "nickname", "type": "text", "max": 40},
            {"name": "secretNote", "type": "text", "hidden": True},
        ],
    }  # fmt: skip


def posts_body(members_id: str) -> dict[str, Any]:
    return {
        "name": "oa_posts", **OPEN,
        "updateRule": "author = @request.auth.id",
        "fields": [
            {"name": "title", "type": "text", "required": True, "min": 2, "max": 80},
            {"name": "slug", "type": "text", "pattern": "^[a-z0-9-]+$"},
            {"name": "views", "type": "number", "min": 0, "max": 1000000, "onlyInt": True},
            {"name": "score", "type": "number"},
            {"name": "published", "type": "bool"},
            {"name": "contact", "type": "email"},
            {"name": "homepage", "type": "url"},
            {"name": "body", "type": "editor"},
            {"name": "due", "type": "date"},
            {"name": "status", "type": "select", "values": ["draft", "live"], "maxSelect": 1},
            {"name": "labels", "type": "select", "values": ["a", "b", "c"], "maxSelect": 3},
            {"name": "author", "type": "relation", "collectionId": members_id, "maxSelect": 1},
            {"name": "cover", "type": "file", "maxSelect": 1, "maxSize": 100000},
            {"name": "attachments", "type": "file", "maxSelect": 2},
            {"name": "meta", "type": "json"},
            {"name": "place", "type": "geoPoint"},
            {"name": "created", "type": "autodate", "onCreate": True},
            {"name": "updated", "type": "autodate", "onCreate": True, "onUpdate": True},
        ],
    }  # fmt: skip


def stats_body() -> dict[str, Any]:
    return {
        "name": "oa_stats", "type": "view", "listRule": "", "viewRule": "",
        "viewQuery": "SELECT id, title, views FROM oa_posts",
    }  # fmt: skip


POST = {"title": "hello", "views": 3, "status": "live", "labels": ["a"], "meta": {"k": 1},
        "place": {"lon": 2.35, "lat": 48.85}}  # fmt: skip


def make_collections(client: httpx.Client, headers: dict[str, str]) -> None:
    """Creates the three collections and one post, through a running server."""

    def create(body: dict[str, Any]) -> dict[str, Any]:
        r = client.post("/api/collections", json=body, headers=headers)
        assert r.status_code == 200, r.text
        return dict(r.json())

    members = create(members_body())
    create(posts_body(members["id"]))
    create(stats_body())
    r = client.post("/api/collections/oa_posts/records", json=POST)
    assert r.status_code == 200, r.text
