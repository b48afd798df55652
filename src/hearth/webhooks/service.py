"""Outbound webhooks: endpoints configured per collection and action, matched inside the write's
transaction, delivered later by durable jobs (docs/webhooks.md).

Matching: model-tier handlers on `record_create`/`record_update`/`record_delete` (bound when the
service is built) look up the active endpoints of the collection in a per-process copy, check
each endpoint's filter in SQL against the row inside the transaction (before the delete for a
delete, after the write otherwise), and write one outbox row (the record as written, the
matched endpoints) in the write's transaction: a committed write always has its deliveries, a
rolled-back one never does.

Relay: the job worker of every process running jobs moves outbox rows into delivery jobs (one
per endpoint, each with its `webhook-id` and payload built then), in one transaction, so every
attempt of a message sends the same bytes. Why an outbox rather than the jobs themselves in the
write's transaction: a job row carries the claim index, and building the messages costs Python
time; both were on the request path (+30 % per write on SQLite), the outbox append is one row in
an index-free table (docs/performance.md).

Delivery: the job POSTs the payload, signed with a fresh timestamp per attempt, through a client
that refuses non-public addresses at connect time, follows no redirects and waits briefly. A non-
2xx answer or a transport error fails the attempt (the queue retries it with backoff). Each
attempt is logged (bounded per endpoint). An endpoint whose attempts failed MAX_FAILURES times in
a row, over at least FAILING_SECONDS, is disabled; updating it with `active: true` re-enables it.

The per-process copy of the endpoints follows the revocation counter (as API keys do): a change
made through any process reaches the others at their next request.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Collection
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

from hearth._util import deepjson, netguard
from hearth._util.ids import LOWER_ALNUM, RECORD_ID_LENGTH, random_string
from hearth.db.base import Database, Executor
from hearth.errors import NotFound
from hearth.hooks.catalog import Hooks
from hearth.hooks.chain import OUTERMOST, Quiet
from hearth.hooks.events import JobRun, RecordWrite
from hearth.jobs.queue import JobQueue
from hearth.jobs.worker import JobFunctions
from hearth.query.compile import FilterError, compile_filter
from hearth.query.context import RequestInfo
from hearth.query.resolve import Unsupported
from hearth.records.reads import RecordReader
from hearth.schema.repository import CollectionRepository
from hearth.sql import system
from hearth.sql import webhooks as sql
from hearth.webhooks import signing
from hearth.webhooks.endpoints import Endpoint, validate, when

log = logging.getLogger("hearth.webhooks")

JOB = "hearth:webhook"  # the durable job of one delivery (`job_run` handlers may be tagged with it)
PAST = {"create": "created", "update": "updated", "delete": "deleted"}
RETRIES = 8  # attempts after the first: with BACKOFF, a message is tried for about half an hour
BACKOFF = 10.0  # seconds before the first retry, doubled for each one after (with jitter)
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
JOB_TIMEOUT = 30.0
RELAY_BATCH = 200  # outbox rows moved into jobs per transaction
EXCERPT = 1024  # bytes of a response body kept in the log
KEEP_DELIVERIES = 100  # log rows kept per endpoint
MAX_FAILURES = 20  # failed attempts in a row (across messages)...
FAILING_SECONDS = 3600.0  # ...over at least this long disable an endpoint
# A webhook has no requester: its filter sees the record and other collections, never @request.
NO_REQUEST = RequestInfo(context="webhook")
USER_AGENT = "Hearth-Webhooks"


class DeliveryFailed(Exception):
    """An attempt that did not get a 2xx (the job is retried)."""


def now_ms() -> int:
    return int(time.time() * 1000)


class Webhooks:
    def __init__(
        self,
        db: Database,
        collections: CollectionRepository,
        reads: RecordReader,
        jobs: JobQueue,
        functions: JobFunctions,
        hooks: Hooks,
        allow_private: bool = False,
    ) -> None:
        self.db = db
        self.collections = collections
        self.reads = reads
        self.jobs = jobs
        self.allow_private = allow_private  # loopback/private receivers allowed (HEARTH_WEBHOOKS_PRIVATE)
        self.retries, self.backoff = RETRIES, BACKOFF
        self.max_failures = MAX_FAILURES
        self.failing_seconds = FAILING_SECONDS
        self.keep_deliveries = KEEP_DELIVERIES
        self._by_collection: dict[str, list[Endpoint]] = {}
        self._insert_outbox = sql.insert_outbox(db.dialect)  # on every matched write's path
        self._seen = -1  # the revocation counter the copy was loaded at
        self._clients: dict[bool, httpx.AsyncClient] = {}
        # Outermost: the record as every other handler left it; the jobs join the transaction.
        for hook, action in (
            (hooks.record_create, "create"),
            (hooks.record_update, "update"),
            (hooks.record_delete, "delete"),
        ):
            quiet = self._quiet(action)
            hook.bind(self._matcher(action, quiet), id="hearth.webhooks", priority=OUTERMOST, observer=True, quiet=quiet)
        functions.register(JOB, self._deliver, JOB_TIMEOUT)

    async def stop(self) -> None:
        clients, self._clients = self._clients, {}
        for client in clients.values():
            await client.aclose()

    # ----- matching, inside the write's transaction -------------------------------------------
    async def _load(self, ex: Executor) -> None:
        seen = self.collections.revocations
        by_collection: dict[str, list[Endpoint]] = {}
        for r in await ex.fetch_all(sql.select_active(self.db.dialect)):
            ep = Endpoint.from_row(r)
            by_collection.setdefault(ep.collection, []).append(ep)
        self._by_collection, self._seen = by_collection, seen

    def _quiet(self, action: str) -> Quiet:
        """Whether matching a write of a collection (by its tags) would write nothing in its
        transaction: the endpoints are known, and none of them wants this action there."""

        def quiet(tags: Collection[str]) -> bool:
            if self._seen != self.collections.revocations:
                return False  # the endpoints are read again, in the write's transaction
            return not any(action in ep.events for tag in tags for ep in self._by_collection.get(tag, ()))

        return quiet

    def _matcher(self, action: str, quiet: Quiet) -> Callable[[RecordWrite], Awaitable[None]]:
        async def match(e: RecordWrite) -> None:
            if e.tx.autocommit:
                # A write judged to match nothing (`quiet`): its one statement is its own
                # transaction. Should an endpoint have been added since, the write is matched
                # after its commit, in a transaction of its own (a crash in between loses it).
                await e.next()
                if not quiet(e.tags()):
                    e.tx.after_commit(lambda: self._match_committed(match, e))
                return
            if self._seen != self.collections.revocations:
                await self._load(e.tx)
            endpoints = [ep for ep in self._by_collection.get(e.collection.id, ()) if action in ep.events]
            if not endpoints:
                await e.next()
                return
            if action == "delete":  # the row is there to test only before the delete
                matched = [ep for ep in endpoints if await self._matches(e, ep)]
                await e.next()
            else:
                await e.next()
                matched = [ep for ep in endpoints if await self._matches(e, ep)]
            if matched:
                await self._enqueue(e, action, matched)

        return match

    async def _match_committed(self, match: Callable[[RecordWrite], Awaitable[None]], e: RecordWrite) -> None:
        async with self.db.transaction() as tx:
            # A fresh event: its `next()` has nothing left to run, the write is done.
            await match(RecordWrite(e.collection, e.record, tx, e.old))

    async def _matches(self, e: RecordWrite, ep: Endpoint) -> bool:
        if not ep.filter:
            return True
        c, d = e.collection, self.db.dialect
        try:
            compiled = compile_filter(d, c, ep.filter, rule=True)  # cached on the collection
        except (FilterError, Unsupported) as exc:  # the schema changed under the filter
            log.warning(
                "webhook %s: its filter no longer applies to %s (%s); nothing sent", ep.id, c.name, exc
            )
            return False
        if compiled is None:
            return True
        if compiled.decide is not None:
            return compiled.decide(NO_REQUEST)
        query = self.reads.codec(c).sql.exists_where(compiled.render(d, 2))
        return await e.tx.fetch_one(query, (e.record["id"], *compiled.params(NO_REQUEST))) is not None

    async def _enqueue(self, e: RecordWrite, action: str, endpoints: list[Endpoint]) -> None:
        """One outbox row for the write, whatever the number of endpoints: the raw record and who
        gets it. The messages are built off the request path (`relay`)."""
        entry = {"w": [ep.id for ep in endpoints], "a": action, "c": e.collection.id, "t": now_ms(),
                 "r": dict(e.record)}  # fmt: skip
        await e.tx.execute(self._insert_outbox, (deepjson.dumps(entry).decode(),))
        e.tx.after_commit(self._written)

    async def _written(self) -> None:
        self.jobs.added.set()  # this process's worker relays it at once

    # ----- relay: the outbox into delivery jobs, in the job worker -------------------------------
    async def relay(self) -> int:
        """Move the oldest matched writes from the outbox into one delivery job per endpoint, in
        one transaction (a row is moved exactly once, by one process). Returns how many rows."""
        d = self.db.dialect
        if await self.db.fetch_one(sql.any_outbox(d)) is None:
            return 0  # a read: no write transaction when there is nothing to move
        async with self.db.transaction() as tx:
            rows = await tx.fetch_all(sql.take_outbox(d), (RELAY_BATCH,))
            messages: list[dict[str, Any]] = []
            for seq, payload in sorted(rows, key=lambda r: int(r[0])):
                try:
                    messages.extend(self._messages(orjson.loads(payload)))
                except Exception:  # a row this version cannot read: dropped, not retried forever
                    log.exception("webhook outbox row %s could not be turned into messages; dropped", seq)
            await self.jobs.enqueue_many(JOB, messages, retries=self.retries, backoff=self.backoff, tx=tx)
        return len(rows)

    def _messages(self, entry: dict[str, Any]) -> list[dict[str, Any]]:
        action = str(entry["a"])
        c = self.collections.get(str(entry["c"]))
        if c is None:  # deleted between the write and now (moments): nothing left to describe it
            log.warning("webhook: collection %s is gone; %d message(s) dropped", entry["c"], len(entry["w"]))
            return []
        # As the API shows it to a superuser, without hidden fields (never secret columns);
        # `updated` is in it, so receivers can discard a stale update that arrives late.
        record = self.reads.codec(c).to_api(entry["r"], show_hidden=False, show_email=True)
        written = datetime.fromtimestamp(int(entry["t"]) / 1000, UTC)
        event = {
            "type": f"record.{PAST[action]}",
            "timestamp": written.isoformat(timespec="microseconds").replace("+00:00", "Z"),
            "data": {"collection": c.name, "collectionId": c.id, "action": action, "record": record},
        }
        # The message id is the Standard Webhooks `webhook-id`: the same on every attempt.
        return [
            {"webhook": str(wid), "message": "msg_" + secrets.token_urlsafe(20), "event": event}
            for wid in entry["w"]
        ]

    # ----- delivery, in a job -----------------------------------------------------------------
    def _client(self) -> httpx.AsyncClient:
        client = self._clients.get(self.allow_private)
        if client is None:
            client = self._clients[self.allow_private] = netguard.guarded_client(self.allow_private, TIMEOUT)
        return client

    async def _deliver(self, e: JobRun) -> None:
        p = e.payload
        row = await self.db.fetch_one(sql.select_one(self.db.dialect), (p["webhook"],))
        ep = Endpoint.from_row(row) if row is not None else None
        if ep is None or not ep.active:
            return  # deleted or disabled since: the message is dropped
        body = deepjson.dumps(p["event"])  # the same bytes on every attempt (orjson is deterministic)
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            **signing.headers(ep.secret, str(p["message"]), int(time.time()), body),
        }
        status, excerpt, error = 0, "", ""
        started = time.monotonic()
        try:
            if urlsplit(ep.url).scheme not in ("http", "https"):
                raise netguard.AddressRefused("only http and https URLs are called")
            async with self._client().stream("POST", ep.url, content=body, headers=headers) as response:
                status = response.status_code
                excerpt = await _excerpt(response)
        except netguard.AddressRefused as exc:
            error = f"refused: {exc}"
        except httpx.TimeoutException as exc:
            error = f"timed out ({type(exc).__name__})"
        except (httpx.HTTPError, OSError) as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        latency = int((time.monotonic() - started) * 1000)
        ok = 200 <= status < 300
        if not ok and not error:
            error = f"the endpoint answered {status}"
        await self._log(ep, str(p["message"]), e, status, latency, excerpt, error, ok)
        if not ok:
            raise DeliveryFailed(error)

    async def _log(
        self,
        ep: Endpoint,
        message: str,
        e: JobRun,
        status: int,
        latency: int,
        excerpt: str,
        error: str,
        ok: bool,
    ) -> None:
        d = self.db.dialect
        now = now_ms()
        disabled = False
        async with self.db.transaction() as tx:
            # The endpoint's row first: its lock (PostgreSQL) makes concurrent deliveries to one
            # endpoint log one after the other, so the pruning below sees every row it bounds.
            lock = sql.lock_endpoint(d)
            if lock is not None:
                await tx.execute(lock, (ep.id,))
            run = None
            if ok:
                await tx.execute(sql.succeeded(d), (ep.id,))
            else:
                run = await tx.fetch_one(sql.failed(d), (now, ep.id))
            did = random_string(RECORD_ID_LENGTH, LOWER_ALNUM)
            await tx.execute(
                sql.insert_delivery(d),
                (did, ep.id, message, e.id, e.attempt, status, latency, excerpt, error, now),
            )
            await tx.execute(sql.prune_deliveries(d), (ep.id, ep.id, self.keep_deliveries))
            if not ok:
                if (
                    run is not None
                    and int(run[0]) >= self.max_failures
                    and (now - int(run[1]) >= self.failing_seconds * 1000)
                ):
                    reason = (
                        f"{int(run[0])} failed attempts in a row since {when(int(run[1]))}; last: {error}"
                    )
                    disabled = await tx.execute(sql.disable(d), (reason[:1000], now, ep.id)) > 0
                    if disabled:
                        await tx.execute(system.bump_revocations(d))
        if disabled:
            log.warning(
                "webhook %s (%s) disabled after %d failed attempts in a row", ep.id, ep.url, self.max_failures
            )
            await self._changed(bumped=True)

    async def _changed(self, bumped: bool = False) -> None:
        """Tell every process (the revocation counter, as API keys do)."""
        if not bumped:
            async with self.db.transaction() as tx:
                await tx.execute(system.bump_revocations(self.db.dialect))
        self.db.bump_generation()
        await self.collections.refresh()

    # ----- the superuser API -------------------------------------------------------------------
    def _validation(self) -> dict[str, Any]:
        return {"collections": self.collections, "dialect": self.db.dialect, "allow_private": self.allow_private}

    async def all(self) -> list[Endpoint]:
        return [Endpoint.from_row(r) for r in await self.db.fetch_all(sql.select_all(self.db.dialect))]

    async def get(self, wid: str) -> Endpoint:
        row = await self.db.fetch_one(sql.select_one(self.db.dialect), (wid,))
        if row is None:
            raise NotFound("The webhook does not exist.")
        return Endpoint.from_row(row)

    async def create(self, body: dict[str, Any]) -> Endpoint:
        v = await validate(body, None, "Failed to create webhook.", **self._validation())
        now = now_ms()
        wid = random_string(RECORD_ID_LENGTH, LOWER_ALNUM)
        params = (wid, v["name"], v["url"], v["collection"], orjson.dumps(v["events"]).decode(), v["filter"],
                  v["secret"], int(v["active"]), "", 0, 0, now, now)  # fmt: skip
        async with self.db.transaction() as tx:
            await tx.execute(sql.insert(self.db.dialect), params)
        await self._changed()
        return await self.get(wid)

    async def update(self, wid: str, body: dict[str, Any]) -> Endpoint:
        current = await self.get(wid)
        v = await validate(body, current, "Failed to update webhook.", **self._validation())
        failures, since, reason = current.failures, current.failing_since, current.disabled_reason
        if v["active"]:
            reason = ""
            if not current.active:  # re-enabled: a fresh start
                failures, since = 0, 0
        params = (v["name"], v["url"], v["collection"], orjson.dumps(v["events"]).decode(), v["filter"],
                  v["secret"], int(v["active"]), reason, failures, since, now_ms(), wid)  # fmt: skip
        async with self.db.transaction() as tx:
            await tx.execute(sql.update(self.db.dialect), params)
        await self._changed()
        return await self.get(wid)

    async def delete(self, wid: str) -> None:
        await self.get(wid)
        d = self.db.dialect
        async with self.db.transaction() as tx:
            await tx.execute(sql.delete(d), (wid,))
            await tx.execute(sql.delete_deliveries(d), (wid,))
        await self._changed()

    async def deliveries(self, wid: str, page: int, per_page: int) -> tuple[list[dict[str, Any]], int]:
        await self.get(wid)
        d = self.db.dialect
        total_row = await self.db.fetch_one(sql.count_deliveries(d), (wid,))
        rows = await self.db.fetch_all(sql.list_deliveries(d), (wid, per_page, (page - 1) * per_page))
        items = [
            {
                "id": str(r[0]),
                "webhook": str(r[1]),
                "message": str(r[2]),
                "job": str(r[3]),
                "attempt": int(r[4]),
                "status": int(r[5]),
                "latency": int(r[6]),
                "response": str(r[7]),
                "error": str(r[8]),
                "created": when(int(r[9])),
            }  # fmt: skip
            for r in rows
        ]
        return items, int(total_row[0]) if total_row else 0


async def _excerpt(response: httpx.Response) -> str:
    """The start of the body (EXCERPT bytes at most; the rest is not read)."""
    data = b""
    async for chunk in response.aiter_raw():
        data += chunk
        if len(data) >= EXCERPT:
            break
    return data[:EXCERPT].decode("utf-8", "replace")
