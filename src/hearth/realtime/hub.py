"""Realtime clients of this process and what they are sent.

A client connects (`GET /api/realtime`), gets an id, then sets its subscriptions and its auth with
`POST /api/realtime` (a guest may become a user; any other auth change is refused, as in
PocketBase). Record changes reach every process through the bus (hearth.realtime.bus); each
process delivers them to its own clients, checking for each subscription the collection's list
rule (`coll/*`) or view rule (`coll/id`), and the subscription's `filter`, against the record as it
was written or deleted (hearth.sql.records.RecordSQL.snapshot_where), as that client.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import orjson

from hearth._util import deepjson
from hearth._util.ids import random_string
from hearth._util.projection import parse_fields, project
from hearth._util.tasks import BackgroundTasks
from hearth.errors import ApiError, BadRequest, DatabaseUnavailable, Forbidden, NotFound
from hearth.hooks.catalog import Hooks
from hearth.hooks.chain import OUTERMOST
from hearth.hooks.events import RealtimeMessage, RecordWrite, SessionEnded
from hearth.query.context import GUEST, AuthState, RequestInfo
from hearth.realtime.bus import Bus, cancel
from hearth.realtime.subscriptions import Subscription, parse
from hearth.records.present import RecordPresenter
from hearth.records.service import RecordService
from hearth.schema.collection import Collection
from hearth.sql import system

log = logging.getLogger("hearth.realtime")

CLIENT_ID_LENGTH = 40
# A client this far behind (messages or bytes waiting for its stream) is dropped rather than let
# memory grow; one message larger than QUEUE_BYTES is still taken when nothing else waits. The bus
# may hand over 500 events without a pause, which a healthy client must be able to absorb.
QUEUE_LIMIT = 1000
QUEUE_BYTES = 4 << 20
OAUTH2_TOPIC = "@oauth2"
HEARTBEAT_SECONDS = 30
STALE_SECONDS = 120  # a client no process vouched for this long belonged to a dead process


def sse(client_id: str, event: str, data: Any) -> bytes:
    """One server-sent event, as PocketBase writes them."""
    payload = data if isinstance(data, bytes) else deepjson.dumps(data)  # records may nest deep
    return b"id:" + client_id.encode() + b"\nevent:" + event.encode() + b"\ndata:" + payload + b"\n\n"


@dataclass(eq=False, slots=True)
class Client:
    id: str
    ip: str = ""
    auth: AuthState = field(default_factory=lambda: GUEST)
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    queue: asyncio.Queue[bytes | None] = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))
    queued: int = 0  # bytes waiting in `queue`
    # Set by close(): its stream must end. One stuck writing to a peer that does not read cannot
    # end by itself; the HTTP layer then resets its connection (hearth.http.sse).
    closed: asyncio.Event = field(default_factory=asyncio.Event)

    def send(self, message: bytes) -> None:
        if self.closed.is_set():
            return  # its stream is ending: nothing more is kept for it
        if self.queue.qsize() >= QUEUE_LIMIT or (self.queued and self.queued + len(message) > QUEUE_BYTES):
            self.drop()
            return
        self.queue.put_nowait(message)
        self.queued += len(message)

    async def next(self) -> bytes | None:
        """The next message for its stream; None when the stream must end."""
        message = await self.queue.get()
        if message is not None:
            self.queued -= len(message)
        return message

    def drop(self) -> None:
        """It does not read what it is sent (too far behind, or its stream cannot write)."""
        if not self.closed.is_set():
            log.warning("realtime client %s is not reading; disconnecting it", self.id)
        self.close()

    def close(self) -> None:
        if self.closed.is_set():
            return
        self.closed.set()
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queued = 0
        self.queue.put_nowait(None)  # the stream ends; the SDK reconnects


async def _quiet_when_unavailable(work: Coroutine[Any, Any, None]) -> None:
    """Background work (publishing, forgetting a client) that the database refuses is dropped
    without a traceback: the outage is logged by the db layer, and a client row left behind is
    removed by the heartbeat after STALE_SECONDS."""
    try:
        await work
    except DatabaseUnavailable:
        pass


class ShuttingDown(ApiError):
    status = 503
    default_message = "The server is shutting down; connect again."


def same_auth(previous: tuple[str, str], current: AuthState) -> bool:
    """Whether a client authorized as `previous` (collection id, record id; empty for a guest)
    may now be `current` (a guest may log in; nothing else changes)."""
    if not previous[1]:
        return True
    return current.collection is not None and (current.collection.id, current.id) == previous


class Hub:
    def __init__(self, records: RecordService, presenter: RecordPresenter, hooks: Hooks) -> None:
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
            hook.bind(self._publisher(action), id="hearth.realtime", priority=OUTERMOST, observer=True)
        hooks.record_session_ended.bind(self._session_ended, id="hearth.realtime")
        self.db = records.db
        self.clients: dict[str, Client] = {}
        self.bus = Bus(self.db, self._handle, lambda: bool(self.clients))
        self.background = BackgroundTasks()
        self._heartbeat: asyncio.Task[None] | None = None
        self.closing = False  # the process is stopping: no new streams

    async def start(self) -> None:
        await self.bus.start()
        self._heartbeat = asyncio.get_running_loop().create_task(self._beat())

    async def _beat(self) -> None:
        """Every process says which clients it still holds; clients nobody vouched for lately
        (their process died) are forgotten, and the client counter is recounted."""
        d = self.db.dialect
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            try:
                now = int(time.time())
                ids = list(self.clients)
                for i in range(0, len(ids), 500):
                    chunk = ids[i : i + 500]
                    await self.db.execute(system.touch_rt_clients(d, len(chunk)), (*chunk, now))
                async with self.db.transaction() as tx:
                    if await tx.execute(system.delete_stale_rt_clients(d), (now - STALE_SECONDS,)):
                        await tx.execute(system.recount_realtime_clients(d))
            except DatabaseUnavailable:
                pass  # logged by the db layer; the next beat tries again
            except Exception:
                log.exception("realtime heartbeat failed")

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
            await _quiet_when_unavailable(self._forget(client.id))
        self.clients.clear()
        await self.background.drain()  # forgetting the clients whose streams ended
        await self.bus.stop()

    # ----- clients ---------------------------------------------------------------------------
    async def connect(self, ip: str) -> Client:
        if self.closing:
            raise ShuttingDown()
        client = Client(random_string(CLIENT_ID_LENGTH), ip)
        if not self.clients:
            await self.bus.catch_up()
        self.clients[client.id] = client
        self.bus.wake()
        d = self.db.dialect
        try:
            async with self.db.transaction() as tx:
                await tx.execute(system.insert_rt_client(d), (client.id, ip, int(time.time())))
                await tx.execute(system.add_realtime_clients(d), (1,))
        except BaseException:
            self.clients.pop(client.id, None)  # never streamed, so never disconnected: forget it here
            raise
        self.db.bump_generation()  # other processes start publishing record changes
        if self.closing:  # the stop began while this client was being registered
            client.close()
        return client

    def disconnect(self, client: Client) -> None:
        if self.clients.pop(client.id, None) is not None:
            self.background.spawn(_quiet_when_unavailable(self._forget(client.id)))

    async def _forget(self, client_id: str) -> None:
        d = self.db.dialect
        async with self.db.transaction() as tx:
            if await tx.execute(system.delete_rt_client(d), (client_id,)):
                await tx.execute(system.add_realtime_clients(d), (-1,))
        self.db.bump_generation()

    async def _row(self, client_id: str) -> Any:
        return await self.db.fetch_one(system.select_rt_client(self.db.dialect), (client_id,))

    async def subscribe(self, client_id: str, subscriptions: list[str], auth: AuthState, ip: str) -> None:
        """Set a client's subscriptions and auth, from whichever process the request reached."""
        row = await self._row(client_id)
        if row is None:
            raise NotFound("Missing or invalid client id.")
        if row[1] and row[1] != ip:
            raise BadRequest("Invalid realtime client.")
        if not same_auth((str(row[2]), str(row[3])), auth):
            raise Forbidden("The current and the previous request authorization don't match.")
        cid = auth.collection.id if auth.collection is not None and auth.record is not None else ""
        await self.db.execute(
            system.update_rt_client(self.db.dialect),
            (cid, auth.id, orjson.dumps(subscriptions).decode(), client_id),
        )
        local = self.clients.get(client_id)
        if local is not None:
            local.auth, local.subscriptions = auth, {s: parse(s) for s in subscriptions}
        else:
            await self.bus.publish(client_id, {"k": "sub", "sid": auth.session})

    async def oauth2_redirect(self, state: str, ip: str, message: dict[str, str]) -> bool:
        """Pass an OAuth2 redirect to the client waiting for it (its `@oauth2` subscription)."""
        row = await self._row(state) if state else None
        if row is None:
            return False
        subscriptions = orjson.loads(row[4])
        if OAUTH2_TOPIC not in subscriptions or (row[1] and row[1] != ip):
            return False
        subscriptions.remove(OAUTH2_TOPIC)
        await self.db.execute(
            system.update_rt_client(self.db.dialect),
            (row[2], row[3], orjson.dumps(subscriptions).decode(), state),
        )
        await self.bus.publish(state, {"k": "send", "t": OAUTH2_TOPIC, "d": message})
        return True

    async def _handle(self, target: str, payload: dict[str, Any]) -> None:
        """One event from the bus (published by any process, this one included)."""
        kind = payload.get("k")
        if kind == "rec":
            c = self.records.collections.get(str(payload.get("c", "")))
            if c is not None and self.clients:
                values = payload.get("v") or {}
                if c.is_auth:
                    await self._auth_record_changed(str(payload.get("a")), c, values)
                await self.record_changed(str(payload.get("a")), c, values)
            return
        if kind == "logout":
            await self._session_ended_here(
                str(payload.get("c")), str(payload.get("id")), str(payload.get("sid"))
            )
            return
        client = self.clients.get(target)
        if client is None:
            return
        if kind == "send":
            topic = str(payload.get("t"))
            client.send(sse(client.id, topic, payload.get("d")))
            client.subscriptions.pop(topic, None)
        elif kind == "sub":
            row = await self._row(target)
            if row is not None:
                client.auth = await self._auth(str(row[2]), str(row[3]))
                client.auth.session = str(payload.get("sid") or "")
                client.subscriptions = {s: parse(s) for s in orjson.loads(row[4])}

    async def _session_ended(self, e: SessionEnded) -> None:
        """A login session was ended (auth-logout): its realtime clients become guests."""
        if self.records.collections.realtime_clients > 0:
            payload = {"k": "logout", "c": e.collection.id, "id": e.record_id, "sid": e.session}
            await self.bus.publish("", payload)
        await e.next()

    async def _session_ended_here(self, collection_id: str, record_id: str, session: str) -> None:
        for client in list(self.clients.values()):
            auth = client.auth
            if (
                auth.collection is not None
                and auth.collection.id == collection_id
                and auth.id == record_id
                and session
                and auth.session == session
            ):
                await self._to_guest(client)

    async def _to_guest(self, client: Client) -> None:
        client.auth = GUEST
        subscriptions = orjson.dumps(list(client.subscriptions)).decode()
        await self.db.execute(system.update_rt_client(self.db.dialect), ("", "", subscriptions, client.id))

    async def _auth_record_changed(self, action: str, c: Collection, values: dict[str, Any]) -> None:
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
                subscriptions = orjson.dumps(list(client.subscriptions)).decode()
                await self.db.execute(
                    system.update_rt_client(self.db.dialect), ("", "", subscriptions, client.id)
                )
            else:
                client.auth = AuthState(c, values)

    async def _auth(self, collection_id: str, record_id: str) -> AuthState:
        c = self.records.collections.get(collection_id) if collection_id else None
        values = await self.records.reads.find(c, record_id) if c is not None else None
        return AuthState(c, values) if c is not None and values is not None else GUEST

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
        """Deliver one create/update/delete to the clients of this process that may see it."""
        keys = {c.name, c.id}
        rid = str(values.get("id", ""))
        for client in list(self.clients.values()):
            for sub in list(client.subscriptions.values()):
                if sub.collection not in keys or sub.record not in ("*", "", rid):
                    continue
                try:
                    message = await self._message(client, sub, action, c, values)
                except DatabaseUnavailable:
                    raise  # the bus hands the event over again once the database is back
                except ApiError:
                    message = None  # e.g. a bad filter in the options: nothing to send
                except Exception:
                    log.exception("realtime delivery to %s failed", client.id)
                    message = None
                if message is not None:
                    client.send(message)

    async def _message(
        self, client: Client, sub: Subscription, action: str, c: Collection, values: dict[str, Any]
    ) -> bytes | None:
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
        record = project(record, parse_fields(sub.query.get("fields", "")))
        data: dict[str, Any] = {"action": action, "record": record}
        if len(self.message_hook):
            event = RealtimeMessage(c, client.id, client.auth, sub.raw, data)
            sent: list[dict[str, Any]] = []

            async def send(e: RealtimeMessage) -> None:
                sent.append(e.data)

            await self.message_hook.trigger(event, send)
            if not sent:
                return None  # a handler held the message back
            data = sent[0]
        return sse(client.id, sub.raw, data)
