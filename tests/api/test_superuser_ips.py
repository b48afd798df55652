"""`superuserIPs`: when set, a superuser's requests and signing in as one are answered 403
unless the client's IP (as the trusted proxy settings give it) is listed, as PocketBase 0.40.6
answers (checked against the real binary: 403 "You are not allowed to perform this request.")."""

from __future__ import annotations

from typing import Any

from tests.conftest import SUPERUSER_EMAIL, SUPERUSER_PASSWORD, Api

NOT_ALLOWED = {"data": {}, "message": "You are not allowed to perform this request.", "status": 403}
FROM = "X-Test-Client-IP"  # the trusted proxy header the tests set


def at(ip: str, headers: dict[str, str] | None = None) -> dict[str, str]:
    return {FROM: ip, **(headers or {})}


async def test_superuser_requests_only_from_the_listed_addresses(api: Api) -> None:
    su = api.su()
    body = {"trustedProxy": {"headers": [FROM], "useLeftmostIP": False}, "superuserIPs": ["10.0.0.1", "192.168.0.0/16", "2001:db8::/32"]}
    r = await api.client.patch("/api/settings", json=body, headers=at("10.0.0.1", su))
    assert r.status_code == 200, r.text
    try:
        for ip in ("10.0.0.1", "192.168.7.9", "2001:db8::5"):
            assert (await api.client.get("/api/collections", headers=at(ip, su))).status_code == 200, ip
        for ip in ("10.0.0.2", "127.0.0.1", "2001:db9::1"):
            r = await api.client.get("/api/collections", headers=at(ip, su))
            assert (r.status_code, r.json()) == (403, NOT_ALLOWED), ip
            r = await api.client.get("/api/collections/users/records", headers=at(ip, su))
            assert (r.status_code, r.json()) == (403, NOT_ALLOWED), ip
        # Signing in as a superuser from elsewhere is refused before the password is looked at.
        login = {"identity": SUPERUSER_EMAIL, "password": SUPERUSER_PASSWORD}
        r = await api.client.post("/api/collections/_superusers/auth-with-password", json=login, headers=at("10.9.9.9"))
        assert (r.status_code, r.json()) == (403, NOT_ALLOWED)
        r = await api.client.post("/api/collections/_superusers/auth-with-password", json=login, headers=at("192.168.1.1"))
        assert r.status_code == 200 and r.json()["token"]
        # Everyone else is not concerned.
        assert (await api.client.get("/api/health", headers=at("10.9.9.9"))).status_code == 200
        r = await api.client.post("/api/collections/users/auth-with-password",
                                  json={"identity": "nobody@example.com", "password": "x" * 10}, headers=at("10.9.9.9"))  # fmt: skip
        assert r.status_code == 400
    finally:
        r = await api.client.patch("/api/settings", json={"superuserIPs": [], "trustedProxy": {"headers": []}},
                                   headers=at("10.0.0.1", su))  # fmt: skip
        assert r.status_code == 200, r.text
    assert (await api.client.get("/api/collections", headers=su)).status_code == 200


async def test_invalid_entries_are_refused_as_pocketbase_refuses_them(api: Api) -> None:
    cases: list[tuple[Any, Any]] = [
        (["nope"], {"0": {"code": "validation_invlaid_ip_or_subnet", "message": "Invalid IP or CIDR subnet."}}),
        (["127.0.0.1", "10.0.0.1/40"], {"1": {"code": "validation_invlaid_ip_or_subnet", "message": "Invalid IP or CIDR subnet."}}),
        ([""], {"0": {"code": "validation_required", "message": "Cannot be blank."}}),
    ]
    for value, errors in cases:
        r = await api.client.patch("/api/settings", json={"superuserIPs": value}, headers=api.su())
        assert r.status_code == 400, r.text
        assert r.json()["data"] == {"superuserIPs": errors}, value
    for value in ("x", [1]):
        r = await api.client.patch("/api/settings", json={"superuserIPs": value}, headers=api.su())
        assert r.status_code == 400 and r.json()["message"] == "An error occurred while loading the submitted data."
    r = await api.client.get("/api/settings", headers=api.su())
    assert r.json()["superuserIPs"] == []  # nothing half-saved


