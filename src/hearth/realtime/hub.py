"""Realtime clients of this process and what they are sent.

A client connects (`GET /api/realtime`), gets an id, then sets its subscriptions and its auth with
`POST /api/realtime` (a guest may become a user; any other auth change is refused, as in
PocketBase). Record changes reach every process through the broker (hearth.realtime.broker); each
process delivers them to its own clients, checking for each subscription the collection's list
rule (`coll/*`) or view rule (`coll/id`), and the subscription's `filter`, against the record as it
was written or deleted, as that client: in Python when the rule and the filter read only the
record's own values and the request (hearth.query.pyeval), else by SQL over the values
(hearth.sql.records.RecordSQL.snapshot_where).

Clients live only in the memory of the process holding their stream: connecting writes nothing.
A client id starts with its process's tag, so a subscription (or an OAuth2 redirect) that reaches
another process is passed to the owner as a request, and its answer (204, 404, 403…) comes back
the same way: straight over a Unix socket when the owner runs on this machine
(hearth.realtime.local_channel), else over the bus. The database only knows which processes have
clients (one row per process, written when its first client arrives and removed by the heartbeat
once it has none), so that writers publish record changes only while someone may listen.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from hearth._util import deepjson
from hearth._util.ids import random_string
from hearth._util.projection import parse_fields_lenient, project
from hearth._util.tasks import BackgroundTasks, SharedRun, cancel
from hearth.errors import ApiError, BadRequest, DatabaseUnavailable, Forbidden, NotFound
from hearth.hooks.catalog import Hooks
from hearth.hooks.chain import OUTERMOST
from hearth.hooks.events import BackupEvent, RealtimeMessage, RecordWrite, SessionEnded
from hearth.query.context import GUEST, AuthState, RequestInfo
from hearth.realtime.broker import open_broker
from hearth.realtime.local_channel import LocalChannel, NoAnswer
from hearth.realtime.subscriptions import Subscription, parse
from hearth.records.present import RecordPresenter
from hearth.records.service import RecordService
from hearth.schema.collection import Collection
from hearth.sql import system

log = logging.getLogger("hearth.realtime")

CLIENT_ID_LENGTH = 40
TAG_LENGTH = 8  # the owning process's tag, at the start of each client id
REQUEST_SECONDS = 10.0  # how long a request to another process waits for its answer
LIVE_SECONDS = 10.0  # a process seen with clients is believed alive this long (if it died, its requests time out)
# A client this far behind (messages or bytes waiting for its stream) is dropped rather than let
# memory grow; one message larger than QUEUE_BYTES is still taken when nothing else waits. The bus
# may hand over 500 events without a pause, which a healthy client must be able to absorb.
QUEUE_LIMIT = 1000
QUEUE_BYTES = 4 << 20
CHUNK_BYTES = 256 << 10  # at most this much of a backlog in one write
OAUTH2_TOPIC = "@oauth2"
HEARTBEAT_SECONDS = 30
IDLE_SECONDS = 300  # as PocketBase: a client sent nothing this long is disconnected (the SDK reconnects)
STALE_SECONDS = 120  # a process that did not vouch for its clients this long is dead


def sse(client_id: str, event: str, data: Any) -> bytes:
    """One server-sent event, as PocketBase writes them."""
    payload = data if isinstance(data, bytes) else deepjson.dumps(data)  # records may nest deep
    return b"id:" + client_id.encode() + b"\nevent:" + event.encode() + b"\ndata:" + payload + b"\n\n"


@dataclass(eq=False, slots=True)
class Client:
    """One SSE stream's state. Kept small on purpose (a list and a future or two, no
    asyncio.Queue or Event, each of which carries deques of 64 slots): 10,000 idle clients are
    10,000 of these."""

    id: str
    ip: str = ""  # where it connected from: subscriptions must come from there too
    auth: AuthState = field(default_factory=lambda: GUEST)
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    last_sent: float = field(default_factory=time.monotonic)  # PB_CONNECT counts as a message
    queued: int = 0  # bytes waiting in `pending`
    pending: list[bytes] = field(default_factory=list)  # short: written out in one go
    # Done once close() ran: its stream must end. One stuck writing to a peer that does not read
    # cannot end by itself; the HTTP layer then resets its connection (hearth.http.sse).
    ended: asyncio.Future[None] = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    _waiter: asyncio.Future[None] | None = None  # what wait() handed out, until a message comes

    @property
    def closed(self) -> bool:
        return self.ended.done()

    def send(self, message: bytes) -> None:
        self.last_sent = time.monotonic()
        if self.ended.done():
            return  # its stream is ending: nothing more is kept for it
        if len(self.pending) >= QUEUE_LIMIT or (self.queued and self.queued + len(message) > QUEUE_BYTES):
            self.drop()
            return
        self.pending.append(message)
        self.queued += len(message)
        self._wake()

    def take(self) -> bytes | None:
        """What its stream writes next: the waiting messages together (one write for a backlog
        rather than one per event: a fan-out to many clients catches up faster), or None when
        nothing waits."""
        pending = self.pending
        if not pending:
            return None
        size, n = 0, 0
        while n < len(pending) and size < CHUNK_BYTES:
            size += len(pending[n])
            n += 1
        parts = pending[:n]
        del pending[:n]
        self.queued -= size
        return parts[0] if n == 1 else b"".join(parts)

    def wait(self) -> asyncio.Future[None]:
        """Done once a message is queued or the client is closed. A future rather than a
        coroutine: an idle stream then holds no frame of ours while it waits."""
        waiter = self._waiter
        if waiter is None:
            waiter = self._waiter = asyncio.get_running_loop().create_future()
        return waiter

    def drop(self) -> None:
        """It does not read what it is sent (too far behind, or its stream cannot write)."""
        if not self.ended.done():
            log.warning("realtime client %s is not reading; disconnecting it", self.id)
        self.close()

    def close(self) -> None:
        if self.ended.done():
            return
        self.ended.set_result(None)
        self.pending.clear()
        self.queued = 0
        self._wake()  # the stream ends; the SDK reconnects

    def _wake(self) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


async def _quiet_when_unavailable(work: Coroutine[Any, Any, None]) -> None:
    """Background work that the database refuses is dropped without a traceback: the outage is
    logged by the db layer, and a process row left behind is removed after STALE_SECONDS."""
    try:
        await work
    except DatabaseUnavailable:
        pass


class ProcessNotAnswering(ApiError):
    status = 503
    default_message = "The realtime client's server process did not answer in time; try again."


class ShuttingDown(ApiError):
    status = 503
    default_message = "The server is shutting down; connect again."


def same_auth(previous: AuthState, current: AuthState) -> bool:
    """Whether a client authorized as `previous` may now be `current` (a guest may log in;
    nothing else changes)."""
    if previous.record is None or previous.collection is None:
        return True
    return current.collection is not None and (current.collection.id, current.id) == (
        previous.collection.id,
        previous.id,
    )


# What a request to another process may answer, by status.
_ANSWERS: dict[int, Callable[[str], ApiError]] = {
    400: BadRequest,
    403: Forbidden,
    404: NotFound,
    503: DatabaseUnavailable,
}


def well_formed(client_id: str) -> bool:
    return len(client_id) == CLIENT_ID_LENGTH and client_id.isascii() and client_id.isalnum()


class Hub:
    def __init__(
        self, records: RecordService, presenter: RecordPresenter, hooks: Hooks, scope: str = ""
    ) -> None:
        """`scope` names this Hearth's data on this machine (Config.data_identity): the processes
        sharing it pass requests to each other directly."""
        self.records = records
        self.presenter = presenter
        self.message_hook = hooks.realtime_message_send
        # Outermost: the record as every other handler left it, written to the outbox (the
        # bus's event table) inside the write's transaction.
        for hook, action in (
            (hooks.record_create, "create"),
            (hooks.record_update, "update"),
            (hooks.record_delete, "delete"),
        ):
            hook.bind(
                self._publisher(action), id="hearth.realtime", priority=OUTERMOST, observer=True, quiet=self._quiet
            )
        hooks.record_session_ended.bind(self._session_ended, id="hearth.realtime")
        hooks.backup_restore.bind(self._restored, id="hearth.realtime")
        self.db = records.db
        self.clients: dict[str, Client] = {}
        self.delivered = 0  # record events queued to this process's clients (metrics)
        self.tag = random_string(TAG_LENGTH)
        self.process_id = "process:" + self.tag  # this process's row, and its address on the bus
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}  # requests awaiting answers
        self._catching_up: SharedRun[None] = SharedRun()  # the broker catching up (see _becoming_active)
        self._present = False  # this process's row says it has clients
        self._presence = asyncio.Lock()
        self.idle_seconds = IDLE_SECONDS
        self._live: dict[str, float] = {}  # process tags known to have clients, until when
        self.bus = open_broker(self.db, self._handle, lambda: bool(self.clients or self._pending))
        self.local = LocalChannel(scope, self.tag, self._answer)
        self.background = BackgroundTasks()
        self._heartbeat: asyncio.Task[None] | None = None
        self.closing = False  # the process is stopping: no new streams

    async def start(self) -> None:
        await self.bus.start()
        await self.local.start()
        self._heartbeat = asyncio.get_running_loop().create_task(self._beat())

    async def _beat(self) -> None:
        """Every process vouches for itself while it has clients, and gives up its row once it
        has none; rows nobody vouched for lately (their process died) are removed, and the
        count of processes with clients is recounted."""
        d = self.db.dialect
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            self._close_idle()
            try:
                now = int(time.time())
                async with self._presence:
                    if self._present and not self.clients:
                        await self._absent()
                    elif self._present:
                        await self.db.execute(system.touch_rt_clients(d, 1), (self.process_id, now))
                async with self.db.transaction() as tx:
                    if await tx.execute(system.delete_stale_rt_clients(d), (now - STALE_SECONDS,)):
                        await tx.execute(system.recount_realtime_clients(d))
            except DatabaseUnavailable:
                pass  # logged by the db layer; the next beat tries again
            except Exception:
                log.exception("realtime heartbeat failed")

    def _close_idle(self) -> None:
        idle_since = time.monotonic() - self.idle_seconds
        for client in list(self.clients.values()):
            if client.last_sent < idle_since:
                client.close()

    async def _absent(self) -> None:
        d = self.db.dialect
        async with self.db.transaction() as tx:
            if await tx.execute(system.delete_rt_client(d), (self.process_id,)):
                await tx.execute(system.add_realtime_clients(d), (-1,))
        self._present = False
        self.db.bump_generation()

    def close_all(self) -> None:
        """The process is stopping: end every stream now (the SDKs reconnect, to another process
        or instance) and refuse new ones. Their rows are forgotten as each stream ends."""
        self.closing = True
        for client in list(self.clients.values()):
            client.close()

    async def stop(self) -> None:
        self.closing = True
        if self._heartbeat is not None:
            await cancel(self._heartbeat)
        for client in list(self.clients.values()):
            client.close()
        self.clients.clear()
        await self.local.stop()
        await self.background.drain()
        if self._present:
            await _quiet_when_unavailable(self._absent())
        await self.bus.stop()

    # ----- clients ---------------------------------------------------------------------------
    async def connect(self, ip: str) -> Client:
        if self.closing:
            raise ShuttingDown()
        client = Client(self.tag + random_string(CLIENT_ID_LENGTH - TAG_LENGTH), ip)
        await self._becoming_active()
        self.clients[client.id] = client
        self.bus.wake()
        try:
            if not self._present or self._presence.locked():
                # The first client (or the heartbeat is giving the row up right now): from now on
                # writers must publish record changes. Done before the client hears its id, so no
                # write it could see is missed.
                await self._presence_on()
        except BaseException:
            self.clients.pop(client.id, None)  # never streamed, so never disconnected: forget it here
            raise
        if self.closing:  # the stop began while this client was being registered
            client.close()
        return client

    async def _becoming_active(self) -> None:
        """Before the first client or the first request: the broker skips what was published
        while this process wanted nothing (it reads from now on)."""
        if self.clients or self._pending:
            return
        # One catch-up for everyone arriving meanwhile. Each caller registers its client or its
        # request right after this returns; a second catch-up started later (its read delayed by
        # a busy pool) could otherwise skip the answer to a request registered in between.
        await self._catching_up(self.bus.catch_up)

    async def _presence_on(self) -> None:
        async with self._presence:
            if self._present:
                return
            d = self.db.dialect
            async with self.db.transaction() as tx:
                await tx.execute(system.delete_rt_client(d), (self.process_id,))
                await tx.execute(system.insert_rt_client(d), (self.process_id, "", int(time.time())))
                await tx.execute(system.recount_realtime_clients(d))
            self._present = True
        self.db.bump_generation()  # other processes start publishing record changes

    def disconnect(self, client: Client) -> None:
        # Nothing to write: the heartbeat gives up this process's row once it has no clients.
        self.clients.pop(client.id, None)

    async def subscribe(self, client_id: str, subscriptions: list[str], auth: AuthState, ip: str) -> None:
        """Set a client's subscriptions and auth, from whichever process the request reached."""
        if self._owns(client_id):
            self._subscribe_here(client_id, subscriptions, auth, ip)
            return
        cid = auth.collection.id if auth.collection is not None and auth.record is not None else ""
        await self._ask(
            client_id,
            {"k": "subscribe", "c": client_id, "s": subscriptions, "a": [cid, auth.id, auth.session], "ip": ip},
        )

    async def _may_exist(self, tag: str) -> bool:
        """Whether the process `tag` has clients (a read: a made-up or stale id is refused at
        once instead of after REQUEST_SECONDS)."""
        now = time.monotonic()
        if self._live.get(tag, 0.0) > now:
            return True  # seen alive a moment ago: a burst of subscriptions reads it once
        row = await self.db.fetch_one(system.select_rt_process(self.db.dialect), ("process:" + tag,))
        if row is None:
            return False
        if len(self._live) > 1000:
            self._live = {t: until for t, until in self._live.items() if until > now}
        self._live[tag] = now + LIVE_SECONDS
        return True

    def _owns(self, client_id: str) -> bool:
        return client_id.startswith(self.tag) and len(client_id) == CLIENT_ID_LENGTH

    def _subscribe_here(self, client_id: str, subscriptions: list[str], auth: AuthState, ip: str) -> None:
        client = self.clients.get(client_id)
        if client is None:
            raise NotFound("Missing or invalid client id.")
        if client.ip and client.ip != ip:
            raise BadRequest("Invalid realtime client.")
        if not same_auth(client.auth, auth):
            raise Forbidden("The current and the previous request authorization don't match.")
        client.auth, client.subscriptions = auth, {p.raw: p for p in map(parse, subscriptions)}

    async def oauth2_redirect(self, state: str, ip: str, message: dict[str, str]) -> bool:
        """Pass an OAuth2 redirect to the client waiting for it (its `@oauth2` subscription)."""
        if self._owns(state):
            return self._oauth2_here(state, ip, message)
        try:
            await self._ask(state, {"k": "oauth2", "c": state, "ip": ip, "m": message})
        except NotFound:
            return False
        return True

    def _oauth2_here(self, client_id: str, ip: str, message: dict[str, str]) -> bool:
        client = self.clients.get(client_id)
        if client is None or OAUTH2_TOPIC not in client.subscriptions or (client.ip and client.ip != ip):
            return False
        client.subscriptions.pop(OAUTH2_TOPIC, None)  # used once
        client.send(sse(client.id, OAUTH2_TOPIC, message))
        return True

    # ----- requests to the process holding a client --------------------------------------------
    async def _ask(self, client_id: str, request: dict[str, Any]) -> None:
        """Send `request` to the process whose tag starts `client_id` and raise what it answered:
        over its socket when it runs on this machine, else over the bus. A client id naming no
        live process is a 404 at once. No answer in time is a 503 (the process is overloaded, or
        died moments ago: then its clients' streams are gone too and the SDK connects again
        anyway)."""
        if not well_formed(client_id):
            raise NotFound("Missing or invalid client id.")
        tag = client_id[:TAG_LENGTH]
        try:
            # A connection to its socket is proof enough that the process lives: no read.
            answer = await self.local.ask(tag, request, REQUEST_SECONDS)
            if answer is None:  # not this machine's (or gone): its row says whether it lives
                if not await self._may_exist(tag):
                    raise NotFound("Missing or invalid client id.")
                answer = await self._ask_over_bus(tag, request)
        except NoAnswer:
            raise ProcessNotAnswering() from None
        status = int(answer.get("status", 404))
        if status >= 400:
            raise _ANSWERS.get(status, NotFound)(str(answer.get("message", "")))

    async def _ask_over_bus(self, tag: str, request: dict[str, Any]) -> dict[str, Any]:
        rid = random_string(16)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        await self._becoming_active()
        self._pending[rid] = future
        try:
            await self.bus.publish("process:" + tag, {**request, "r": rid, "from": self.process_id})
            try:
                return await asyncio.wait_for(future, REQUEST_SECONDS)
            except TimeoutError:
                raise NoAnswer() from None
        finally:
            self._pending.pop(rid, None)

    async def _answer(self, request: dict[str, Any]) -> dict[str, Any]:
        """The answer to a request from another process about one of this process's clients,
        whichever way it came (hearth.realtime.local_channel, or the bus)."""
        kind, client_id = request.get("k"), str(request.get("c", ""))
        status, message = 204, ""
        try:
            if kind == "subscribe":
                cid, rid, session = (list(request.get("a") or []) + ["", "", ""])[:3]
                auth = await self._auth(str(cid), str(rid))
                auth.session = str(session)
                subscriptions = [str(x) for x in request.get("s") or []]
                self._subscribe_here(client_id, subscriptions, auth, str(request.get("ip", "")))
            elif kind == "oauth2":
                message_in = {str(k): str(v) for k, v in dict(request.get("m") or {}).items()}
                if not self._oauth2_here(client_id, str(request.get("ip", "")), message_in):
                    status = 404
            else:
                status = 400
        except ApiError as exc:  # DatabaseUnavailable (503) included: the asker answers 503 too
            status, message = exc.status, exc.message
        except Exception:
            log.exception("realtime request %s for %s failed", kind, client_id)
            status, message = 503, ""
        return {"status": status, "message": message}

    async def _answer_over_bus(self, request: dict[str, Any]) -> None:
        answer = await self._answer(request)
        await self.bus.publish(str(request.get("from", "")), {"k": "answer", "r": request.get("r"), **answer})

    async def _handle(self, target: str, payload: dict[str, Any]) -> None:
        """One event from the bus (published by any process, this one included)."""
        kind = payload.get("k")
        if kind == "rec":
            c = self.records.collections.get(str(payload.get("c", "")))
            if c is not None and self.clients:
                values = payload.get("v") or {}
                if c.is_auth:
                    self._auth_record_changed(str(payload.get("a")), c, values)
                await self.record_changed(str(payload.get("a")), c, values)
            return
        if kind == "logout":
            self._session_ended_here(str(payload.get("c")), str(payload.get("id")), str(payload.get("sid")))
            return
        if kind == "restored":
            self._drop_clients()
            return
        if target != self.process_id:
            return
        if kind == "answer":
            future = self._pending.get(str(payload.get("r", "")))
            if future is not None and not future.done():
                future.set_result(payload)
        else:
            # Not awaited here: the answers to a burst of requests are written together.
            self.background.spawn(_quiet_when_unavailable(self._answer_over_bus(payload)))

    async def _session_ended(self, e: SessionEnded) -> None:
        """A login session was ended (auth-logout): its realtime clients become guests."""
        if self.records.collections.realtime_clients > 0:
            payload = {"k": "logout", "c": e.collection.id, "id": e.record_id, "sid": e.session}
            await self.bus.publish("", payload)
        await e.next()

    async def _restored(self, e: BackupEvent) -> None:
        """A backup was restored: every stream of every process ends (the SDKs reconnect and
        subscribe again), since what they were authorized as and subscribed to may be gone."""
        await e.next()
        self._drop_clients()
        try:
            await self.bus.publish("", {"k": "restored"})
        except ApiError:  # the database or Redis away: logged there
            log.warning("realtime: the other processes were not told of the restore; their clients stay connected")

    def _drop_clients(self) -> None:
        for client in list(self.clients.values()):
            client.close()

    def _session_ended_here(self, collection_id: str, record_id: str, session: str) -> None:
        for client in list(self.clients.values()):
            auth = client.auth
            if (
                auth.collection is not None
                and auth.collection.id == collection_id
                and auth.id == record_id
                and session
                and auth.session == session
            ):
                client.auth = GUEST

    def _auth_record_changed(self, action: str, c: Collection, values: dict[str, Any]) -> None:
        """Clients authorized as this record follow it: a deleted record or a new tokenKey (new
        password or e-mail, logout everywhere) makes them guests; other changes (a role…) are
        seen by their next events, as in PocketBase."""
        rid = values.get("id")
        for client in list(self.clients.values()):
            auth = client.auth
            if auth.record is None or auth.collection is None or auth.collection.id != c.id or auth.id != rid:
                continue
            if action == "delete" or values.get("tokenKey") != auth.record.get("tokenKey"):
                client.auth = GUEST
            else:
                client.auth = AuthState(c, values, session=auth.session)

    async def _auth(self, collection_id: str, record_id: str) -> AuthState:
        c = self.records.collections.get(collection_id) if collection_id else None
        values = await self.records.reads.find(c, record_id) if c is not None else None
        return AuthState(c, values) if c is not None and values is not None else GUEST

    def _quiet(self, _tags: Iterable[str]) -> bool:
        """Whether publishing a record write would write nothing in its transaction: no process
        has realtime clients, or the broker publishes after commit (Redis)."""
        return self.records.collections.realtime_clients == 0 or not self.bus.writes_in_transaction

    def _publisher(self, action: str) -> Callable[[RecordWrite], Awaitable[None]]:
        async def publish(e: RecordWrite) -> None:
            """A record write, published with its transaction when some process has clients."""
            await e.next()
            if self.records.collections.realtime_clients > 0:
                payload = {"k": "rec", "a": action, "c": e.collection.id, "v": dict(e.record)}
                await self.bus.publish("", payload, e.tx)

        return publish

    # ----- record changes --------------------------------------------------------------------
    async def record_changed(self, action: str, c: Collection, values: dict[str, Any]) -> None:
        """Deliver one create/update/delete to the clients of this process that may see it.

        Subscriptions that would see the same thing are grouped: same auth (the very record
        values, or guest), same kind (list or view rule) and same options (filter, expand, fields,
        headers). Each group is checked and serialized once; 1,000 guests on `posts/*` cost one
        rule check and one JSON encoding per event, not 1,000."""
        keys = {c.name, c.id}
        rid = str(values.get("id", ""))
        groups: dict[tuple[Any, ...], list[tuple[Client, Subscription]]] = {}
        for client in list(self.clients.values()):
            auth = client.auth
            # Object identities are stable for this call: every client holds its auth alive.
            who = (id(auth.collection), id(auth.record), id(auth.api_key))
            for sub in list(client.subscriptions.values()):
                if sub.collection not in keys or sub.record not in ("*", "", rid):
                    continue
                groups.setdefault((who, sub.record in ("*", ""), sub.options), []).append((client, sub))
        for members in groups.values():
            client, sub = members[0]
            try:
                data = await self._visible(client, sub, action, c, values)
            except DatabaseUnavailable:
                raise  # the bus hands the event over again once the database is back
            except ApiError:
                data = None  # e.g. a bad filter in the options: nothing to send
            except Exception:
                log.exception("realtime delivery to %s failed", client.id)
                data = None
            if data is None:
                continue
            if len(self.message_hook):
                for client, sub in members:
                    # Each client's handlers get a copy of their own to change.
                    message = await self._through_hooks(client, sub, c, orjson.loads(data))
                    if message is not None:
                        client.send(message)
                        self.delivered += 1
            else:
                for client, sub in members:
                    client.send(sse(client.id, sub.raw, data))
                self.delivered += len(members)

    async def _visible(
        self, client: Client, sub: Subscription, action: str, c: Collection, values: dict[str, Any]
    ) -> bytes | None:
        """The event's data as `client` may see it through `sub` (JSON), or None when its rule or
        filter hides the record."""
        info = RequestInfo(
            auth=client.auth,
            method="GET",
            query=sub.query,
            headers={k.replace("-", "_"): v for k, v in sub.headers.items()},
            context="realtime",
        )
        rule = c.rules.get("viewRule" if sub.record not in ("*", "") else "listRule")
        if not await self.records.reads.snapshot_meets(c, values, rule, info, sub.query.get("filter", "")):
            return None
        (record,) = await self.presenter.serialize(c, [values], info, sub.query.get("expand", ""))
        record = project(record, parse_fields_lenient(sub.query.get("fields", "")))
        return deepjson.dumps({"action": action, "record": record})  # records may nest deep

    async def _through_hooks(
        self, client: Client, sub: Subscription, c: Collection, data: dict[str, Any]
    ) -> bytes | None:
        event = RealtimeMessage(c, client.id, client.auth, sub.raw, data)
        sent: list[dict[str, Any]] = []

        async def send(e: RealtimeMessage) -> None:
            sent.append(e.data)

        await self.message_hook.trigger(event, send)
        if not sent:
            return None  # a handler held the message back
        return sse(client.id, sub.raw, sent[0])
