"""Every endpoint answers malformed input with PocketBase's envelope and a 4xx, never a 500."""

from __future__ import annotations

import itertools

import pytest

from tests.conftest import Api, unique

BODIES: list[tuple[str, bytes]] = [
    ("application/json", b"{bad"),
    ("application/json", b"[]"),
    ("application/json", b"null"),
    ("application/json", b'"text"'),
    ("application/json", b"1e999"),
    ("application/json", b'{"a":' + b"[" * 5000 + b"]" * 5000 + b"}"),
    ("application/json", b'{"title": {"$gt": ""}, "count": [[]], "done": "maybe", "tags": {"a": 1}}'),
    ("application/json", b'{"id": 5, "email": ["x"], "password": {}, "passwordConfirm": 1}'),
    ("application/json", b'{"name": 1, "type": [], "fields": {"x": 1}, "indexes": "CREATE"}'),
    ("application/json", b'{"meta": "x", "smtp": [], "batch": {"maxRequests": "many"}}'),
    ("application/json", b'{"collections": "all", "deleteMissing": "yes"}'),
    # the auth flows, realtime and API keys: every field of the wrong type
    ("application/json", b'{"email": 1, "token": [], "newEmail": {}, "otpId": 5, "mfaId": []}'),
    ("application/json", b'{"password": {}, "passwordConfirm": [], "identity": 1, "identityField": []}'),
    (
        "application/json",
        b'{"provider": 1, "code": [], "codeVerifier": {}, "redirectURL": 5, "createData": "x"}',
    ),
    (
        "application/json",
        b'{"provider": "oidc", "code": "x", "codeVerifier": "y", "redirectURL": "z", "createData": []}',
    ),
    ("application/json", b'{"clientId": 1, "subscriptions": "all"}'),
    ("application/json", b'{"clientId": "x", "subscriptions": [1, null, {"a": 1}]}'),
    ("application/json", b'{"duration": "long", "name": [], "scopes": {"admin": true}}'),
    ("application/json", b'{"duration": 1e308, "scopes": ["admin"], "name": "k"}'),
    ("application/json", b'{"email": "a@b.co", "template": ["verification"], "collection": 7}'),
    ("application/json", '{"title": "\udcff"}'.encode("utf-8", "surrogatepass")),
    ("multipart/form-data; boundary=xyz", b"--xyz\r\nbroken"),
    ("multipart/form-data", b"no boundary"),
    ("application/x-www-form-urlencoded", b"%%%&&&=%zz"),
    ("text/xml", b"<a/>"),
]


def endpoints(coll: str, auth_coll: str) -> list[tuple[str, str]]:
    return [
        ("POST", f"/api/collections/{coll}/records"),
        ("PATCH", f"/api/collections/{coll}/records/aaaaaaaaaaaaaaa"),
        ("POST", f"/api/collections/{auth_coll}/records"),
        ("POST", f"/api/collections/{auth_coll}/auth-with-password"),
        ("POST", f"/api/collections/{auth_coll}/auth-refresh"),
        ("POST", "/api/collections"),
        ("PATCH", f"/api/collections/{coll}"),
        ("PUT", "/api/collections/import"),
        ("PATCH", "/api/settings"),
        ("POST", "/api/settings/test/email"),
        ("POST", f"/api/collections/{auth_coll}/request-otp"),
        ("POST", f"/api/collections/{auth_coll}/auth-with-otp"),
        ("POST", f"/api/collections/{auth_coll}/auth-with-oauth2"),
        ("POST", f"/api/collections/{auth_coll}/request-verification"),
        ("POST", f"/api/collections/{auth_coll}/confirm-verification"),
        ("POST", f"/api/collections/{auth_coll}/request-password-reset"),
        ("POST", f"/api/collections/{auth_coll}/confirm-password-reset"),
        ("POST", f"/api/collections/{auth_coll}/request-email-change"),
        ("POST", f"/api/collections/{auth_coll}/confirm-email-change"),
        ("POST", f"/api/collections/{auth_coll}/impersonate/aaaaaaaaaaaaaaa"),
        ("POST", f"/api/collections/{auth_coll}/auth-logout"),
        ("POST", "/api/realtime"),
        ("POST", "/api/oauth2-redirect"),
        ("POST", "/api/hearth/api-keys"),
        ("POST", "/api/files/token"),
    ]


@pytest.mark.parametrize("as_superuser", [False, True])
async def test_no_500_on_malformed_bodies(api: Api, as_superuser: bool) -> None:
    coll = unique("bad")
    await api.create_collection(
        {
            "name": coll,
            "type": "base",
            "listRule": "",
            "viewRule": "",
            "createRule": "",
            "updateRule": "",
            "deleteRule": "",
            "fields": [
                {"name": "title", "type": "text"},
                {"name": "count", "type": "number"},
                {"name": "done", "type": "bool"},
                {"name": "tags", "type": "select", "values": ["a", "b"], "maxSelect": 2},
            ],
        }
    )
    auth_coll = unique("badauth")
    await api.create_collection(
        {
            "name": auth_coll,
            "type": "auth",
            "createRule": "",
            "otp": {"enabled": True},
            "mfa": {"enabled": True},
            "oauth2": {
                "enabled": True,
                "providers": [
                    {
                        "name": "oidc",
                        "clientId": "c",
                        "clientSecret": "s",
                        "authURL": "http://127.0.0.1:9/auth",
                        "tokenURL": "http://127.0.0.1:9/token",
                        "userInfoURL": "http://127.0.0.1:9/userinfo",
                    }
                ],
            },
        }
    )
    headers = api.su() if as_superuser else {}
    for (method, url), (ctype, body) in itertools.product(endpoints(coll, auth_coll), BODIES):
        r = await api.client.request(method, url, content=body, headers={**headers, "content-type": ctype})
        assert r.status_code < 500, (method, url, ctype, body[:60], r.text[:300])
        if r.status_code >= 400:
            assert set(r.json()) == {"data", "message", "status"} and r.json()["status"] == r.status_code
    # The collection survived whatever was thrown at it.
    r = await api.client.get(f"/api/collections/{coll}", headers=api.su())
    assert r.status_code == 200 and [f["name"] for f in r.json()["fields"]] == [
        "id",
        "title",
        "count",
        "done",
        "tags",
    ]


async def test_no_500_on_malformed_queries_and_paths(api: Api) -> None:
    coll = unique("badq")
    await api.create_collection(
        {
            "name": coll,
            "type": "base",
            "listRule": "",
            "viewRule": "",
            "fields": [{"name": "t", "type": "text"}],
        }
    )
    url = f"/api/collections/{coll}/records"
    queries = [
        {"filter": "t = 'x' &&"},
        {"filter": "(" * 100},
        {"filter": "t ~ " + "'%'" * 2000},
        {"filter": "@request.auth.id = ''"},
        {"filter": "t.x.y.z = 1"},
        {"sort": "-@random,+t,-"},
        {"sort": "t" * 300},
        {"fields": "a:excerpt(999999999999999999999,true)"},
        {"page": "-999999999999999999999"},
        {"perPage": "1e3"},
        {"expand": "x.y.z.w.v.u.t.s"},
    ]
    for params in queries:
        for target in (url, "/api/collections"):
            r = await api.client.get(target, params=params, headers=api.su())
            assert r.status_code < 500, (target, params, r.text[:200])
    for path in ["%2e%2e", "a" * 1000, "%00", "ünï", "x/y"]:
        for method in ("GET", "PATCH", "DELETE"):
            r = await api.client.request(method, f"{url}/{path}", json={})
            assert r.status_code in (400, 403, 404), (method, path, r.status_code)
        r = await api.client.get(f"/api/collections/{path}/records")
        assert r.status_code == 404
