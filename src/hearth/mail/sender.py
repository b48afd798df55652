"""Sending e-mail over SMTP with the settings in force at the time of each call.

`smtp.tls` true is implicit TLS (SMTPS); false is a plain connection upgraded with STARTTLS when
the server offers it, as PocketBase does. With `smtp.enabled` false PocketBase hands the message to
the local `sendmail` binary; Hearth does not shell out: it logs the whole message (recipient,
subject and plain-text body, so its links and codes) as one INFO entry of the `hearth.mail` logger
and returns (docs/compatibility.md).
"""

from __future__ import annotations

import asyncio
import logging
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate
from typing import TYPE_CHECKING, Any

import aiosmtplib

from hearth._util.ids import random_string
from hearth.mail.html2text import html_to_text

if TYPE_CHECKING:
    from hearth.settings.store import SettingsStore

log = logging.getLogger("hearth.mail")

# Each SMTP step (connect, EHLO, AUTH, DATA, …) has this long; the whole exchange a few times it.
STEP_TIMEOUT = 10.0
TOTAL_TIMEOUT = 30.0
# The EHLO name when `smtp.localName` is empty (Go's net/smtp default, as PocketBase sends it).
DEFAULT_LOCAL_NAME = "localhost"


class MailError(Exception):
    """The message could not be sent (connection, TLS, authentication, a refused recipient…)."""


class Mailer:
    def __init__(self, settings: SettingsStore) -> None:
        self._settings = settings

    async def send(self, to: str, subject: str, html: str, *, to_name: str = "") -> None:
        """Send one HTML message (with a plain-text alternative) to `to`. Raises MailError."""
        current = await self._settings.current()
        smtp, meta = current["smtp"], current["meta"]
        if not smtp.get("enabled"):
            log.info("%s", unsent_report(to, subject, html))
            return
        message = build_message(
            sender_name=str(meta.get("senderName", "")),
            sender_address=str(meta.get("senderAddress", "")),
            to=to,
            to_name=to_name,
            subject=subject,
            html=html,
        )
        try:
            await asyncio.wait_for(_deliver(smtp, message), TOTAL_TIMEOUT)
        except aiosmtplib.SMTPException as exc:
            raise MailError(_describe(exc)) from exc
        except (OSError, TimeoutError) as exc:  # refused/unreachable, TLS failures, the total timeout
            raise MailError(_describe(exc)) from exc


def unsent_report(to: str, subject: str, html: str) -> str:
    """The whole message as one log entry, for following verification, reset and OTP mails
    locally while SMTP is off: recipient, subject and the plain-text body (links and codes in it)."""
    subject = " ".join(subject.splitlines())
    text = "\n".join(line.rstrip() for line in html_to_text(html).splitlines())
    return f"SMTP is disabled; e-mail not sent.\nTo: {to}\nSubject: {subject}\n\n{text}"


def build_message(
    *, sender_name: str, sender_address: str, to: str, to_name: str, subject: str, html: str
) -> EmailMessage:
    """The MIME message: multipart/alternative with a text part derived from the HTML."""
    try:
        message = EmailMessage()
        message["From"] = Address(display_name=sender_name, addr_spec=sender_address)
        message["To"] = Address(display_name=to_name, addr_spec=to)
        # A line break in a subject (a template's or a record value's) would end the header.
        message["Subject"] = " ".join(subject.splitlines())
        message["Date"] = formatdate(usegmt=True)
        domain = sender_address.rpartition("@")[2] or "localhost"
        message["Message-ID"] = f"<{random_string(15)}@{domain}>"
        message.set_content(html_to_text(html))
        message.add_alternative(html, subtype="html")
    except (ValueError, TypeError, IndexError) as exc:  # a malformed address or a header with CR/LF
        raise MailError(f"Invalid message: {exc}") from exc
    return message


async def _deliver(smtp: dict[str, Any], message: EmailMessage) -> None:
    tls = bool(smtp.get("tls"))
    client = aiosmtplib.SMTP(
        hostname=str(smtp.get("host", "")),
        port=int(smtp.get("port") or (465 if tls else 587)),
        local_hostname=str(smtp.get("localName") or DEFAULT_LOCAL_NAME),
        timeout=STEP_TIMEOUT,
        use_tls=tls,
        start_tls=False if tls else None,  # None: STARTTLS when the server offers it
    )
    username, password = str(smtp.get("username") or ""), str(smtp.get("password") or "")
    async with client:
        if username or password:
            method = smtp.get("authMethod") or ""
            if method == "PLAIN":
                await client.auth_plain(username, password)
            elif method == "LOGIN":
                await client.auth_login(username, password)
            else:
                await client.login(username, password)
        await client.send_message(message)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return f"{exc.code} {exc.message}".strip()
    text = str(exc).strip()
    if not text and isinstance(exc, TimeoutError):
        return "Timed out."
    return text or type(exc).__name__
