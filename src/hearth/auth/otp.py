"""One-time passwords by e-mail: request-otp and auth-with-otp.

The code is kept hashed in `_otps` (PocketBase's system collection). An unknown address still gets
an `otpId`, so the answer does not tell who has an account. A code works once, within
`otp.duration` seconds, and a record gets at most 5 attempts per 3 minutes (then 429, as in
PocketBase), so a short numeric code cannot be guessed.
"""

from __future__ import annotations

import logging
import secrets
import time
from typing import Any

from hearth._util import passwords
from hearth._util.ids import random_string, record_id
from hearth._util.tasks import BackgroundTasks
from hearth.auth.account import email_error, required, text_fields
from hearth.auth.logins import Logins, expired
from hearth.auth.service import VALIDATION_FAILED
from hearth.errors import BadRequest, FieldError, Forbidden, TooManyRequests
from hearth.hooks.events import CredentialCheck
from hearth.records.service import RecordService
from hearth.schema.collection import Collection

log = logging.getLogger("hearth.auth")

OTP_DISABLED = "The collection is not configured to allow OTP authentication."
INVALID_OTP = "Invalid or expired OTP."
TOO_MANY = "Too many attempts, please try again later with a new OTP."
MAX_ATTEMPTS = 5
ATTEMPT_WINDOW = 180.0
MAX_RECENT = 10  # live codes per record before request-otp reuses the last one, as PocketBase
OTP_COST = 8  # the bcrypt cost of `_otps.password`


class OTPFlows:
    def __init__(self, records: RecordService, logins: Logins) -> None:
        self.records = records
        self.logins = logins
        self.hooks = logins.hooks
        self.send_mail = logins.send_mail
        self._attempts: dict[str, list[float]] = {}
        self.background = BackgroundTasks()

    def _otps(self) -> Collection:
        c = self.records.collections.get("_otps")
        assert c is not None
        return c

    @staticmethod
    def require_enabled(c: Collection) -> None:
        """403 unless the collection allows OTP (checked before the body is read, as PocketBase)."""
        if not c.auth.get("otp", {}).get("enabled"):
            raise Forbidden(OTP_DISABLED)

    async def request(self, c: Collection, body: dict[str, Any]) -> str:
        otp = c.auth.get("otp", {})
        if not otp.get("enabled"):
            raise Forbidden(OTP_DISABLED)
        email = text_fields(body, "email")["email"]
        if (err := email_error(email)) is not None:
            raise BadRequest(VALIDATION_FAILED, {"email": err})
        codec = self.records.reads.codec(c)
        row = await self.records.db.fetch_one(codec.sql.by_field("email"), (email,))
        length = max(4, min(int(otp.get("length") or 8), 32))
        code = "".join(secrets.choice("0123456789") for _ in range(length))
        if row is None:
            # Looks like any other otpId, and costs the same hash (timing tells nothing).
            await passwords.hash_password(code, OTP_COST)
            return record_id()
        values = codec.values_from_row(row)
        duration = int(otp.get("duration") or 0)
        recent = [
            o
            for o in await self.logins.owned_by("_otps", c, values["id"])
            if not expired(o.get("created"), duration)
        ]
        if len(recent) >= MAX_RECENT:
            return str(recent[0]["id"])  # too many requests: the last code again, no new mail
        created = await self.records.create(
            self._otps(),
            {"collectionRef": c.id, "recordRef": values["id"], "password": code, "sentTo": email},
            self.logins._info(),
        )

        async def send() -> None:
            try:
                await self.send_mail(c, "otp", values, email, {"OTP": code})
            except Exception:  # noqa: BLE001 - the client has its otpId; the code is dropped
                log.exception("failed to send the OTP mail of %s/%s", c.name, values["id"])
                await self.records.delete(self._otps(), created["id"], self.logins._info())

        self.background.spawn(send())
        return str(created["id"])

    def _attempt(self, key: str) -> bool:
        """Count one attempt; False when the record has used up its attempts."""
        now = time.monotonic()
        recent = [t for t in self._attempts.get(key, []) if now - t < ATTEMPT_WINDOW]
        if len(recent) >= MAX_ATTEMPTS:
            self._attempts[key] = recent
            return False
        recent.append(now)
        self._attempts[key] = recent
        if len(self._attempts) > 10_000:
            self._attempts = {k: v for k, v in self._attempts.items() if v and now - v[-1] < ATTEMPT_WINDOW}
        return True

    async def authenticate(self, c: Collection, body: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        """The record's row for a valid (otpId, code); the OTP is used up. Raises 400/403/429."""
        otp_options = c.auth.get("otp", {})
        if not otp_options.get("enabled"):
            raise Forbidden(OTP_DISABLED)
        form = text_fields(body, "otpId", "password")
        errors: dict[str, Any] = {}
        if not form["otpId"]:
            errors["otpId"] = required()
        elif len(form["otpId"]) > 255:
            errors["otpId"] = FieldError(
                "validation_length_out_of_range", "The length must be between 1 and 255."
            )
        if not form["password"]:
            errors["password"] = required()
        elif len(form["password"]) > 71:
            errors["password"] = FieldError(
                "validation_length_out_of_range", "The length must be between 1 and 71."
            )
        if errors:
            raise BadRequest(VALIDATION_FAILED, errors)
        otps = self._otps()
        row = await self.records.reads.find_row(otps, form["otpId"])
        if row is None:
            raise BadRequest(INVALID_OTP)
        otp_codec = self.records.reads.codec(otps)
        otp = otp_codec.values_from_row(row)
        if otp.get("collectionRef") != c.id or expired(
            otp.get("created"), int(otp_options.get("duration") or 0)
        ):
            raise BadRequest(INVALID_OTP)
        record_row = await self.records.reads.find_row(c, str(otp.get("recordRef")))
        if record_row is None:
            raise BadRequest(INVALID_OTP)
        # PocketBase's 5 attempts per 3 minutes in this process, and the shared per-identity
        # limit (hearth.auth.attempts) across processes and instances.
        if not self._attempt(f"{c.id}/{otp['recordRef']}"):
            raise TooManyRequests(TOO_MANY)

        async def verify(e: CredentialCheck) -> None:
            e.ok = await passwords.verify_password(
                form["password"], str(otp_codec.raw_value(row, "password")), OTP_COST
            )

        check = CredentialCheck(c, str(otp["recordRef"]), "otp")
        await self.hooks.record_credential_check.trigger(check, verify)
        if not check.ok:
            raise BadRequest(INVALID_OTP)
        # Used once: deleted before the login goes on.
        await self.records.delete(otps, otp["id"], self.logins._info())
        values = self.records.reads.codec(c).values_from_row(record_row)
        sent_to = otp.get("sentTo") or ""
        if not values.get("verified") and sent_to and sent_to == values.get("email"):
            update: dict[str, Any] = {"verified": True}
            if not c.auth.get("mfa", {}).get("enabled"):
                # The address is proven now: a password set by whoever registered it before its
                # owner (an account squatter) must stop working, as PocketBase does.
                secret = random_string(30)
                update.update(password=secret, passwordConfirm=secret)
            await self.records.update(c, values["id"], update, self.logins._info())
            record_row = await self.records.reads.find_row(c, values["id"])
        return record_row, values
