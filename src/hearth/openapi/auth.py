"""An auth collection's endpoints: auth methods, logins, refresh, impersonation, account flows."""

from __future__ import annotations

from typing import Any

from hearth.openapi import common
from hearth.openapi.common import BOOLEAN, EXPAND, FIELDS, INTEGER, STRING, STRINGS, Schema, closed, ref
from hearth.openapi.records import schema_names
from hearth.openapi.rules import in_words
from hearth.schema.collection import Collection

_EMAIL = {"type": "string", "format": "email"}
_TOKEN = {"type": "string", "minLength": 1}


def auth_methods_schema() -> Schema:
    provider = closed({
        "name": STRING, "displayName": STRING, "logo": STRING, "state": STRING, "authURL": STRING,
        "authUrl": STRING, "codeVerifier": STRING, "codeChallenge": STRING, "codeChallengeMethod": STRING,
    })  # fmt: skip
    toggle = closed({"enabled": BOOLEAN, "duration": INTEGER})
    return common.partial(closed(
        {
            "password": closed({"identityFields": STRINGS, "enabled": BOOLEAN}),
            "oauth2": closed({"providers": {"type": "array", "items": provider}, "enabled": BOOLEAN}),
            "mfa": toggle,
            "otp": toggle,
            "authProviders": {"type": "array", "items": provider, "description": "Before-0.23 name of oauth2.providers."},
            "usernamePassword": BOOLEAN,
            "emailPassword": BOOLEAN,
        },
        required=[],
        description="Every key is present unless `?fields=` leaves it out.",
    ))


def _auth_response(c: Collection, meta: bool = False) -> Schema:
    props: dict[str, Schema] = {"record": ref(schema_names(c)[0]), "token": _TOKEN}
    if meta:
        props["meta"] = {"type": "object", "description": "What the provider said of its user (id, name, "
                         "email, avatarURL, isNew, rawUser, accessToken, …)."}  # fmt: skip
    return closed(props, required=[])


def paths(c: Collection) -> dict[str, dict[str, Any]]:
    base = f"/api/collections/{c.name}"
    tag = [c.name]
    login = "Every key is present unless `?fields=` leaves it out."
    logged_in = {**common.ok(_auth_response(c), "The token and the record. " + login)}
    mfa_note = " When MFA is on, the first login answers 401 with `data.mfaId`: send it with the second."

    def post(op: str, summary: str, body: Schema | None, responses: dict[str, Any], *,
             description: str = "", params: list[dict[str, Any]] | None = None) -> dict[str, Any]:  # fmt: skip
        out: dict[str, Any] = {
            "operationId": f"{c.name}.{op}",
            "tags": tag,
            "summary": summary,
            "responses": responses,
        }
        if description:
            out["description"] = description
        if params:
            out["parameters"] = params
        if body is not None:
            out["requestBody"] = common.body(body)
        return {"post": out}

    auth_rule = " Login: " + in_words("authRule", c.auth.get("authRule", ""))
    out: dict[str, dict[str, Any]] = {
        f"{base}/auth-methods": {
            "get": {
                "operationId": f"{c.name}.authMethods",
                "tags": tag,
                "summary": "The login methods this collection offers",
                "parameters": [FIELDS],
                "responses": {**common.ok(auth_methods_schema()), **common.errors(400, 404)},
            }
        },
        f"{base}/auth-with-password": post(
            "authWithPassword",
            "Log in with an identity (e-mail or another identity field) and password",
            closed(
                {"identity": {"type": "string", "minLength": 1, "maxLength": 255},
                 "password": {"type": "string", "minLength": 1, "maxLength": 255, "format": "password"},
                 "identityField": {"type": "string", "description": "Which identity field to match."}},
                required=["identity", "password"],
            ),  # fmt: skip
            {**logged_in, **common.errors(400, 401, 403, 404, 413)},
            description="Identity fields: `passwordAuth.identityFields`." + mfa_note + auth_rule,
            params=[EXPAND, FIELDS],
        ),
        f"{base}/auth-with-oauth2": post(
            "authWithOAuth2",
            "Log in (or sign up) with an OAuth2 provider's code",
            closed(
                {"provider": STRING, "code": STRING, "codeVerifier": STRING, "redirectURL": STRING,
                 "createData": {"type": "object", "description": "Fields of a new record."}},
                required=["provider", "code", "redirectURL"],
            ),  # fmt: skip
            {**common.ok(_auth_response(c, meta=True)), **common.errors(400, 401, 403, 404, 413)},
            description="The code comes from the provider's redirect (see auth-methods)." + mfa_note,
            params=[EXPAND, FIELDS],
        ),
        f"{base}/request-otp": post(
            "requestOTP",
            "Send a one-time password by e-mail",
            closed({"email": _EMAIL}),
            {**common.ok(closed({"otpId": STRING})), **common.errors(400, 403, 404, 413)},
            description="Answers an otpId whether or not the e-mail belongs to a record.",
        ),
        f"{base}/auth-with-otp": post(
            "authWithOTP",
            "Log in with a one-time password",
            closed({"otpId": _TOKEN, "password": _TOKEN}),
            {**logged_in, **common.errors(400, 401, 403, 404, 413)},
            params=[EXPAND, FIELDS],
        ),
        f"{base}/auth-refresh": post(
            "authRefresh",
            "A new token for the record of the current one",
            None,
            {**logged_in, **common.errors(400, 401, 403, 404)},
            description="Needs a valid token of this collection; an impersonation token (not refreshable) comes back unchanged, as PocketBase answers.",
            params=[EXPAND, FIELDS],
        ),
        f"{base}/auth-logout": post(
            "authLogout",
            "End this session (Hearth's own; `?all=1`: every session of the record)",
            None,
            {**common.no_content("Logged out."), **common.errors(400, 401, 403, 404)},
            params=[common.query("all", {"type": "string", "enum": ["", "0", "1", "true", "false"]},
                                 "`1`/`true`: every session of the record.")],  # fmt: skip
        ),
        f"{base}/impersonate/{{id}}": post(
            "impersonate",
            "A non-refreshable token for a record of this collection (superusers only)",
            closed({"duration": {"type": "integer", "minimum": 0, "description": "Seconds (0: the collection's)."}},
                   required=[]),  # fmt: skip
            {**logged_in, **common.errors(400, 401, 403, 404, 413)},
            params=[common.path("id", "The record to impersonate."), EXPAND, FIELDS],
        ),
    }
    account = (
        ("request-verification", "requestVerification", "Send a verification e-mail", {"email": _EMAIL}),
        ("confirm-verification", "confirmVerification", "Verify with the e-mailed token", {"token": _TOKEN}),
        ("request-password-reset", "requestPasswordReset", "Send a password reset e-mail", {"email": _EMAIL}),
        ("confirm-password-reset", "confirmPasswordReset", "Set a new password with the e-mailed token",
         {"token": _TOKEN, "password": _TOKEN, "passwordConfirm": _TOKEN}),
        ("request-email-change", "requestEmailChange", "Send a confirmation to a new e-mail address "
         "(needs the record's token)", {"newEmail": _EMAIL}),
        ("confirm-email-change", "confirmEmailChange", "Change the e-mail with the e-mailed token",
         {"token": _TOKEN, "password": _TOKEN}),
    )  # fmt: skip
    for suffix, op, summary, props in account:
        codes = (400, 401, 403, 404, 413) if suffix == "request-email-change" else (400, 404, 413)
        out[f"{base}/{suffix}"] = post(op, summary, closed(props),
                                       {**common.no_content(), **common.errors(*codes)})  # fmt: skip
    return out


def file_token_path() -> dict[str, dict[str, Any]]:
    return {
        "/api/files/token": {
            "post": {
                "operationId": "files.token",
                "tags": ["files"],
                "summary": "A short-lived token for protected files (`?token=` of a download)",
                "responses": {**common.ok(closed({"token": _TOKEN})), **common.errors(400, 401, 403)},
            }
        }
    }
