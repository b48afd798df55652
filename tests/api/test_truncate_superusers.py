"""Truncating `_superusers` fails as in PocketBase (a 400; every superuser is kept).

Found by the request fuzzer (tests/fuzz): `DELETE /api/collections/_superusers/truncate` answered
204 and deleted every superuser, so nobody could sign in as one again. PocketBase deletes record
by record, refuses the last superuser and rolls the whole truncate back.
"""

from __future__ import annotations

from tests.conftest import SUPERUSER_EMAIL, SUPERUSER_PASSWORD, Api


async def test_truncate_superusers_is_refused(api: Api) -> None:
    r = await api.client.post(
        "/api/collections/_superusers/records",
        json={
            "email": f"second-{api.dialect}@example.com",
            "password": "pass12345678",
            "passwordConfirm": "pass12345678",
        },
        headers=api.su(),
    )
    assert r.status_code == 200, r.text
    r = await api.client.delete("/api/collections/_superusers/truncate", headers=api.su())
    assert r.status_code == 400
    assert r.json()["message"] == (
        "Failed to truncate collection (most likely due to required cascade delete record references)."
    )
    r = await api.client.post(
        "/api/collections/_superusers/auth-with-password",
        json={"identity": SUPERUSER_EMAIL, "password": SUPERUSER_PASSWORD},
    )
    assert r.status_code == 200
    r = await api.client.get("/api/collections/_superusers/records", headers=api.su())
    assert r.json()["totalItems"] == 2
