"""Delivers the auth collections' mails: the innermost handler of each `mailer_record_*_send`
hook, so that every other handler may change the mail's recipient or placeholders, or stop it,
before it goes out."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from hearth.hooks.catalog import Hooks
from hearth.hooks.chain import INNERMOST
from hearth.hooks.events import AuthMail
from hearth.mail.auth_mail import KINDS, send_auth_mail
from hearth.mail.sender import Mailer
from hearth.schema.repository import CollectionRepository
from hearth.settings.store import SettingsStore


class AuthMailDelivery:
    def __init__(
        self, hooks: Hooks, mailer: Mailer, settings: SettingsStore, collections: CollectionRepository
    ) -> None:
        self.mailer = mailer
        self.settings = settings
        self.collections = collections
        for kind in KINDS:
            hooks.mail_hook(kind).bind(self._deliverer(kind), id="hearth.mail", priority=INNERMOST)

    def _deliverer(self, kind: str) -> Callable[[AuthMail], Awaitable[None]]:
        async def deliver(e: AuthMail) -> None:
            # The settings as of now, also when another process changed them.
            await self.collections.refresh()
            settings = await self.settings.get(self.collections.version)
            p = e.placeholders
            await send_auth_mail(
                self.mailer,
                settings,
                e.collection,
                kind,
                e.record,
                e.to,
                token=p.get("TOKEN", ""),
                otp=p.get("OTP", ""),
                alert_info=p.get("ALERT_INFO", ""),
            )
            await e.next()

        return deliver
