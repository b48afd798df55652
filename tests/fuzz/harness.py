"""Sends the generator's requests to a live server and checks every answer.

A finding is any of: a 5xx, no answer within the timeout (a hang), a transport error (dropped
connection, malformed response), a 4xx whose body is not PocketBase's error envelope
`{"status","message","data"}`, or Python internals (a traceback, a repr) in a response body.
"""

from __future__ import annotations

import asyncio
import collections
import json
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.fuzz import world as W
from tests.fuzz.grammar import FuzzRequest, Generator

TIMEOUT = 15.0  # seconds: longer than any sane answer, short enough to call a hang a hang
# Text that only Python internals put in a message.
LEAK_MARKERS = (
    "Traceback",
    "Error(",
    "<class",
    "object at 0x",
    'File "/',
    "site-packages",
    "asyncpg.",
    "sqlite3.",
)


@dataclass
class Finding:
    seed: int
    index: int
    kind: str  # 5xx | hang | dropped | envelope | leak
    request: str
    status: int
    response: str

    def summary(self) -> str:
        return (
            f"{self.kind}: seed={self.seed} index={self.index} status={self.status}\n"
            f"  request: {self.request}\n  response: {self.response}"
        )


@dataclass
class Report:
    seed: int
    sent: int = 0
    seconds: float = 0.0
    by_status: collections.Counter[int] = field(default_factory=collections.Counter)
    by_endpoint: dict[str, collections.Counter[int]] = field(default_factory=dict)
    by_who: dict[str, collections.Counter[int]] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    findings_total: int = 0
    unsendable: int = 0

    def add(self, req: FuzzRequest, status: int) -> None:
        self.sent += 1
        self.by_status[status] += 1
        self.by_endpoint.setdefault(req.endpoint, collections.Counter())[status] += 1
        self.by_who.setdefault(req.who, collections.Counter())[status] += 1

    def find(self, f: Finding, keep: int = 200) -> None:
        self.findings_total += 1
        if len(self.findings) < keep:
            self.findings.append(f)

    def as_json(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "sent": self.sent,
            "seconds": round(self.seconds, 1),
            "byStatus": {str(k): v for k, v in sorted(self.by_status.items())},
            "byEndpoint": {
                e: {str(k): v for k, v in sorted(c.items())} for e, c in sorted(self.by_endpoint.items())
            },
            "byIdentity": {
                e: {str(k): v for k, v in sorted(c.items())} for e, c in sorted(self.by_who.items())
            },
            "findingsTotal": self.findings_total,
            "unsendable": self.unsendable,
            "findings": [f.__dict__ for f in self.findings],
        }

    def text(self) -> str:
        lines = [
            f"fuzz: seed={self.seed} sent={self.sent} in {self.seconds:.1f}s, findings={self.findings_total}",
            "  by status: " + ", ".join(f"{k}: {v}" for k, v in sorted(self.by_status.items())),
        ]
        lines += [f.summary() for f in self.findings[:20]]
        return "\n".join(lines)


def substitute(data: bytes, session: W.Session) -> bytes:
    if b"@@" not in data:
        return data
    for placeholder, value in session.substitutions().items():
        data = data.replace(placeholder.encode(), value.encode())
    return data


def build_http_request(client: httpx.AsyncClient, req: FuzzRequest, session: W.Session) -> httpx.Request:
    headers: list[tuple[bytes, bytes]] = [(k.encode(), substitute(v, session)) for k, v in req.headers]
    if not any(k == "authorization" for k, _ in req.headers):
        token = {"user": session.user_token, "superuser": session.superuser_token}.get(req.who)
        if token:
            headers.append((b"authorization", token.encode()))
    url = client.base_url.copy_with(raw_path=substitute(req.path.encode("ascii"), session))
    return httpx.Request(req.method, url, headers=headers, content=substitute(req.body, session))


def check_response(req: FuzzRequest, status: int, ctype: str, body: bytes) -> tuple[str, str] | None:
    """(kind, detail) of what is wrong with an answer, or None."""
    text = body[:100_000].decode("utf-8", "replace")
    if status >= 500:
        return "5xx", text
    for marker in LEAK_MARKERS:
        if marker in text and marker not in req.body.decode("utf-8", "replace") and marker not in req.path:
            return "leak", f"{marker!r} in {text}"
    if 400 <= status < 500 and req.method.upper() != "HEAD":
        try:
            env = json.loads(body)
        except ValueError:
            return "envelope", f"not JSON ({ctype}): {text}"
        if (
            not isinstance(env, dict)
            or set(env) != {"status", "message", "data"}
            or env["status"] != status
            or not isinstance(env["message"], str)
            or not isinstance(env["data"], dict)
        ):
            return "envelope", text
    return None


async def send(client: httpx.AsyncClient, req: FuzzRequest, session: W.Session) -> tuple[int, str, bytes]:
    """Send one request; (status, content type, body). An event stream is answered, then closed."""
    response = await client.send(build_http_request(client, req, session), stream=True)
    try:
        ctype = response.headers.get("content-type", "")
        if ctype.startswith("text/event-stream"):
            return response.status_code, ctype, b""
        body = await response.aread()
        return response.status_code, ctype, body
    finally:
        await response.aclose()


async def restore_settings(client: httpx.AsyncClient, session: W.Session) -> None:
    r = await client.patch(
        "/api/settings", json=W.BASELINE_SETTINGS, headers={"Authorization": session.superuser_token}
    )
    if r.status_code != 200:
        raise RuntimeError(f"could not restore the baseline settings: {r.status_code} {r.text[:300]}")


async def sign_in_again(client: httpx.AsyncClient, session: W.Session) -> None:
    for collection, (identity, password), attr in (
        ("_superusers", session.superuser, "superuser_token"),
        ("members", W.USER, "user_token"),
    ):
        r = await client.post(
            f"/api/collections/{collection}/auth-with-password",
            json={"identity": identity, "password": password},
        )
        if r.status_code != 200:  # the run goes on with the old token; the report says so
            session.lost.append(f"could not sign in again as {identity}: {r.status_code} {r.text[:300]}")
            continue
        setattr(session, attr, r.json()["token"])


async def open_realtime(client: httpx.AsyncClient) -> tuple[str, httpx.Response]:
    """A realtime connection held for the run; its client id goes into the requests."""
    response = await client.send(client.build_request("GET", "/api/realtime"), stream=True)
    lines = response.aiter_lines()
    async for line in lines:
        if line.startswith("data:"):
            return str(json.loads(line[5:])["clientId"]), response
    raise RuntimeError("realtime stream closed before PB_CONNECT")


async def run(
    base_url: str,
    session: W.Session,
    seed: int,
    requests: int,
    *,
    start: int = 0,
    concurrency: int = 4,
    timeout: float = TIMEOUT,
    progress: bool = False,
) -> Report:
    """Send requests start..start+requests-1 of `seed` with `concurrency` in flight."""
    gen = Generator(seed)
    report = Report(seed=seed)
    next_index = start
    end = start + requests
    began = time.monotonic()
    limits = httpx.Limits(max_connections=concurrency + 2, max_keepalive_connections=concurrency + 2)
    async with httpx.AsyncClient(base_url=base_url, timeout=timeout, limits=limits) as client:
        stream_client = httpx.AsyncClient(base_url=base_url, timeout=httpx.Timeout(timeout, read=None))
        try:
            session.client_id, stream = await open_realtime(stream_client)
        except (httpx.HTTPError, RuntimeError, ValueError, KeyError):
            stream = None

        async def worker() -> None:
            nonlocal next_index
            while next_index < end:
                index = next_index
                next_index += 1
                try:
                    req = gen.request(index)
                except Exception as exc:
                    raise RuntimeError(f"the generator failed on seed {seed} index {index}") from exc
                status, ctype, body = 0, "", b""
                kind, detail = "", ""
                try:
                    status, ctype, body = await asyncio.wait_for(send(client, req, session), timeout + 5)
                except (httpx.TimeoutException, TimeoutError):
                    kind, detail = "hang", f"no answer within {timeout:.0f}s"
                except (httpx.LocalProtocolError, httpx.InvalidURL) as exc:
                    report.unsendable += 1  # the client refused to send it: a generator bug
                    report.find(Finding(seed, index, "unsendable", req.describe(), 0, str(exc)[:300]))
                    continue
                except httpx.TransportError as exc:
                    kind, detail = "dropped", f"{type(exc).__name__}: {exc}"
                report.add(req, status)
                if not kind and (problem := check_response(req, status, ctype, body)):
                    kind, detail = problem
                if kind:
                    report.find(Finding(seed, index, kind, req.describe(), status, detail[:600]))
                if req.endpoint == "settings.patch" and status == 200:
                    await restore_settings(client, session)
                if req.endpoint == "auth.auth-logout" and status == 204:
                    await sign_in_again(client, session)  # the session's token may be revoked
                if progress and index % 1000 == 0:
                    print(
                        f"  [{seed}] {index - start}/{requests} sent, {report.findings_total} findings,"
                        f" {time.monotonic() - began:.0f}s",
                        flush=True,
                    )

        try:
            await asyncio.gather(*(worker() for _ in range(concurrency)))
        finally:
            if stream is not None:
                await stream.aclose()
            await stream_client.aclose()
    report.seconds = time.monotonic() - began
    return report


def replay(base_url: str, session: W.Session, seed: int, index: int) -> tuple[int, str]:
    """Send one request again (for reproducing a finding)."""

    async def one() -> tuple[int, str]:
        async with httpx.AsyncClient(base_url=base_url, timeout=TIMEOUT) as client:
            status, _, body = await send(client, Generator(seed).request(index), session)
            return status, body[:2000].decode("utf-8", "replace")

    return asyncio.run(one())
