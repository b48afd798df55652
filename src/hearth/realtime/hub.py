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
from dataclasses import dataclass, field
from typing import Any

import orjson

from hearth._util.ids import random_string
from hearth.errors import ApiError
from hearth.http.fields import parse_fields, project
from hearth.realtime.subscriptions import Subscription
from hearth.records.service import RecordService
from hearth.rules.context import GUEST, AuthState, RequestInfo
from hearth.schema.collection import Collection

log = logging.getLogger("hearth.realtime")

CLIENT_ID_LENGTH = 40
QUEUE_LIMIT = 1000  # a client this far behind is dropped rather than let memory grow
OAUTH2_TOPIC = "@oauth2"


def sse(client_id: str, event: str, data: Any) -> bytes:
    """One server-sent event, as PocketBase writes them."""
    payload = data if isinstance(data, bytes) else orjson.dumps(data)
    return b"id:" + client_id.encode() + b"\nevent:" + event.encode() + b"\ndata:" + payload + b"\n\n"


@dataclass(eq=False, slots=True)
class Client:
    id: str
    ip: str = ""
    auth: AuthState = field(default_factory=lambda: GUEST)
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    queue: asyncio.Queue[bytes | None] = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))

    def send(self, message: bytes) -> None:
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            log.warning("realtime client %s is not reading; disconnecting it", self.id)
            self.close()

    def close(self) -> None:
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(None)  # the stream ends; the SDK reconnects


def same_auth(previous: AuthState, current: AuthState) -> bool:
    """Whether a client may move from `previous` to `current` auth (a guest may log in)."""
    if previous.record is None:
        return True
    return (
        current.record is not None
        and previous.collection is not None
        and current.collection is not None
        and previous.collection.id == current.collection.id
        and previous.id == current.id
    )


class Hub:
    def __init__(self, records: RecordService) -> None:
        self.records = records
        self.clients: dict[str, Client] = {}

    # ----- clients ---------------------------------------------------------------------------
    def connect(self, ip: str) -> Client:
        client = Client(random_string(CLIENT_ID_LENGTH), ip)
        self.clients[client.id] = client
        return client

    def disconnect(self, client: Client) -> None:
        self.clients.pop(client.id, None)

    def close_all(self) -> None:
        for client in list(self.clients.values()):
            client.close()
        self.clients.clear()

    def send(self, client_id: str, topic: str, data: Any) -> bool:
        """Send to one client of this process if it subscribed to `topic` (e.g. `@oauth2`)."""
        client = self.clients.get(client_id)
        if client is None or topic not in client.subscriptions:
            return False
        client.send(sse(client.id, topic, data))
        return True

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
        if not await self.records.snapshot_meets(c, values, rule, info, sub.query.get("filter", "")):
            return None
        (record,) = await self.records.serialize(c, [values], info, sub.query.get("expand", ""))
        record = project(record, parse_fields(sub.query.get("fields", "")))
        return sse(client.id, sub.raw, {"action": action, "record": record})
