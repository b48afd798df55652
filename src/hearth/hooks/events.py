"""What each kind of event carries. Handlers may change the fields before `await e.next()`.

The domain types are named for the type checker only: this package sits below everything that
triggers events and imports none of it at run time.
"""

from __future__ import annotations

from collections.abc import Collection as Tags
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hearth.hooks.chain import Event

if TYPE_CHECKING:
    from hearth.db.base import Transaction
    from hearth.schema.collection import Collection


@dataclass(eq=False)
class CollectionTagged(Event):
    """An event about one collection: handlers tagged with its id or name run for it."""

    collection: Collection

    def tags(self) -> Tags[str]:
        return (self.collection.id, self.collection.name)


@dataclass(eq=False)
class RecordWrite(CollectionTagged):
    """A record written inside transaction `tx`: `next()` performs the write. `record` holds the
    values to store (before `next()`) and as stored (after); `old` the stored values before an
    update or delete."""

    record: dict[str, Any]
    tx: Transaction
    old: dict[str, Any] | None = None


@dataclass(eq=False)
class RecordValidate(CollectionTagged):
    """A record about to be written is checked: `next()` runs the fields' checks and relation
    integrity, adding to `errors` (field name → error; a handler may add its own, e.g.
    `{"code": "validation_x", "message": "..."}`). Any error fails the write with a 400."""

    record: dict[str, Any]
    errors: dict[str, Any]
    old: dict[str, Any] | None = None


@dataclass(eq=False)
class RecordCommitted(CollectionTagged):
    """A record write whose transaction committed. `action` is create, update or delete."""

    action: str
    record: dict[str, Any]


@dataclass(eq=False)
class RecordFailed(CollectionTagged):
    """A record write that did not commit: `error` says why."""

    action: str
    record: dict[str, Any]
    error: BaseException


@dataclass(eq=False)
class CollectionChange(CollectionTagged):
    """A collection is created, updated or deleted (`collection`: as it will be; `old`: as it
    was, None on create). In the `collection_*` hooks `next()` makes the change (one
    transaction: the table and the schema row together); a handler may refuse it by raising."""

    old: Collection | None = None


@dataclass(eq=False)
class AuthMail(CollectionTagged):
    """One of an auth collection's mails about to be sent to `to`. `placeholders` fill the
    template: TOKEN (verification, reset, e-mail change), OTP, ALERT_INFO (new-location alert)."""

    record: dict[str, Any]
    to: str
    placeholders: dict[str, str] = field(default_factory=dict)


@dataclass(eq=False)
class CredentialCheck(CollectionTagged):
    """A password or one-time code checked for `identity` (`method` "password" or "otp"):
    `next()` checks it and sets `ok`."""

    identity: str
    method: str
    ok: bool = False


@dataclass(eq=False)
class SessionEnded(CollectionTagged):
    """One login session of record `record_id` was ended (auth-logout), after commit."""

    record_id: str
    session: str


@dataclass(eq=False)
class RequestEvent(Event):
    """An API request (request tier): `next()` runs the built-in handler and sets `response`.
    A handler may answer early by setting `response` (or raising) without calling `next()`,
    change the parsed body (`await e.body()` returns the dict the built-in handler will use),
    or look at and replace `response` after `next()`. `record` is the record the answer holds
    (record routes, after `next()`)."""

    request: Any  # starlette.requests.Request
    auth: Any  # hearth's AuthState of the requester
    collection: Collection | None = None
    response: Any = None  # a starlette Response
    record: dict[str, Any] | None = None
    _read_body: Any = None

    def tags(self) -> Tags[str]:
        return () if self.collection is None else (self.collection.id, self.collection.name)

    async def body(self) -> dict[str, Any]:
        """The request body, parsed as the built-in handler parses it (and shared with it)."""
        result: dict[str, Any] = await self._read_body(self.request)
        return result


@dataclass(eq=False)
class RequestDone(Event):
    """An HTTP request was answered: every request, matched or not, once its response was sent
    (a realtime stream once it ended). For observers (request logs, metrics): changing the event
    changes nothing, and a handler should be quick (it runs before the connection's next
    request). `route` is the matched route's template ("GET /api/collections/{collection}/records"),
    "" when none matched; `auth` the requester's AuthState when one was resolved, else None;
    `error` what failed (an ApiError for an error answer, the exception for a 500)."""

    method: str
    path: str
    query: str
    route: str
    status: int
    started: float  # wall clock (time.time()) when the request arrived
    duration: float  # seconds from arrival to the end of the response
    remote_ip: str
    headers: list[tuple[bytes, bytes]]  # the raw request headers
    auth: Any = None
    error: BaseException | None = None

    def header(self, name: bytes) -> str:
        """A request header's value ("" when absent); `name` in lower case."""
        for key, value in self.headers:
            if key == name:
                return value.decode("latin-1")
        return ""


@dataclass(eq=False)
class FileDownload(CollectionTagged):
    """A record's file is about to be served (`GET /api/files/...`): `next()` serves
    `served_key` from storage under `served_name`. `record` holds the file in its field `field`
    (a FileField); `served_key`/`served_name` name the thumb when one is served (`thumb_error`
    says why the original is served instead of the thumb asked for). A handler may change
    `served_key` (another key of the same record's folder) or `served_name`, set `response`
    without calling `next()`, or raise to refuse (its error is the answer)."""

    request: Any  # starlette.requests.Request
    record: dict[str, Any]
    field: Any  # hearth.schema.fields.file.FileField
    served_key: str
    served_name: str
    thumb_error: str = ""
    response: Any = None  # a starlette Response, set by `next()`


@dataclass(eq=False)
class RecordEnrich(CollectionTagged):
    """A record about to be shown to a client (answers, expand, realtime): handlers may add,
    change or remove keys of `record`; `auth` is the requester's AuthState."""

    record: dict[str, Any]
    auth: Any


@dataclass(eq=False)
class RealtimeMessage(CollectionTagged):
    """A record change about to be sent to realtime client `client_id` (authorized as `auth`) on
    subscription `topic`: handlers may change `data` ({"action", "record"}); not calling `next()`
    holds the message back."""

    client_id: str
    auth: Any
    topic: str
    data: dict[str, Any]


@dataclass(eq=False)
class JobRun(Event):
    """A durable job runs (a worker claimed it): `next()` runs the function registered for its
    `name` (handlers tagged with the name run for that job only). `attempt` counts from 1. An
    exception out of the chain fails this attempt (retried while attempts are left)."""

    id: str
    name: str
    payload: Any
    attempt: int
    max_attempts: int
    key: str | None = None

    def tags(self) -> Tags[str]:
        return (self.name,)


@dataclass(eq=False)
class BackupEvent(Event):
    """A backup is created (`name`: the archive's key) or restored; `next()` does it. On a
    restore, handlers after `next()` run once the live data is the backup's."""

    name: str


@dataclass(eq=False)
class Lifecycle(Event):
    """The process starts (bootstrap: services built; serve: about to take requests) or stops
    (terminate). `app` is the running Hearth."""

    app: Any
