"""The `mailbox` fixture: a real SMTP server process (tests/support/smtp_server.py) per test
module, and the messages it received.

    r = await api.client.patch("/api/settings", json={"smtp": mailbox.smtp_settings()}, ...)
    msg = await mailbox.wait_for("someone@example.com")
    assert "Verify" in msg["Subject"] and "confirm-verification" in mailbox.html(msg)

The server offers AUTH PLAIN/LOGIN for `mailbox.username`/`mailbox.password` (optional: a client
that does not log in may send too; a wrong password is refused with 535). Messages are
`email.message.EmailMessage`s (policy `default`), with the envelope in X-Test-* headers (see
smtp_server.py). Call `clear()` at the start of a test: the server is shared by a module.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import subprocess
import sys
import time
from collections.abc import Iterator
from email.message import EmailMessage, Message
from email.utils import getaddresses
from pathlib import Path
from typing import Any

import pytest

SERVER = Path(__file__).with_name("smtp_server.py")
USERNAME = "hearth-test"
PASSWORD = "s3cret-smtp-pass"


class Mailbox:
    def __init__(self, directory: Path, port: int) -> None:
        self.directory = directory
        self.port = port
        self.host = "127.0.0.1"
        self.username = USERNAME
        self.password = PASSWORD

    def smtp_settings(self, **overrides: Any) -> dict[str, Any]:
        """An `smtp` settings object pointing at this server (no login unless overridden)."""
        out: dict[str, Any] = {
            "enabled": True,
            "host": self.host,
            "port": self.port,
            "username": "",
            "password": "",
            "authMethod": "",
            "tls": False,
            "localName": "",
        }
        out.update(overrides)
        return out

    def _files(self) -> list[Path]:
        return sorted(p for p in self.directory.iterdir() if p.suffix == ".eml")

    def messages(self) -> list[Message]:
        """Every message received since the last clear(), oldest first."""
        return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in self._files()]

    @staticmethod
    def recipients(msg: Message) -> list[str]:
        """The envelope recipients and the To/Cc addresses, lower-cased."""
        values = [str(msg.get("X-Test-Rcpt-To", ""))]
        values += [str(v) for v in msg.get_all("To", [])] + [str(v) for v in msg.get_all("Cc", [])]
        return [addr.lower() for _, addr in getaddresses(values) if addr]

    async def wait_for(self, to: str, timeout: float = 5.0) -> Message:
        """The latest message to `to`, waiting up to `timeout` seconds for one to arrive. An async
        wait, so that an app sending in the background on the same event loop gets to run."""
        deadline = time.monotonic() + timeout
        while True:
            matches = [m for m in self.messages() if to.lower() in self.recipients(m)]
            if matches:
                return matches[-1]
            if time.monotonic() >= deadline:
                seen = [self.recipients(m) for m in self.messages()]
                raise AssertionError(f"no mail to {to} within {timeout}s (received: {seen})")
            await asyncio.sleep(0.02)

    def clear(self) -> None:
        for p in self._files():
            p.unlink(missing_ok=True)

    @staticmethod
    def html(msg: Message) -> str:
        part = msg.get_body(("html",)) if isinstance(msg, EmailMessage) else None
        return "" if part is None else str(part.get_content())

    @staticmethod
    def text(msg: Message) -> str:
        part = msg.get_body(("plain",)) if isinstance(msg, EmailMessage) else None
        return "" if part is None else str(part.get_content())


def start_server(directory: Path, *extra: str) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen(
        [sys.executable, str(SERVER), str(directory), *extra],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()  # the port, once it listens (empty if it died)
    if not line.strip().isdigit():
        proc.kill()
        proc.wait()
        raise RuntimeError(f"the test SMTP server did not start (exit {proc.returncode}, said {line!r})")
    return proc, int(line)


def stop_server(proc: subprocess.Popen[str]) -> None:
    try:
        if proc.stdin is not None:
            proc.stdin.close()  # the server exits when its stdin closes
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    finally:
        if proc.stdout is not None:
            proc.stdout.close()


@pytest.fixture(scope="module")
def mailbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mailbox]:
    directory = tmp_path_factory.mktemp("mailbox")
    proc, port = start_server(directory, "--auth", f"{USERNAME}:{PASSWORD}")
    try:
        yield Mailbox(directory, port)
    finally:
        stop_server(proc)
