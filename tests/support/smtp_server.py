"""A real SMTP server for the tests (aiosmtpd), run as its own process:

    python tests/support/smtp_server.py DIR [--auth USER:PASSWORD] [--require-auth]

It listens on 127.0.0.1 on a free port, prints that port on a line of its own once it accepts
connections, and saves every message it receives as a file in DIR (written whole, then renamed
into place), with the SMTP envelope prepended as headers: X-Test-Mail-From, X-Test-Rcpt-To, X-Test-Helo
and X-Test-Auth (`MECHANISM LOGIN` when the client authenticated). With --auth it offers AUTH PLAIN
and LOGIN over the plain connection and accepts only that USER:PASSWORD (535 otherwise); with
--require-auth a client must authenticate before MAIL. It runs until its standard input closes
(the test process ended) or it is terminated.
"""

from __future__ import annotations

import argparse
import itertools
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class SavingHandler:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.counter = itertools.count(1)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        auth = getattr(session, "test_auth", "")
        headers = [
            f"X-Test-Mail-From: {envelope.mail_from}",
            f"X-Test-Rcpt-To: {', '.join(envelope.rcpt_tos)}",
            f"X-Test-Helo: {session.host_name or ''}",
            f"X-Test-Auth: {auth}",
        ]
        content = envelope.original_content or envelope.content or b""
        if isinstance(content, str):
            content = content.encode()
        data = ("\r\n".join(headers) + "\r\n").encode() + content
        name = f"{time.time_ns():020d}-{next(self.counter):06d}.eml"
        tmp = self.directory / f".{name}.tmp"
        tmp.write_bytes(data)
        os.replace(tmp, self.directory / name)
        return "250 Message accepted for delivery"


class FixedAuthenticator:
    def __init__(self, username: str, password: str) -> None:
        self.username, self.password = username.encode(), password.encode()

    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == self.username
            and auth_data.password == self.password
        ):
            session.test_auth = f"{mechanism} {auth_data.login.decode()}"
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("directory", type=Path)
    parser.add_argument("--auth", default="", help="USER:PASSWORD to accept")
    parser.add_argument("--require-auth", action="store_true")
    args = parser.parse_args()
    args.directory.mkdir(parents=True, exist_ok=True)

    kwargs: dict[str, Any] = {}
    if args.auth:
        username, _, password = args.auth.partition(":")
        kwargs.update(
            authenticator=FixedAuthenticator(username, password),
            auth_require_tls=False,
            auth_required=args.require_auth,
        )
    controller = None
    for _ in range(20):  # another process may take the port between the probe and the bind
        candidate = Controller(
            SavingHandler(args.directory), hostname="127.0.0.1", port=_free_port(), **kwargs
        )
        try:
            candidate.start()
        except Exception:  # aiosmtpd raises several types when the port is taken
            time.sleep(0.05)
            continue
        controller = candidate
        break
    if controller is None:
        sys.exit("smtp_server: could not bind a port")
    print(controller.port, flush=True)
    try:
        sys.stdin.read()  # until the test process closes our stdin (or exits)
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
