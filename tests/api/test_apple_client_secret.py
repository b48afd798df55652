"""`POST /api/settings/apple/generate-client-secret` as PocketBase 0.40.6 answers it (recorded
from the real binary): the checks, their order and messages, and a secret Apple would accept — an
ES256 JWT whose signature verifies with the key's public half."""

from __future__ import annotations

from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.conftest import Api

URL = "/api/settings/apple/generate-client-secret"


def pkcs8(key: Any) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()  # fmt: skip


async def test_a_secret_signed_with_the_team_key(api: Api) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    body = {"clientId": "com.example.app", "teamId": "TEAM123456", "keyId": "KEY1234567", "privateKey": pkcs8(key), "duration": 3600}
    r = await api.client.post(URL, json=body, headers=api.su())
    assert r.status_code == 200, r.text
    secret = r.json()["secret"]
    assert jwt.get_unverified_header(secret) == {"alg": "ES256", "kid": "KEY1234567", "typ": "JWT"}
    claims = jwt.decode(secret, key.public_key(), algorithms=["ES256"], audience="https://appleid.apple.com")
    assert claims["iss"] == "TEAM123456" and claims["sub"] == "com.example.app" and claims["exp"] - claims["iat"] == 3600


async def test_mistakes_answered_as_pocketbase(api: Api) -> None:
    r = await api.client.post(URL, json={}, headers=api.su())
    assert r.status_code == 400 and r.json()["message"] == "Invalid client secret data."
    blank = {"code": "validation_required", "message": "Cannot be blank."}
    assert r.json()["data"] == {k: blank for k in ("clientId", "duration", "keyId", "privateKey", "teamId")}
    r = await api.client.post(URL, json={"clientId": "a", "teamId": "b", "keyId": "c", "privateKey": "x", "duration": 99999999}, headers=api.su())
    ten = {"code": "validation_length_invalid", "message": "The length must be exactly 10.", "params": {"max": 10, "min": 10}}
    assert r.json()["data"] == {
        "duration": {"code": "validation_max_less_equal_than_required", "message": "Must be no greater than 15777000.", "params": {"threshold": 15777000}},
        "keyId": ten, "privateKey": {"code": "validation_match_invalid", "message": "Must be in a valid format."}, "teamId": ten,
    }  # fmt: skip
    ids = {"clientId": "a", "teamId": "TEAM123456", "keyId": "KEY1234567", "duration": 10}
    r = await api.client.post(URL, json={**ids, "privateKey": pkcs8(rsa.generate_private_key(65537, 2048))}, headers=api.su())
    assert (r.status_code, r.json()["message"]) == (400, "Failed to generate client secret. Raw error: \nkey is not a valid ECDSA private key.")
    r = await api.client.post(URL, json={**ids, "privateKey": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"}, headers=api.su())
    assert r.status_code == 400 and r.json()["message"].startswith("Failed to generate client secret. Raw error: \n")
    r = await api.client.post(URL, json={**ids, "duration": "10", "privateKey": "x"}, headers=api.su())
    assert (r.status_code, r.json()["message"]) == (400, "An error occurred while loading the submitted data.")
    r = await api.client.post(URL, json=ids)
    assert r.status_code == 401
