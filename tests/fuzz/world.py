"""The fixed world the fuzzer plays in: collections, records and users with known ids and names.

Everything here is deterministic (ids are given, not generated) so that a seed and a request
index name the same request on every run; only tokens and the realtime client id are obtained at
run time and substituted into the requests (see `PLACEHOLDERS`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

SUPERUSER = ("admin@example.com", "adminpass123")
USER = ("fuzzuser@example.com", "fuzz-pass-1234")
VICTIM = ("victim@example.com", "victim-pass-1234")
USER_ID = "fzuser000000001"
VICTIM_ID = "fzvictim0000001"

OPEN_RULES = {"listRule": "", "viewRule": "", "createRule": "", "updateRule": "", "deleteRule": ""}

# Placeholders a request may carry; the harness swaps in run-time values before sending.
TOKEN_USER = "@@TOKEN_USER@@"
TOKEN_SUPERUSER = "@@TOKEN_SUPERUSER@@"
CLIENT_ID = "@@CLIENT_ID@@"
PLACEHOLDERS = (TOKEN_USER, TOKEN_SUPERUSER, CLIENT_ID)


def _rec_id(prefix: str, i: int) -> str:
    return f"{prefix}{i:0{15 - len(prefix)}d}"


TAG_IDS = [_rec_id("fztag", i) for i in range(3)]
POST_IDS = [_rec_id("fzpost", i) for i in range(5)]
COMMENT_IDS = [_rec_id("fzcomm", i) for i in range(5)]
SECRET_IDS = [_rec_id("fzsecret", i) for i in range(2)]

COLLECTIONS: list[dict[str, Any]] = [
    {
        "id": "fzc_tags0000001",
        "name": "tags",
        "type": "base",
        **OPEN_RULES,
        "fields": [
            {"name": "name", "type": "text", "required": True, "max": 50},
            {"name": "weight", "type": "number", "min": -100, "max": 100},
            {"name": "color", "type": "select", "values": ["red", "green", "blue"], "maxSelect": 1},
        ],
        "indexes": ["CREATE UNIQUE INDEX idx_fz_tags_name ON tags (name)"],
    },
    {
        "id": "fzc_members0001",
        "name": "members",
        "type": "auth",
        "listRule": "id = @request.auth.id",
        "viewRule": "id = @request.auth.id",
        "createRule": "",
        "updateRule": "id = @request.auth.id",
        "deleteRule": None,
        "otp": {"enabled": True},
        "passwordAuth": {"enabled": True, "identityFields": ["email", "username"]},
        # An identity field needs a UNIQUE index (PocketBase refuses the collection otherwise).
        "indexes": ["CREATE UNIQUE INDEX idx_members_username ON members (username) WHERE username != ''"],
        "fields": [
            {"name": "username", "type": "text", "max": 40},
            {"name": "bio", "type": "editor"},
            {"name": "homepage", "type": "url"},
            {"name": "born", "type": "date"},
            {"name": "level", "type": "number", "onlyInt": True},
        ],
    },
    {
        "id": "fzc_posts000001",
        "name": "posts",
        "type": "base",
        "listRule": "published = true || author = @request.auth.id",
        "viewRule": "published = true || author = @request.auth.id",
        "createRule": "@request.auth.id != ''",
        "updateRule": "author = @request.auth.id",
        "deleteRule": "author = @request.auth.id",
        "fields": [
            {"name": "title", "type": "text", "max": 200, "presentable": True},
            {"name": "body", "type": "editor"},
            {"name": "views", "type": "number", "min": 0},
            {"name": "published", "type": "bool"},
            {"name": "published_at", "type": "date"},
            {"name": "contact", "type": "email"},
            {"name": "link", "type": "url"},
            {"name": "meta", "type": "json"},
            {"name": "status", "type": "select", "values": ["draft", "live", "archived"], "maxSelect": 1},
            {"name": "labels", "type": "select", "values": ["a", "b", "c", "d"], "maxSelect": 3},
            {"name": "author", "type": "relation", "collectionId": "fzc_members0001", "maxSelect": 1},
            {"name": "tags", "type": "relation", "collectionId": "fzc_tags0000001", "maxSelect": 5},
            {"name": "attachment", "type": "file", "maxSelect": 2, "maxSize": 100000},
            {"name": "location", "type": "geoPoint"},
            {"name": "created", "type": "autodate", "onCreate": True},
            {"name": "updated", "type": "autodate", "onCreate": True, "onUpdate": True},
        ],
    },
    {
        "id": "fzc_comments001",
        "name": "comments",
        "type": "base",
        **OPEN_RULES,
        "fields": [
            {
                "name": "post",
                "type": "relation",
                "collectionId": "fzc_posts000001",
                "maxSelect": 1,
                "cascadeDelete": True,
            },
            {"name": "author", "type": "relation", "collectionId": "fzc_members0001", "maxSelect": 1},
            {"name": "text", "type": "text", "pattern": "^[^<>]*$"},
            {"name": "score", "type": "number"},
        ],
    },
    {
        "id": "fzc_secrets0001",
        "name": "secrets",
        "type": "base",
        "fields": [
            {"name": "code", "type": "text", "hidden": True},
            {"name": "owner", "type": "relation", "collectionId": "fzc_members0001", "maxSelect": 1},
        ],
    },
    {
        "id": "fzc_poststats01",
        "name": "post_stats",
        "type": "view",
        "listRule": "",
        "viewRule": "",
        "viewQuery": "SELECT p.id, p.title, p.views, count(c.id) AS n FROM posts p "
        "LEFT JOIN comments c ON c.post = p.id GROUP BY p.id, p.title, p.views",
    },
]

# Field names per collection (what the generator aims values at).
FIELDS: dict[str, dict[str, str]] = {
    c["name"]: {f["name"]: f["type"] for f in c.get("fields", [])} for c in COLLECTIONS
}
FIELDS["members"].update({"email": "email", "password": "password", "passwordConfirm": "password"})
FIELDS["post_stats"] = {"title": "text", "views": "number", "n": "number"}
FIELDS["_superusers"] = {"email": "email", "password": "password", "passwordConfirm": "password"}
FIELDS["users"] = {"name": "text", "email": "email", "password": "password", "avatar": "file"}
AUTH_COLLECTIONS = ["members", "users", "_superusers"]
RELATIONS: dict[str, dict[str, str]] = {
    "posts": {"author": "members", "tags": "tags"},
    "comments": {"post": "posts", "author": "members"},
    "secrets": {"owner": "members"},
}
RECORD_IDS: dict[str, list[str]] = {
    "tags": TAG_IDS,
    "posts": POST_IDS,
    "comments": COMMENT_IDS,
    "secrets": SECRET_IDS,
    "members": [USER_ID, VICTIM_ID],
}
# Records the fuzzer must not update or delete: the signed-in user (its token must keep working).
PROTECTED_IDS = {USER_ID}


def _records() -> list[tuple[str, dict[str, Any]]]:
    out: list[tuple[str, dict[str, Any]]] = []
    for (email, password), rid, name in ((USER, USER_ID, "fuzzer"), (VICTIM, VICTIM_ID, "victim")):
        out.append(
            (
                "members",
                {
                    "id": rid,
                    "email": email,
                    "password": password,
                    "passwordConfirm": password,
                    "username": name,
                    "verified": True,
                },
            )
        )
    for i, rid in enumerate(TAG_IDS):
        out.append(("tags", {"id": rid, "name": ["red", "green", "blue"][i], "weight": i * 10}))
    for i, rid in enumerate(POST_IDS):
        out.append(
            (
                "posts",
                {
                    "id": rid,
                    "title": f"Post {i} ünïcødé",
                    "body": "<p>hello</p>",
                    "views": i * 7,
                    "published": i % 2 == 0,
                    "published_at": f"2024-01-0{i + 1} 10:00:00.000Z",
                    "contact": f"p{i}@example.com",
                    "link": "https://example.com/x",
                    "meta": {"n": i, "list": [1, 2, {"k": "v"}]},
                    "status": "live",
                    "labels": ["a", "b"],
                    "author": USER_ID if i < 3 else VICTIM_ID,
                    "tags": TAG_IDS[: i % 3 + 1],
                    "location": {"lon": 10.5 + i, "lat": 45.1},
                },
            )
        )
    for i, rid in enumerate(COMMENT_IDS):
        out.append(
            ("comments", {"id": rid, "post": POST_IDS[i % 3], "author": USER_ID, "text": f"c{i}", "score": i})
        )
    for rid in SECRET_IDS:
        out.append(("secrets", {"id": rid, "code": "s3cr3t", "owner": VICTIM_ID}))
    return out


# Settings restored after any fuzzed settings change that the server accepted.
BASELINE_SETTINGS: dict[str, Any] = {
    "batch": {"enabled": True, "maxRequests": 20, "timeout": 3, "maxBodySize": 0},
    "rateLimits": {"enabled": False},
    "superuserIPs": [],
    "trustedProxy": {"headers": [], "useLeftmostIP": False},
    "smtp": {"enabled": False},
    "meta": {"appName": "fuzz", "appURL": "http://127.0.0.1"},
}


@dataclass
class Session:
    """Run-time values: tokens and the realtime client id."""

    superuser_token: str
    user_token: str
    client_id: str = "none"
    superuser: tuple[str, str] = SUPERUSER
    lost: list[str] = field(default_factory=list)  # re-sign-ins that failed during the run
    extra: dict[str, Any] = field(default_factory=dict)

    def substitutions(self) -> dict[str, str]:
        return {TOKEN_USER: self.user_token, TOKEN_SUPERUSER: self.superuser_token, CLIENT_ID: self.client_id}


def sign_in(client: httpx.Client, collection: str, identity: str, password: str) -> str:
    r = client.post(
        f"/api/collections/{collection}/auth-with-password", json={"identity": identity, "password": password}
    )
    if r.status_code != 200:
        raise RuntimeError(f"sign-in to {collection} as {identity} failed: {r.status_code} {r.text[:300]}")
    return str(r.json()["token"])


def build_world(base_url: str, superuser: tuple[str, str] = SUPERUSER) -> Session:
    """Create the world's collections and records on a server whose superuser exists."""
    with httpx.Client(base_url=base_url, timeout=30) as client:
        su_token = sign_in(client, "_superusers", *superuser)
        su = {"Authorization": su_token}
        r = client.patch("/api/settings", json=BASELINE_SETTINGS, headers=su)
        if r.status_code != 200:
            raise RuntimeError(f"settings baseline refused: {r.status_code} {r.text[:300]}")
        for coll in COLLECTIONS:
            existing = client.get(f"/api/collections/{coll['name']}", headers=su)
            if existing.status_code == 200:
                continue  # a server reused by `python -m tests.fuzz --url`
            r = client.post("/api/collections", json=coll, headers=su)
            if r.status_code != 200:
                raise RuntimeError(f"collection {coll['name']} refused: {r.status_code} {r.text[:500]}")
        for coll_name, rec in _records():
            if client.get(f"/api/collections/{coll_name}/records/{rec['id']}", headers=su).status_code == 200:
                continue
            r = client.post(f"/api/collections/{coll_name}/records", json=rec, headers=su)
            if r.status_code != 200:
                raise RuntimeError(f"record {coll_name}/{rec['id']} refused: {r.status_code} {r.text[:500]}")
        user_token = sign_in(client, "members", *USER)
    return Session(superuser_token=su_token, user_token=user_token, superuser=superuser)


def restore_settings(client: httpx.Client, session: Session) -> None:
    client.patch("/api/settings", json=BASELINE_SETTINGS, headers={"Authorization": session.superuser_token})
