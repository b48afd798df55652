"""Who is making the current change, and from where: a context variable.

The HTTP layer sets it when it resolves a request's requester (hearth.http.context.begin), the
job worker's `job_run` chain for each job (bound by the audit service), the CLI for its
commands; a write with none of these (a hook at start-up, Hearth's own upkeep) is "system".

Why a context variable rather than a parameter: a record write is reached from a request
through many services (records, auth flows, batch, users' hooks through `app.records`), some of
which write on the server's own behalf with elevated rights (`AuthState` of a superuser with no
id); the requester is what the audit needs, not the rights a service used. asyncio copies the
context into each task, and every server runs each request in a task of its own, so the value
ends with its request; tasks a request starts carry it on (their writes are its doing).

Setting it costs one tuple per request: the requester is turned into an `Actor` (the client IP
computed as the rate limiter computes it, the user agent read) only when an entry is written.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from hearth.query.context import AuthState
from hearth.ratelimit.ips import real_ip


@dataclass(frozen=True, slots=True)
class Actor:
    """`type`: superuser, record (an auth record), apiKey, guest (a request without auth), job,
    cli or system. `id`: the record's, key's or job's name; `collection`: an auth record's."""

    type: str
    id: str = ""
    collection: str = ""
    ip: str = ""
    user_agent: str = ""


SYSTEM = Actor("system")
CLI = Actor("cli")

# An Actor, or a request's (requester, ASGI scope) not yet turned into one.
_current: ContextVar[Actor | tuple[AuthState, Mapping[str, Any]] | None] = ContextVar("hearth_audit_actor", default=None)


def from_request(auth: AuthState, scope: Mapping[str, Any]) -> None:
    """The current request's requester (called once its token is resolved)."""
    _current.set((auth, scope))


@contextmanager
def acting(actor: Actor) -> Iterator[None]:
    """`actor` makes the changes within the block."""
    token = _current.set(actor)
    try:
        yield
    finally:
        _current.reset(token)


def current(trusted_headers: Sequence[str] = (), leftmost: bool = False) -> Actor:
    """Who makes the change now. The trusted proxy settings (`trustedProxy`) say which headers
    carry the client IP, as for the rate limiter (hearth.ratelimit.ips.real_ip)."""
    value = _current.get()
    if value is None:
        return SYSTEM
    if isinstance(value, Actor):
        return value
    auth, scope = value
    headers = scope.get("headers") or ()
    ip = real_ip(headers, scope.get("client"), trusted_headers, leftmost)
    agent = next((v.decode("latin-1") for k, v in headers if k == b"user-agent"), "")
    if auth.api_key is not None:
        return Actor("apiKey", str(auth.api_key.id), "", ip, agent)
    if auth.is_guest:
        return Actor("guest", "", "", ip, agent)
    c = auth.collection
    kind = "superuser" if auth.is_superuser else "record"
    return Actor(kind, auth.id, c.name if c is not None else "", ip, agent)
