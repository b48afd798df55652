"""What every successful first factor goes through: MFA, then the new-location alert.

MFA (PocketBase's model): when the collection asks for it, the first successful method answers
401 `{"mfaId"}` and records the method in `_mfas`; a second, different method sent with that
`mfaId` within `mfa.duration` seconds completes the login. A login from an unseen IP + user agent
is remembered in `_authOrigins` and, unless it is the record's first, announced by mail.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from hearth._util.times import format_datetime, parse_datetime
from hearth.errors import ApiError, BadRequest
from hearth.hooks.catalog import Hooks
from hearth.hooks.events import AuthMail
from hearth.query.context import AuthState, RequestInfo
from hearth.records.service import RecordService
from hearth.schema.collection import Collection

log = logging.getLogger("hearth.auth")

MAX_AUTH_ORIGINS = 5  # PocketBase keeps this many known origins per record

SendMail = Callable[[Collection, str, dict[str, Any], str, dict[str, str]], Awaitable[None]]


def mail_sender(hooks: Hooks) -> SendMail:
    """Sends an auth mail (collection, kind, record, to, placeholders) through its hook: the mail
    package's handler delivers it, after any other handler had its say."""

    async def send(
        c: Collection, kind: str, record: dict[str, Any], to: str, placeholders: dict[str, str]
    ) -> None:
        await hooks.mail_hook(kind).trigger(AuthMail(c, record, to, dict(placeholders)))

    return send


@dataclass(slots=True)
class LoginContext:
    """Who is logging in from where, and the MFA session they continue (if any)."""

    ip: str = ""
    user_agent: str = ""
    mfa_id: str = ""
    body: dict[str, Any] = field(default_factory=dict)


class MFARequired(ApiError):
    """The first factor succeeded; the client must continue with a second one. Answered as
    PocketBase does: 401 with `{"mfaId"}` instead of the error envelope."""

    status = 401

    def __init__(self, mfa_id: str) -> None:
        super().__init__("MFA required.")
        self.mfa_id = mfa_id

    def envelope(self) -> dict[str, Any]:
        return {"mfaId": self.mfa_id}


def expired(created: Any, seconds: int) -> bool:
    """Whether a system row created at `created` is older than `seconds`."""
    at = parse_datetime(str(created or ""))
    return at is None or at + timedelta(seconds=seconds) < datetime.now(UTC)


class Logins:
    def __init__(self, records: RecordService, system: Callable[[], AuthState], hooks: Hooks) -> None:
        self.records = records
        self.system = system
        self.hooks = hooks
        self.send_mail = mail_sender(hooks)

    def _info(self) -> RequestInfo:
        return RequestInfo(auth=self.system(), method="POST")

    def _system_collection(self, name: str) -> Collection:
        c = self.records.collections.get(name)
        assert c is not None, name
        return c

    async def owned_by(
        self, system_name: str, c: Collection, rid: str, sort: str = "-created"
    ) -> list[dict[str, Any]]:
        """Rows of a system collection (`_mfas`, `_otps`, …) that belong to one record."""
        if not rid.isalnum() or not c.id.replace("_", "").isalnum():
            return []
        page = await self.records.reads.list(
            self._system_collection(system_name),
            self._info(),
            filter_text=f"collectionRef = '{c.id}' && recordRef = '{rid}'",
            sort=sort,
            per_page=100,
            skip_total=True,
        )
        return page.items

    # ----- MFA -------------------------------------------------------------------------------
    async def check_mfa(self, c: Collection, values: dict[str, Any], method: str, ctx: LoginContext) -> None:
        mfa = c.auth.get("mfa", {})
        if not mfa.get("enabled") or not method:
            return
        rule = str(mfa.get("rule") or "")
        if rule.strip():
            info = RequestInfo(auth=AuthState(c, values), method="POST", body=ctx.body)
            if not await self.records.reads.matches_rule(c, values["id"], rule, info):
                return  # MFA only for the records the rule picks
        mfas = self._system_collection("_mfas")
        if not ctx.mfa_id:
            created = await self.records.create(
                mfas, {"collectionRef": c.id, "recordRef": values["id"], "method": method}, self._info()
            )
            raise MFARequired(created["id"])
        row = await self.records.reads.find(mfas, ctx.mfa_id)
        if row is None or expired(row.get("created"), int(mfa.get("duration") or 0)):
            if row is not None:
                await self.records.delete(mfas, row["id"], self._info())
            raise BadRequest("Invalid or expired MFA session.")
        if row.get("recordRef") != values["id"] or row.get("collectionRef") != c.id:
            raise BadRequest("Invalid MFA session.")
        if row.get("method") == method:
            raise BadRequest("A different authentication method is required.")
        await self.records.delete(mfas, row["id"], self._info())

    # ----- new-location alerts -----------------------------------------------------------------
    async def remember_origin(self, c: Collection, values: dict[str, Any], ctx: LoginContext) -> None:
        if not c.auth.get("authAlert", {}).get("enabled"):
            return
        agent = ctx.user_agent if len(ctx.user_agent) <= 200 else ctx.user_agent[:200] + "..."
        fingerprint = hashlib.md5((ctx.ip + agent).encode(), usedforsecurity=False).hexdigest()
        origins = await self.owned_by("_authOrigins", c, values["id"])
        if any(o.get("fingerprint") == fingerprint for o in origins):
            return
        if origins and values.get("email"):
            info = f"{format_datetime(datetime.now(UTC))} - {ctx.ip} {agent}"
            try:
                await self.send_mail(c, "login-alert", values, str(values["email"]), {"ALERT_INFO": info})
            except Exception:  # noqa: BLE001 - an alert that cannot be sent must not block the login
                log.exception("failed to send the login alert of %s/%s", c.name, values.get("id"))
        table = self._system_collection("_authOrigins")
        for old in origins[MAX_AUTH_ORIGINS - 1 :]:
            await self.records.delete(table, old["id"], self._info())
        await self.records.create(
            table,
            {"collectionRef": c.id, "recordRef": values["id"], "fingerprint": fingerprint},
            self._info(),
        )
