"""Request logs (`/api/logs`) as PocketBase 0.40 keeps them: entries of every answered request and
of app.logger, written in batches off the request path, listed with the filter language, pruned
by age, and subject to the `logs` settings. Each test marks its requests (a unique User-Agent or
query) and filters on that mark: the module's app is shared."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from hearth._util import times
from hearth._util.jsonlog import JsonFormatter
from hearth.errors import DatabaseUnavailable
from hearth.logs import service as logs_service
from tests.conftest import OPEN, Api, unique

PB_DATETIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z$")


async def flushed(api: Api) -> None:
    await api.app.state.hearth.logs.flush()


async def entries(api: Api, filter_text: str, **params: Any) -> dict[str, Any]:
    await flushed(api)
    r = await api.client.get("/api/logs", params={"filter": filter_text, **params}, headers=api.su())
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


@pytest.fixture
async def logs_settings(api: Api) -> AsyncIterator[Any]:
    """PATCHes `logs` settings; the defaults are back after the test."""

    async def patch(**logs: Any) -> None:
        r = await api.client.patch("/api/settings", json={"logs": logs}, headers=api.su())
        assert r.status_code == 200, r.text

    yield patch
    await patch(maxDays=5, minLevel=0, logIP=True, logAuthId=False, maxDataSize=0)


async def test_requests_are_logged_as_pocketbase_logs_them(api: Api) -> None:
    ua = unique("probe")
    await api.client.get("/api/health?x=1", headers={"User-Agent": ua, "Referer": "http://ref/"})
    await api.client.get("/api/collections/nope/records", headers={"User-Agent": ua})
    await api.client.get("/api/collections", headers={"User-Agent": ua, **api.su()})
    page = await entries(api, f'data.userAgent = "{ua}"')
    ok, missing, listed = page["items"]  # no sort: oldest first, as PocketBase
    assert page["totalItems"] == 3
    assert ok["message"] == "GET /api/health?x=1" and ok["level"] == 0
    assert PB_DATETIME.match(ok["created"]) and len(ok["id"]) == 15
    data = ok["data"]
    assert {k: data[k] for k in ("type", "method", "url", "status", "referer", "auth", "remoteIP", "userIP")} == {
        "type": "request", "method": "GET", "url": "/api/health?x=1", "status": 200, "referer": "http://ref/",
        "auth": "", "remoteIP": "127.0.0.1", "userIP": "127.0.0.1",
    }  # fmt: skip
    assert isinstance(data["execTime"], float) and 0 < data["execTime"] < 5000
    assert "authId" not in data and "error" not in data
    # An error answer is an ERROR entry with the error's message.
    assert missing["level"] == 8 and missing["data"]["status"] == 404
    assert missing["data"]["error"] == "Missing collection context." and "details" in missing["data"]
    assert listed["data"]["auth"] == "_superusers" and listed["level"] == 0
    # A validation error's details are its field errors, as in the answer.
    await api.client.post("/api/collections", json={"name": ""}, headers={"User-Agent": ua, **api.su()})
    [bad] = (await entries(api, f'data.userAgent = "{ua}" && data.status = 400'))["items"]
    assert bad["data"]["error"] == "Failed to create collection." and bad["data"]["details"]["name"]["code"]
    # The logs API's own successful requests are not logged (its errors are).
    await api.client.get("/api/logs", headers={"User-Agent": ua, **api.su()})
    await api.client.get("/api/logs/nope", headers={"User-Agent": ua, **api.su()})
    urls = [e["data"]["url"] for e in (await entries(api, f'data.userAgent = "{ua}"'))["items"]]
    assert urls[4:] == ["/api/logs/nope"]


async def test_a_nul_in_the_url_is_logged_and_does_not_block_the_others(api: Api) -> None:
    # PostgreSQL's text and jsonb refuse NUL characters: the entry keeps U+FFFD instead, and the
    # batch it is in is written (a refused row would be dropped alone, counted).
    ua = unique("nul")
    await api.client.get("/api/health?q=a%00b", headers={"User-Agent": ua + "\x00"})
    await api.client.get("/api/health?q=ok", headers={"User-Agent": ua})
    found = (await entries(api, f'data.userAgent ~ "{ua}"'))["items"]
    assert [e["message"] for e in found] == ["GET /api/health?q=a\ufffdb", "GET /api/health?q=ok"]
    assert found[0]["data"]["url"] == "/api/health?q=a%00b" and found[0]["data"]["userAgent"] == ua + "\ufffd"


async def test_list_sort_paging_view_and_stats(api: Api) -> None:
    ua = unique("paging")
    for i in range(3):
        await api.client.get(f"/api/health?n={i}", headers={"User-Agent": ua})
    mark = f'data.userAgent = "{ua}"'
    newest = await entries(api, mark, sort="-@rowid", perPage=2, page=2)
    assert (newest["page"], newest["perPage"], newest["totalItems"], newest["totalPages"]) == (2, 2, 3, 2)
    assert [e["data"]["url"] for e in newest["items"]] == ["/api/health?n=0"]
    by_url = await entries(api, mark, sort="-data.url", skipTotal="1", fields="id,data.url")
    assert by_url["totalItems"] == -1 and [list(e) for e in by_url["items"]] == [["id", "data"]] * 3
    assert [e["data"]["url"][-1] for e in by_url["items"]] == ["2", "1", "0"]
    assert (await entries(api, f"{mark} && data.status >= 400"))["totalItems"] == 0
    assert (await entries(api, f'{mark} && message ~ "n=1" && level = 0'))["totalItems"] == 1
    assert (await entries(api, f"{mark} && data.nothing.here = 1"))["totalItems"] == 0
    one = by_url["items"][0]["id"]
    r = await api.client.get(f"/api/logs/{one}", headers=api.su())
    assert r.status_code == 200 and r.json()["data"]["url"] == "/api/health?n=2" and r.json()["id"] == one
    r = await api.client.get("/api/logs/stats", params={"filter": mark}, headers=api.su())
    assert r.status_code == 200
    [hour] = r.json()
    assert hour["total"] == 3 and re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:00:00\.000Z", hour["date"])
    assert hour["date"][:13] == times.now()[:13] or hour["date"][:10] == times.now()[:10]


async def test_bad_queries_missing_entries_and_who_may_ask(api: Api) -> None:
    su = api.su()
    for params in ({"filter": "(("}, {"filter": "nope = 1"}, {"sort": "nope"}, {"sort": "@nope"}):
        r = await api.client.get("/api/logs", params=params, headers=su)
        assert r.status_code == 400 and r.json()["message"] == "Something went wrong while processing your request."
    r = await api.client.get("/api/logs/stats", params={"filter": "(("}, headers=su)
    assert r.status_code == 400 and r.json()["message"] == "Invalid filter format."
    r = await api.client.get("/api/logs/nope", headers=su)
    assert r.status_code == 404 and r.json()["message"] == "The requested resource wasn't found."
    users = await api.create_collection({"name": unique("people"), "type": "auth", **OPEN})
    r = await api.client.post(f"/api/collections/{users['name']}/records",
                              json={"email": "p@example.com", "password": "pass-12345", "passwordConfirm": "pass-12345"})  # fmt: skip
    assert r.status_code == 200, r.text
    r = await api.client.post(f"/api/collections/{users['name']}/auth-with-password",
                              json={"identity": "p@example.com", "password": "pass-12345"})  # fmt: skip
    user = {"Authorization": r.json()["token"]}
    for path in ("/api/logs", "/api/logs/stats", "/api/logs/x"):
        assert (await api.client.get(path)).status_code == 401
        assert (await api.client.get(path, headers=user)).status_code == 403


async def test_settings_ip_auth_id_min_level_and_no_retention(api: Api, logs_settings: Any) -> None:
    ua = unique("settings")
    headers = {"User-Agent": ua, **api.su()}
    await logs_settings(logIP=False, logAuthId=True)
    await api.client.get("/api/collections?a", headers=headers)
    await logs_settings(logIP=True, logAuthId=False, minLevel=8)
    await api.client.get("/api/collections?b", headers=headers)  # INFO: under minLevel
    await api.client.get("/api/collections/nope?c", headers=headers)  # ERROR: kept
    await logs_settings(minLevel=0, maxDays=0)
    await api.client.get("/api/collections?d", headers=headers)
    await api.client.get("/api/collections/nope?e", headers=headers)
    await logs_settings(maxDays=5)
    found = (await entries(api, f'data.userAgent = "{ua}"'))["items"]
    assert [e["data"]["url"][-1] for e in found] == ["a", "c"]
    no_ip, error = found
    assert "userIP" not in no_ip["data"] and "remoteIP" not in no_ip["data"]
    assert len(no_ip["data"]["authId"]) == 15 and no_ip["data"]["auth"] == "_superusers"
    assert error["level"] == 8 and "authId" not in error["data"] and error["data"]["userIP"] == "127.0.0.1"


async def test_data_beyond_max_data_size_is_truncated(api: Api, logs_settings: Any) -> None:
    await logs_settings(maxDataSize=60, logAuthId=True)
    await api.client.get("/api/collections?truncated", headers=api.su())
    await logs_settings(maxDataSize=0, logAuthId=False)
    found = (await entries(api, "data.__pb_truncated__ = true && message = 'GET /api/collections?truncated'"))
    [entry] = found["items"][-1:]
    # What PocketBase 0.40.6 stores for the same request: the keys in name order while they fit
    # in 60 bytes, the next one as null.
    assert entry["data"] == {"__pb_truncated__": True, "auth": "_superusers", "authId": entry["data"]["authId"],
                             "execTime": None}  # fmt: skip
    assert len(entry["data"]["authId"]) == 15


async def test_app_logger_and_hearth_warnings_become_entries(api: Api, logs_settings: Any) -> None:
    h = api.app.state.hearth
    c = await api.create_collection({"name": unique("notes"), "fields": [{"name": "title", "type": "text"}], **OPEN})

    async def created(e: Any) -> None:
        await e.next()
        h.logger.info("note created", extra={"title": e.record["title"], "n": 1})
        h.logger.debug("debug detail", extra={"title": e.record["title"]})

    hid = h.hooks.record_create.bind(created, tags=(c["name"],))
    mark = unique("t")
    try:
        r = await api.client.post(f"/api/collections/{c['name']}/records", json={"title": mark})
        assert r.status_code == 200, r.text
        await logs_settings(minLevel=-4)
        r = await api.client.post(f"/api/collections/{c['name']}/records", json={"title": mark})
        assert r.status_code == 200, r.text
    finally:
        h.hooks.record_create.unbind(hid)
    logging.getLogger("hearth.example").warning("disk almost full", extra={"title": mark})
    found = (await entries(api, f'data.title = "{mark}"'))["items"]
    assert [(e["message"], e["level"]) for e in found] == [
        ("note created", 0), ("note created", 0), ("debug detail", -4), ("disk almost full", 4),
    ]  # fmt: skip
    assert found[0]["data"] == {"title": mark, "n": 1}  # attributes only, as slog's
    assert found[3]["data"] == {"title": mark, "logger": "hearth.example"}


async def test_entries_are_written_in_batches_within_a_bounded_time(api: Api) -> None:
    ua = unique("timer")
    await api.client.get("/api/health", headers={"User-Agent": ua})
    end = time.monotonic() + logs_service.FLUSH_INTERVAL * 3 + 2
    total = 0
    while time.monotonic() < end and not total:
        await asyncio.sleep(0.1)  # no explicit flush: the flusher's timer writes it
        r = await api.client.get("/api/logs", params={"filter": f'data.userAgent = "{ua}"'}, headers=api.su())
        total = r.json()["totalItems"]
    assert total == 1


async def test_a_burst_beyond_the_buffer_is_counted_not_silently_lost(api: Api, caplog: Any) -> None:
    h = api.app.state.hearth
    await flushed(api)
    mark = unique("burst")
    dropped = h.logs.dropped
    extra = 7
    with caplog.at_level(logging.WARNING, logger="hearth.logs"):
        for _ in range(logs_service.MAX_BUFFER + extra):  # no await: the flusher cannot run between
            h.logger.info("burst", extra={"mark": mark})
    assert h.logs.dropped - dropped == extra
    assert any("dropped" in r.getMessage() for r in caplog.records)
    assert (await entries(api, f'data.mark = "{mark}"', perPage=1))["totalItems"] == logs_service.MAX_BUFFER


async def test_two_instances_write_side_by_side_and_flush_when_stopped(api: Api) -> None:
    """A second Hearth on the same database (another process or instance): both write their
    batches while requests go on, without errors and without losing entries; a stop writes what
    its buffer still held."""
    from tests.conftest import start_api

    ua = unique("pair")

    async def burst(a: Api) -> None:
        for i in range(40):
            r = await a.client.get(f"/api/health?i={i}", headers={"User-Agent": ua})
            assert r.status_code == 200
            if i % 10 == 0:
                await a.app.state.hearth.logs.flush()

    async for other in start_api(api.app.state.hearth.config, api.dialect):
        api.token = other.token  # its start upserted the superuser again: older tokens are void
        await asyncio.gather(burst(api), burst(other))
    # `other` was stopped without an explicit flush of its last entries.
    assert (await entries(api, f'data.userAgent = "{ua}"', perPage=1))["totalItems"] == 80


async def test_old_entries_are_pruned_by_the_builtin_cron(api: Api) -> None:
    h = api.app.state.hearth
    old = times.format_datetime(datetime.now(UTC) - timedelta(days=6))
    recent = times.format_datetime(datetime.now(UTC) - timedelta(days=4))
    mark = unique("age")
    data = orjson.dumps({"mark": mark}).decode()
    await h.logs.store.write([(unique("o")[:15], 0, "old", data, old), (unique("r")[:15], 0, "recent", data, recent)])
    assert (await entries(api, f'data.mark = "{mark}"'))["totalItems"] == 2
    await h.crons.get("__hearthLogsCleanup__").fn()  # what the cron runs (maxDays 5)
    assert [e["message"] for e in (await entries(api, f'data.mark = "{mark}"'))["items"]] == ["recent"]
    r = await api.client.get("/api/crons", headers=api.su())
    assert {"id": "__hearthLogsCleanup__", "expression": "0 */6 * * *"} in r.json()


async def test_request_entries_as_json_lines(api: Api, caplog: Any) -> None:
    h = api.app.state.hearth
    ua = unique("json")
    h.logs.json_lines = True  # what --log-format json / HEARTH_LOG_FORMAT=json set
    try:
        with caplog.at_level(logging.INFO, logger="hearth.request"):
            await api.client.get("/api/collections/nope/records", headers={"User-Agent": ua})
            await flushed(api)
    finally:
        h.logs.json_lines = False
    [record] = [r for r in caplog.records if r.name == "hearth.request" and ua in str(r.__dict__.get("data"))]
    line = orjson.loads(JsonFormatter().format(record))
    assert line["level"] == "ERROR" and line["message"] == "GET /api/collections/nope/records"
    assert line["data"]["status"] == 404 and line["data"]["userAgent"] == ua and PB_DATETIME.match(line["time"])


def test_log_format_is_text_or_json() -> None:
    from hearth.cli import logging_config
    from hearth.config import ConfigError, parse_log_format

    assert parse_log_format(" JSON ") == "json" and parse_log_format("text") == "text"
    with pytest.raises(ConfigError, match="HEARTH_LOG_FORMAT 'xml' is not a log format"):
        parse_log_format("xml", "HEARTH_LOG_FORMAT")
    formatters = logging_config("json")["formatters"]
    assert formatters and all(f["()"].endswith("JsonFormatter") for f in formatters.values())
    assert logging_config("text")["formatters"]["hearth"]["()"] == "logging.Formatter"
    record = logging.LogRecord("hearth.jobs", logging.WARNING, __file__, 1, "job %s failed", ("x",), None)
    record.job = "x"
    line = orjson.loads(JsonFormatter().format(record))
    assert line["message"] == "job x failed" and line["level"] == "WARNING" and line["data"] == {"job": "x"}


async def test_a_row_the_database_refuses_is_dropped_alone(api: Api, caplog: Any) -> None:
    """A batch the store refuses as a whole (here: an entry whose id is taken, a primary key
    violation; PostgreSQL COPYs batches, so one bad row fails all of it) is written row by row:
    the others land, the bad one is counted."""
    h = api.app.state.hearth
    await flushed(api)
    mark = unique("refused")
    h.logger.info("first", extra={"mark": mark})
    await h.logs.flush()
    taken = (await entries(api, f'data.mark = "{mark}"'))["items"][0]["id"]
    dropped = h.logs.dropped
    good = [(f"r{unique('x')[-6:]}{i:08d}", 0, "ok", orjson.dumps({"mark": mark}).decode(), "2026-01-01 00:00:00.000Z")
            for i in range(3)]  # fmt: skip
    bad = (taken, 0, "dup", orjson.dumps({"mark": mark}).decode(), "2026-01-01 00:00:00.000Z")
    h.logs._buffer.extend([good[0], bad, good[1], good[2]])
    with caplog.at_level(logging.WARNING, logger="hearth.logs"):
        assert await h.logs.flush() == 3
    assert h.logs.dropped - dropped == 1
    found = await entries(api, f'data.mark = "{mark}"')
    assert sorted(e["message"] for e in found["items"]) == ["first", "ok", "ok", "ok"]


async def test_entries_arriving_during_a_write_wait_for_the_next_batch(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """A flush writes what waited when it began. Entries that arrive while its write is in
    flight (a round trip on PostgreSQL) wait for the next round: writing them at once, as they
    trickle in under steady traffic, turned batches into a transaction per couple of entries."""
    h = api.app.state.hearth
    await flushed(api)
    store, real_write = h.logs.store, h.logs.store.write
    batches: list[int] = []
    mark = unique("trickle")

    async def slow_write(rows: Any) -> None:
        batches.append(len(rows))
        if len(batches) == 1:  # requests logged while the first batch is on its way
            for _ in range(3):
                h.logger.info("during", extra={"mark": mark})
        await asyncio.sleep(0.01)
        await real_write(rows)

    for _ in range(5):
        h.logger.info("before", extra={"mark": mark})
    monkeypatch.setattr(store, "write", slow_write)
    assert await h.logs.flush() == 5
    assert batches == [5]
    assert len(h.logs._buffer) == 3  # the next round's
    monkeypatch.setattr(store, "write", real_write)
    found = await entries(api, f'data.mark = "{mark}"')
    assert sorted(e["message"] for e in found["items"]) == ["before"] * 5 + ["during"] * 3


async def test_a_write_whose_answer_was_lost_is_not_written_twice_nor_counted_dropped(
    api: Api, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    """The database took a batch but its answer never came (the connection dropped after the
    commit): the batch is kept and tried again, and its rows are then refused as duplicates.
    They were written: counted as stored, once each, with no warning."""
    h = api.app.state.hearth
    await flushed(api)
    store, real_write = h.logs.store, h.logs.store.write
    mark = unique("lost")

    async def commit_then_lose_the_answer(rows: Any) -> None:
        await real_write(rows)
        raise DatabaseUnavailable("the connection dropped after the commit")

    for _ in range(3):
        h.logger.info("lost answer", extra={"mark": mark})
    dropped = h.logs.dropped
    monkeypatch.setattr(store, "write", commit_then_lose_the_answer)
    with pytest.raises(DatabaseUnavailable):
        await h.logs.flush()
    monkeypatch.setattr(store, "write", real_write)
    with caplog.at_level(logging.WARNING, logger="hearth.logs"):
        await flushed(api)
    assert h.logs.dropped == dropped
    assert not [r for r in caplog.records if "refused" in r.getMessage()]
    found = await entries(api, f'data.mark = "{mark}"')
    assert [e["message"] for e in found["items"]] == ["lost answer"] * 3


async def test_a_stop_waits_for_the_write_in_flight(api: Api, monkeypatch: pytest.MonkeyPatch, caplog: Any) -> None:
    """A stop while the flusher awaits a write's answer lets that write end: cancelled there, the
    batch would be kept and written again, then refused as duplicates and counted dropped."""
    from tests.conftest import start_api

    mark = unique("stopping")
    answered = asyncio.Event()
    with caplog.at_level(logging.WARNING, logger="hearth.logs"):
        async for other in start_api(api.app.state.hearth.config, api.dialect):
            api.token = other.token  # its start upserted the superuser again: older tokens are void
            logs = other.app.state.hearth.logs
            await logs.flush()

            async def slow_answer(rows: Any, real_write: Any = logs.store.write) -> None:
                await real_write(rows)
                answered.set()
                await asyncio.sleep(0.3)  # committed, the answer still on its way

            monkeypatch.setattr(logs.store, "write", slow_answer)
            for _ in range(4):
                logs.logger.info("in flight", extra={"mark": mark})
            dropped = logs.dropped
            logs._wake.set()  # the flusher's round, not an explicit flush
            await asyncio.wait_for(answered.wait(), 5)
        # The stop ran with the write in flight.
    assert logs.dropped == dropped
    assert not [r for r in caplog.records if "refused" in r.getMessage()]
    found = await entries(api, f'data.mark = "{mark}"')
    assert [e["message"] for e in found["items"]] == ["in flight"] * 4


async def test_a_stop_cut_short_during_a_hanging_write_ends_the_flusher(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shutdown deadline cuts a stop that waits for a write that never answers: the
    flusher ends with it rather than living on past the stop."""
    from tests.conftest import start_api

    hanging = asyncio.Event()
    async for other in start_api(api.app.state.hearth.config, api.dialect):
        api.token = other.token  # its start upserted the superuser again: older tokens are void
        logs = other.app.state.hearth.logs
        await logs.flush()
        flusher = logs._task

        async def never_answers(rows: Any) -> None:
            hanging.set()
            await asyncio.Event().wait()

        monkeypatch.setattr(logs.store, "write", never_answers)
        logs.logger.info("hangs")
        logs._wake.set()
        await asyncio.wait_for(hanging.wait(), 5)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(logs.stop(), 0.3)
        await asyncio.sleep(0)
        assert flusher is not None and flusher.done()
        monkeypatch.undo()
