"""Token resolution and the password auth flows (auth-with-password, auth-refresh, auth-methods)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from hearth._util import passwords
from hearth._util.ids import random_string
from hearth.auth import tokens
from hearth.auth.api_keys import ApiKeys, looks_like_key
from hearth.auth.logins import LoginContext, Logins
from hearth.auth.oauth2.methods import legacy_auth_providers, oauth2_methods
from hearth.errors import BadRequest, FieldError, Forbidden, NotFound, Unauthorized
from hearth.hooks.catalog import Hooks
from hearth.hooks.events import CredentialCheck, SessionEnded
from hearth.query.context import GUEST, AuthState, RequestInfo
from hearth.records.present import RecordPresenter
from hearth.records.service import RecordService
from hearth.schema.collection import SUPERUSERS, Collection
from hearth.schema.repository import CollectionRepository
from hearth.schema.secrets import new_token_key
from hearth.sql import system

AUTH_FAILED = "Failed to authenticate."
LOAD_FAILED = "An error occurred while loading the submitted data."
VALIDATION_FAILED = "An error occurred while validating the submitted data."
NOT_AUTH_COLLECTION = "Missing or invalid auth collection context."
NO_COLLECTION = "Missing or invalid collection context."
AUTH_RULE_FAILED = "The request doesn't satisfy the collection requirements to authenticate."
PASSWORD_AUTH_DISABLED = "The collection is not configured to allow password authentication."
TOKEN_REQUIRED = "The request requires valid record authorization token."
SESSION_ID_LENGTH = 16


def bearer_token(header: str | None) -> str:
    """The token of an `Authorization` header, with or without its `Bearer ` prefix."""
    header = header or ""
    return (header[7:] if header[:7].lower() == "bearer " else header).strip()


class AuthService:
    def __init__(
        self,
        collections: CollectionRepository,
        records: RecordService,
        presenter: RecordPresenter,
        hooks: Hooks,
    ) -> None:
        self.collections = collections
        self.records = records
        self.presenter = presenter
        self.hooks = hooks
        self.logins = Logins(records, self.system_state, hooks)
        self.api_keys = ApiKeys(records.db, collections)
        self._revoked_sessions: set[str] = set()
        self._revocations_seen = 0

    def system_state(self) -> AuthState:
        """The server acting on its own behalf (verifying, resetting…): no API rule applies."""
        superusers = self.collections.get(SUPERUSERS)
        return AuthState(superusers, {"id": ""})

    def auth_collection(self, id_or_name: str) -> Collection:
        """The auth collection of a route (PocketBase: 404, its message telling a missing
        collection from one that is not an auth collection)."""
        c = self.collections.get(id_or_name)
        if c is None:
            raise NotFound(NO_COLLECTION)
        if not c.is_auth:
            raise NotFound(NOT_AUTH_COLLECTION)
        return c

    def own_collection(self, id_or_name: str, auth: AuthState) -> Collection:
        """The collection of a route that acts on the requester's own record (auth-refresh,
        request-email-change, logout), checked in PocketBase's order: the collection exists, a
        token is given, and it is of that collection — the 403 names the requester's collection,
        as PocketBase's does."""
        c = self.collections.get(id_or_name)
        if c is None:
            raise NotFound(NO_COLLECTION)
        if auth.record is None or auth.collection is None:
            raise Unauthorized(TOKEN_REQUIRED)
        if auth.collection.id != c.id:  # a base collection too: no token is of it
            raise Forbidden(f"The request requires auth record from {auth.collection.name} collection.")
        return c

    def require_password_auth(self, c: Collection) -> None:
        """Before the body is read, as PocketBase checks it (a broken body still gets this 403)."""
        if not c.auth.get("passwordAuth", {}).get("enabled"):
            raise Forbidden(PASSWORD_AUTH_DISABLED)

    # ----- tokens -------------------------------------------------------------------------
    async def resolve(self, header: str | None) -> AuthState:
        """The `Authorization` header → who is asking. Anything invalid counts as a guest."""
        if not header:
            return GUEST
        token = bearer_token(header)
        if looks_like_key(token):
            key = await self.api_keys.find(token)
            if key is None:
                return GUEST
            return AuthState(self.collections.get(SUPERUSERS), {"id": "", "apiKey": key.id}, api_key=key)
        state = await self.verify(token, tokens.AUTH)
        return state if state is not None else GUEST

    async def verify(self, token: str, token_type: str) -> AuthState | None:
        claims = tokens.unverified_claims(token)
        if not claims or claims.get("type") != token_type:
            return None
        cid, rid = claims.get("collectionId"), claims.get("id")
        if not isinstance(cid, str) or not isinstance(rid, str):
            return None
        c = self.collections.get(cid)
        if c is None or not c.is_auth or c.id != cid:
            return None
        if token_type == tokens.AUTH:
            row = await self.records.auth_records.row(c, rid)  # kept in memory on PostgreSQL
        else:
            row = await self.records.reads.find_row(c, rid)
        if row is None:
            return None
        codec = self.records.reads.codec(c)
        key = str(codec.raw_value(row, "tokenKey")) + c.token_secret(tokens.TOKEN_OPTION[token_type])
        verified = tokens.verify(token, key)
        if verified is None:
            return None
        session = tokens.session_of(token)
        if session and token_type == tokens.AUTH and await self._revoked(session):
            return None
        record = codec.values_from_row(row)
        # Rules may read `@request.auth.password` (the hash, as in PocketBase); the record only
        # feeds rule evaluation, never a response.
        record["password"] = codec.raw_value(row, "password")
        return AuthState(c, record, bool(verified.get("refreshable", False)), session)

    def issue_auth_token(
        self, c: Collection, record: dict[str, Any], raw_token_key: str, session: str = ""
    ) -> str:
        """A refreshable auth token. Its header names the login session (`sid`, beside `alg` and
        `typ`): refreshed tokens keep it, so auth-logout can end one session and not the others."""
        claims = {
            "collectionId": c.id,
            "id": record["id"],
            "refreshable": True,
            "type": tokens.AUTH,
        }
        key = raw_token_key + c.token_secret("authToken")
        return tokens.issue(
            claims, key, c.token_duration("authToken"), session or random_string(SESSION_ID_LENGTH)
        )

    async def file_token(self, auth: AuthState) -> str:
        """A short-lived token for protected files (PocketBase's `file` type)."""
        if auth.record is None or auth.collection is None or auth.api_key is not None:
            raise Unauthorized(TOKEN_REQUIRED)
        c = auth.collection
        row = await self.records.reads.find_row(c, auth.id)
        if row is None:
            raise Unauthorized(TOKEN_REQUIRED)
        claims = {"collectionId": c.id, "id": auth.id, "type": tokens.FILE}
        key = str(self.records.reads.codec(c).raw_value(row, "tokenKey")) + c.token_secret("fileToken")
        return tokens.issue(claims, key, c.token_duration("fileToken"))

    # ----- sessions -----------------------------------------------------------------------
    async def _revoked(self, session: str) -> bool:
        """Whether the session was logged out (the set is reloaded when the counter moves)."""
        if self._revocations_seen != self.collections.revocations:
            now = int(time.time())
            db = self.records.db
            rows = await db.fetch_all(system.select_revoked(db.dialect), (now,))
            self._revoked_sessions = {str(r[0]) for r in rows}
            self._revocations_seen = self.collections.revocations
        return session in self._revoked_sessions

    async def logout(self, c: Collection, auth: AuthState, everywhere: bool) -> None:
        """End the caller's session, or (`everywhere`) every session and token of the record."""
        if auth.record is None or auth.collection is None:
            raise Unauthorized(TOKEN_REQUIRED)
        if auth.collection.id != c.id:
            raise Forbidden(f"The request requires auth record from {auth.collection.name} collection.")
        db = self.records.db
        if not everywhere and not auth.session:
            # An impersonation token (or one older than sessions): ending "its session" would
            # mean logging the user out everywhere, which only ?all=1 asks for.
            raise BadRequest("The token has no session to end; use ?all=1 to end every session.")
        if everywhere:
            # A new tokenKey invalidates every token the record ever had.
            new_key = new_token_key(c)
            await self.records.update(
                c, auth.id, {"tokenKey": new_key}, RequestInfo(auth=self.system_state())
            )
            return
        now = int(time.time())
        # No token of the session outlives its last refresh by more than the token duration.
        expires = now + max(c.token_duration("authToken"), 1)
        async with db.transaction() as tx:
            await tx.execute(system.revoke_session(db.dialect), (auth.session, expires))
            await tx.execute(system.delete_expired_revoked(db.dialect), (now,))
            await tx.execute(system.bump_revocations(db.dialect))
        db.bump_generation()
        await self.collections.refresh()
        await self.hooks.record_session_ended.trigger(SessionEnded(c, auth.id, auth.session))

    # ----- flows --------------------------------------------------------------------------
    def methods(self, c: Collection) -> dict[str, Any]:
        pw = c.auth.get("passwordAuth", {})
        otp = c.auth.get("otp", {})
        mfa = c.auth.get("mfa", {})
        enabled = bool(pw.get("enabled"))
        identity_fields = list(pw.get("identityFields", [])) if enabled else []
        oauth2 = oauth2_methods(c)
        return {
            "password": {"identityFields": identity_fields, "enabled": enabled},
            "oauth2": oauth2,
            "mfa": {
                "enabled": bool(mfa.get("enabled")),
                "duration": int(mfa.get("duration", 0)) if mfa.get("enabled") else 0,
            },
            "otp": {
                "enabled": bool(otp.get("enabled")),
                "duration": int(otp.get("duration", 0)) if otp.get("enabled") else 0,
            },
            # Pre-0.23 keys PocketBase still sends (the SDK asks for `fields=mfa,otp,password,oauth2`).
            "authProviders": legacy_auth_providers(oauth2),
            "usernamePassword": enabled and "username" in identity_fields,
            "emailPassword": enabled and "email" in identity_fields,
        }

    async def with_password(
        self, c: Collection, body: dict[str, Any], ctx: LoginContext | None = None
    ) -> tuple[str, dict[str, Any]]:
        pw = c.auth.get("passwordAuth", {})
        if not pw.get("enabled"):
            raise Forbidden(PASSWORD_AUTH_DISABLED)
        # JSON null is "" (Go decodes it into a string's zero value): "Cannot be blank." below.
        identity, password, identity_field = (
            "" if body.get(k) is None else body[k] for k in ("identity", "password", "identityField")
        )
        if not all(isinstance(v, str) for v in (identity, password, identity_field)):
            raise BadRequest(LOAD_FAILED)
        errors: dict[str, Any] = {}
        for key, value in (("identity", identity), ("password", password)):
            if not value:
                errors[key] = FieldError("validation_required", "Cannot be blank.")
            elif len(value) > 255:
                errors[key] = FieldError(
                    "validation_length_out_of_range",
                    "The length must be between 1 and 255.",
                    {"max": 255, "min": 1},
                )
        fields = list(pw.get("identityFields", []))
        if identity_field:
            if identity_field not in fields:
                errors["identityField"] = FieldError("validation_in_invalid", "Must be a valid value.")
            else:
                fields = [identity_field]
        if errors:
            raise BadRequest(VALIDATION_FAILED, errors)
        row = None
        codec = self.records.reads.codec(c)

        async def verify(e: CredentialCheck) -> None:
            nonlocal row
            for name in fields:
                f = c.field_map.get(name)
                if f is None or f.storage != "text":
                    continue
                row = await self.records.db.fetch_one(codec.sql.by_field(name), (e.identity,))
                if row is not None:
                    break
            stored = str(codec.raw_value(row, "password")) if row is not None else None
            cost = int(c.field_map["password"].options.get("cost") or 0) if "password" in c.field_map else 0
            # Unknown identities cost the same and count as failures too.
            e.ok = await passwords.verify_password(password, stored, cost) and row is not None

        check = CredentialCheck(c, identity, "password")
        await self.hooks.record_credential_check.trigger(check, verify)
        if not check.ok or row is None:
            raise BadRequest(AUTH_FAILED)
        return await self.finish_login(c, row, "password", ctx)

    async def finish_login(
        self, c: Collection, row: Any, method: str, ctx: LoginContext | None = None
    ) -> tuple[str, dict[str, Any]]:
        """The last step of every login method (password, otp, oauth2): the collection's authRule,
        MFA (may raise MFARequired), the new-location alert, then a new auth token. `row` is the
        record's database row."""
        ctx = ctx or LoginContext()
        codec = self.records.reads.codec(c)
        values = codec.values_from_row(row)
        await self._check_auth_rule(c, values)
        await self.logins.check_mfa(c, values, method, ctx)
        await self.logins.remember_origin(c, values, ctx)
        return self.issue_auth_token(c, values, str(codec.raw_value(row, "tokenKey"))), values

    async def impersonate(
        self, c: Collection, auth: AuthState, rid: str, load_body: Callable[[], Awaitable[dict[str, Any]]]
    ) -> tuple[str, dict[str, Any]]:
        """A superuser acting as a record: a token auth-refresh gives back as it is. The body is read
        once the record is found (PocketBase answers an unknown id 404 whatever the body)."""
        if not auth.is_superuser:
            raise Forbidden("The authorized record is not allowed to perform this action.")
        row = await self.records.reads.find_row(c, rid)
        if row is None:
            raise NotFound()
        body = await load_body()
        duration = body.get("duration", 0)
        if isinstance(duration, bool) or not isinstance(duration, int | float):
            raise BadRequest(LOAD_FAILED)
        if duration < 0:
            raise BadRequest(
                VALIDATION_FAILED,
                {
                    "duration": FieldError(
                        "validation_min_greater_equal_than_required",
                        "Must be no less than 0.",
                        {"threshold": 0},
                    )
                },
            )
        codec = self.records.reads.codec(c)
        values = codec.values_from_row(row)
        claims = {"collectionId": c.id, "id": values["id"], "refreshable": False, "type": tokens.AUTH}
        key = str(codec.raw_value(row, "tokenKey")) + c.token_secret("authToken")
        token = tokens.issue(claims, key, int(duration) or c.token_duration("authToken"))
        return token, values

    async def _check_auth_rule(self, c: Collection, values: dict[str, Any]) -> None:
        """authRule is checked against the authenticating record, as that record."""
        info = RequestInfo(auth=AuthState(c, values), method="POST")
        if not await self.records.reads.matches_rule(c, values["id"], c.auth.get("authRule"), info):
            raise Forbidden(AUTH_RULE_FAILED)

    async def refresh(self, c: Collection, auth: AuthState, token: str) -> tuple[str, dict[str, Any]]:
        """A new token for the requester, or, for a token that is not refreshable (an
        impersonation), the same `token` again with the record, as PocketBase answers."""
        if auth.record is None:
            raise Unauthorized(TOKEN_REQUIRED)
        if auth.collection is None or auth.collection.id != c.id:
            raise Forbidden(f"The request requires auth record from {auth.collection.name if auth.collection else c.name} collection.")
        row = await self.records.reads.find_row(c, auth.id)
        codec = self.records.reads.codec(c)
        # The token was checked against a record kept in memory (records.auth_cache): one
        # revoked since (a new tokenKey whose NOTIFY is still on its way) gets no new token.
        if row is None or codec.raw_value(row, "tokenKey") != auth.record.get("tokenKey"):
            raise Unauthorized(TOKEN_REQUIRED)
        values = codec.values_from_row(row)
        await self._check_auth_rule(c, values)
        if not auth.refreshable:
            return token, values
        return self.issue_auth_token(c, values, str(codec.raw_value(row, "tokenKey")), auth.session), values

    async def auth_response(
        self, c: Collection, token: str, values: dict[str, Any], expand_text: str = ""
    ) -> dict[str, Any]:
        """`{"record", "token"}`; the record is seen as by itself (own email included)."""
        info = RequestInfo(auth=AuthState(c, values))
        (record,) = await self.presenter.serialize(c, [values], info, expand_text)
        return {"record": record, "token": token}
