"""Account flows by e-mail: verification, password reset and e-mail change (request + confirm).

Requests answer 204 whether or not the address belongs to someone, and send their mail in the
background, so neither the answer nor its timing tells who has an account. Confirmations read a
signed token of the matching type (hearth.auth.tokens); changing the password or the e-mail
rotates the record's tokenKey, which revokes every token it had.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from hearth._util import passwords
from hearth._util.tasks import BackgroundTasks
from hearth.auth import tokens
from hearth.auth.service import (
    LOAD_FAILED,
    PASSWORD_AUTH_DISABLED,
    TOKEN_REQUIRED,
    VALIDATION_FAILED,
    AuthService,
)
from hearth.errors import BadRequest, FieldError, Unauthorized
from hearth.query.context import AuthState, RequestInfo
from hearth.schema.collection import Collection

log = logging.getLogger("hearth.auth")

# (collection, kind, record values, recipient, placeholders) → sends the collection's template
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
RESEND_SECONDS = 120  # PocketBase sends one verification / reset mail per record per 2 minutes
SUPERUSERS_VERIFIED = "All superusers are verified by default."
SUPERUSERS_EMAIL = "All superusers can change their emails directly."


def required() -> FieldError:
    return FieldError("validation_required", "Cannot be blank.")


def invalid_token() -> FieldError:
    return FieldError("validation_invalid_token", "Invalid or expired token.")


def text_fields(body: dict[str, Any], *names: str) -> dict[str, str]:
    """The named string fields of a body (missing or null = "", as Go decodes JSON null into a
    string); any other type is a 400."""
    out: dict[str, str] = {}
    for name in names:
        value = body.get(name)
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise BadRequest(LOAD_FAILED)
        out[name] = value
    return out


def email_error(value: str) -> FieldError | None:
    if not value:
        return required()
    if len(value) > 255:
        return FieldError("validation_length_out_of_range", "The length must be between 1 and 255.")
    if not EMAIL_RE.match(value):
        return FieldError("validation_is_email", "Must be a valid email address.")
    return None


class AccountFlows:
    def __init__(self, auth: AuthService) -> None:
        self.auth = auth
        self.records = auth.records
        self.send_mail = auth.logins.send_mail
        # (kind, collection id, record id) → monotonic time of the last mail (per process, as
        # PocketBase keeps it in its in-memory store)
        self._sent: dict[tuple[str, str, str], float] = {}
        self.background = BackgroundTasks()

    # ----- helpers ----------------------------------------------------------------------------
    async def _row_by_email(self, c: Collection, email: str) -> Any:
        codec = self.records.reads.codec(c)
        return await self.records.db.fetch_one(codec.sql.by_field("email"), (email,))

    def _throttled(self, kind: str, c: Collection, rid: str) -> bool:
        key = (kind, c.id, rid)
        last = self._sent.get(key)
        now = time.monotonic()
        if last is not None and now - last < RESEND_SECONDS:
            return True
        if len(self._sent) > 10_000:
            self._sent = {k: t for k, t in self._sent.items() if now - t < RESEND_SECONDS}
        self._sent[key] = now
        return False

    async def _mail_link(
        self,
        c: Collection,
        body: dict[str, Any],
        kind: str,
        token_type: str,
        *,
        unless_verified: bool = False,
    ) -> None:
        """`request-*` by e-mail: a mail with a token link to the address, if it belongs to a
        record (and, `unless_verified`, one not verified yet), at most once per RESEND_SECONDS.
        Sent in the background: the answer is the same 204 either way."""
        email = text_fields(body, "email")["email"]
        if (err := email_error(email)) is not None:
            raise BadRequest(VALIDATION_FAILED, {"email": err})
        row = await self._row_by_email(c, email)
        if row is None:
            return
        codec = self.records.reads.codec(c)
        values = codec.values_from_row(row)
        if (unless_verified and values.get("verified")) or self._throttled(kind, c, values["id"]):
            return
        token = self._token(c, values, str(codec.raw_value(row, "tokenKey")), token_type)

        async def send() -> None:
            try:
                await self.send_mail(c, kind, values, email, {"TOKEN": token})
            except Exception:  # noqa: BLE001 - logged: the client already has its 204
                log.exception("failed to send the %s mail of %s/%s", kind, c.name, values.get("id"))

        self.background.spawn(send())

    def _token(self, c: Collection, values: dict[str, Any], raw_key: str, kind: str, **extra: str) -> str:
        claims = {"collectionId": c.id, "id": values["id"], "email": values.get("email", ""), "type": kind}
        claims.update(extra)
        option = tokens.TOKEN_OPTION[kind]
        return tokens.issue(claims, raw_key + c.token_secret(option), c.token_duration(option))

    async def _system_update(self, c: Collection, rid: str, body: dict[str, Any]) -> dict[str, Any]:
        """An update made by the server itself (no API rule applies; field validation does)."""
        return await self.records.update(
            c, rid, body, RequestInfo(auth=self.auth.system_state(), method="POST")
        )

    async def _verified_token_record(
        self, c: Collection, token: str, kind: str, errors: dict[str, Any], field: str = "token"
    ) -> tuple[AuthState | None, dict[str, Any]]:
        """The record a token of `kind` names, or a field error (PocketBase's codes)."""
        claims = tokens.unverified_claims(token) or {}
        state = await self.auth.verify(token, kind)
        if state is None or state.collection is None or state.record is None:
            errors[field] = invalid_token()
            return None, claims
        if state.collection.id != c.id:
            errors[field] = FieldError(
                "validation_token_collection_mismatch", "The provided token is for different auth collection."
            )
            return None, claims
        return state, claims

    # ----- verification -----------------------------------------------------------------------
    @staticmethod
    def check_verification(c: Collection) -> None:
        """Superusers are verified already (checked before the body is read, as PocketBase)."""
        if c.is_superusers:
            raise BadRequest(SUPERUSERS_VERIFIED)

    @staticmethod
    def check_email_change(c: Collection) -> None:
        if c.is_superusers:
            raise BadRequest(SUPERUSERS_EMAIL)

    async def request_verification(self, c: Collection, body: dict[str, Any]) -> None:
        if c.is_superusers:
            raise BadRequest(SUPERUSERS_VERIFIED)
        await self._mail_link(c, body, "verification", tokens.VERIFICATION, unless_verified=True)

    async def confirm_verification(self, c: Collection, body: dict[str, Any]) -> None:
        if c.is_superusers:
            raise BadRequest(SUPERUSERS_VERIFIED)
        token = text_fields(body, "token")["token"]
        errors: dict[str, Any] = {}
        if not token:
            raise BadRequest(VALIDATION_FAILED, {"token": required()})
        claims = tokens.unverified_claims(token) or {}
        email = claims.get("email")
        if not isinstance(email, str) or not email:
            errors["token"] = FieldError("validation_invalid_token_claims", "Missing email token claim.")
            raise BadRequest(VALIDATION_FAILED, errors)
        state, _ = await self._verified_token_record(c, token, tokens.VERIFICATION, errors)
        if state is None or state.record is None:
            raise BadRequest(VALIDATION_FAILED, errors)
        if state.record.get("email") != email:
            errors["token"] = FieldError(
                "validation_token_email_mismatch",
                "The record email doesn't match with the requested token claims.",
            )
            raise BadRequest(VALIDATION_FAILED, errors)
        if not state.record.get("verified"):
            await self._system_update(c, state.id, {"verified": True})
        self._sent.pop(("verification", c.id, state.id), None)

    # ----- password reset ---------------------------------------------------------------------
    @staticmethod
    def require_password_reset(c: Collection) -> None:
        """A reset needs password auth on (PocketBase: 400, before the body is read)."""
        if not c.auth.get("passwordAuth", {}).get("enabled"):
            raise BadRequest(PASSWORD_AUTH_DISABLED)

    async def request_password_reset(self, c: Collection, body: dict[str, Any]) -> None:
        self.require_password_reset(c)
        await self._mail_link(c, body, "password-reset", tokens.PASSWORD_RESET)

    async def confirm_password_reset(self, c: Collection, body: dict[str, Any]) -> None:
        form = text_fields(body, "token", "password", "passwordConfirm")
        errors: dict[str, Any] = {}
        state = None
        claims: dict[str, Any] = {}
        if not form["token"]:
            errors["token"] = required()
        else:
            state, claims = await self._verified_token_record(c, form["token"], tokens.PASSWORD_RESET, errors)
        password_field = c.field_map.get("password")
        min_len = max(1, int(password_field.options.get("min") or 0)) if password_field else 1
        if not form["password"]:
            errors["password"] = required()
        elif not min_len <= len(form["password"]) <= 255:
            errors["password"] = FieldError(
                "validation_length_out_of_range",
                f"The length must be between {min_len} and 255.",
                {"min": min_len, "max": 255},
            )
        if not form["passwordConfirm"]:
            errors["passwordConfirm"] = required()
        elif form["passwordConfirm"] != form["password"]:
            errors["passwordConfirm"] = FieldError("validation_values_mismatch", "Values don't match.")
        if errors or state is None or state.record is None:
            raise BadRequest(VALIDATION_FAILED, errors)
        update: dict[str, Any] = {"password": form["password"], "passwordConfirm": form["password"]}
        if not state.record.get("verified") and claims.get("email") == state.record.get("email"):
            update["verified"] = True  # the mail reached its owner
        await self._system_update(c, state.id, update)
        self._sent.pop(("password-reset", c.id, state.id), None)

    # ----- e-mail change ----------------------------------------------------------------------
    async def request_email_change(self, c: Collection, auth: AuthState, body: dict[str, Any]) -> None:
        self.check_email_change(c)
        if auth.record is None or auth.collection is None or auth.collection.id != c.id:
            raise Unauthorized(TOKEN_REQUIRED)
        new_email = text_fields(body, "newEmail")["newEmail"]
        err = email_error(new_email)
        if err is None and new_email == auth.record.get("email"):
            err = FieldError("validation_not_in_invalid", "Must not be in list.")
        if err is None:
            found = await self._row_by_email(c, new_email)
            if found is not None and self.records.reads.codec(c).raw_value(found, "id") != auth.id:
                err = FieldError("validation_invalid_new_email", "Invalid new email address.")
        if err is not None:
            raise BadRequest(VALIDATION_FAILED, {"newEmail": err})
        row = await self.records.reads.find_row(c, auth.id)
        if row is None:
            raise Unauthorized("The request requires valid auth record.")
        codec = self.records.reads.codec(c)
        values = codec.values_from_row(row)
        token = self._token(
            c, values, str(codec.raw_value(row, "tokenKey")), tokens.EMAIL_CHANGE, newEmail=new_email
        )
        try:
            await self.send_mail(c, "email-change", values, new_email, {"TOKEN": token})
        except Exception as exc:  # noqa: BLE001 - PocketBase reports this one to the client
            log.exception("failed to send the email-change mail of %s/%s", c.name, auth.id)
            raise BadRequest("Failed to request email change.") from exc

    async def confirm_email_change(self, c: Collection, body: dict[str, Any]) -> None:
        if c.is_superusers:
            raise BadRequest(SUPERUSERS_EMAIL)
        form = text_fields(body, "token", "password")
        errors: dict[str, Any] = {}
        state = None
        new_email = ""
        if not form["token"]:
            errors["token"] = required()
        else:
            claims = tokens.unverified_claims(form["token"]) or {}
            claimed = claims.get("newEmail")
            new_email = claimed if isinstance(claimed, str) else ""
            if not new_email:
                errors["token"] = FieldError(
                    "validation_invalid_token_payload", "Invalid token payload - newEmail must be set."
                )
            else:
                state, _ = await self._verified_token_record(c, form["token"], tokens.EMAIL_CHANGE, errors)
        if not form["password"]:
            errors["password"] = required()
        elif len(form["password"]) > 100:
            errors["password"] = FieldError(
                "validation_length_out_of_range",
                "The length must be between 1 and 100.",
                {"min": 1, "max": 100},
            )
        else:
            stored = state.record.get("password") if state is not None and state.record else None
            if not await passwords.verify_password(form["password"], stored):
                errors["password"] = FieldError(
                    "validation_invalid_password", "Missing or invalid auth record password."
                )
        if errors or state is None:
            raise BadRequest(VALIDATION_FAILED, errors)
        # The new address was proven by the mail; changing it rotates the tokenKey.
        await self._system_update(c, state.id, {"email": new_email, "verified": True})
