"""The hook chain (hearth.hooks.chain): order, next() semantics, tags, sync handlers, errors."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field

import pytest

from hearth.errors import BadRequest
from hearth.hooks.chain import Event, Hook


@dataclass(eq=False)
class Probe(Event):
    name: str = "posts"
    seen: list[str] = field(default_factory=list)

    def tags(self) -> tuple[str, ...]:
        return (self.name,)


async def final(e: Probe) -> None:
    e.seen.append("final")


def recorder(label: str):  # type: ignore[no-untyped-def]
    async def handler(e: Probe) -> None:
        e.seen.append(f"{label}:before")
        await e.next()
        e.seen.append(f"{label}:after")

    return handler


async def test_handlers_wrap_the_default_action_in_priority_then_binding_order() -> None:
    hook: Hook[Probe] = Hook()
    hook.bind(recorder("b"), priority=5)
    hook.bind(recorder("a"))
    hook.bind(recorder("c"), priority=5)
    hook.bind(recorder("first"), priority=-1)
    e = Probe()
    await hook.trigger(e, final)
    assert e.seen == [
        "first:before",
        "a:before",
        "b:before",
        "c:before",
        "final",
        "c:after",
        "b:after",
        "a:after",
        "first:after",
    ]


async def test_no_handlers_runs_the_default_action() -> None:
    e = Probe()
    await Hook[Probe]().trigger(e, final)
    assert e.seen == ["final"]


async def test_a_handler_that_does_not_call_next_stops_the_chain_and_the_action() -> None:
    hook: Hook[Probe] = Hook()

    async def answer_early(e: Probe) -> None:
        e.seen.append("early")

    hook.bind(answer_early)
    hook.bind(recorder("later"), priority=1)
    e = Probe()
    await hook.trigger(e, final)
    assert e.seen == ["early"]


async def test_a_handler_changes_what_the_action_sees() -> None:
    hook: Hook[Probe] = Hook()

    async def rename(e: Probe) -> None:
        e.name = "renamed"
        await e.next()

    seen: list[str] = []

    async def action(e: Probe) -> None:
        seen.append(e.name)

    hook.bind(rename)
    await hook.trigger(Probe(), action)
    assert seen == ["renamed"]


async def test_an_error_aborts_the_action_and_reaches_the_caller() -> None:
    hook: Hook[Probe] = Hook()

    async def refuse(e: Probe) -> None:
        raise BadRequest("Not today.")

    hook.bind(refuse)
    e = Probe()
    with pytest.raises(BadRequest, match="Not today"):
        await hook.trigger(e, final)
    assert e.seen == []


async def test_next_twice_runs_the_rest_once() -> None:
    hook: Hook[Probe] = Hook()

    async def twice(e: Probe) -> None:
        await e.next()
        await e.next()

    hook.bind(twice)
    e = Probe()
    await hook.trigger(e, final)
    assert e.seen == ["final"]


async def test_tagged_handlers_run_only_for_their_collections() -> None:
    hook: Hook[Probe] = Hook()
    hook.bind(recorder("posts-only"), tags={"posts"})
    hook.bind(recorder("users-only"), tags={"users"})
    e = Probe(name="posts")
    await hook.trigger(e, final)
    assert e.seen == ["posts-only:before", "final", "posts-only:after"]


async def test_a_quiet_chain_only_when_every_handler_that_would_run_says_so() -> None:
    hook: Hook[Probe] = Hook()
    assert hook.quiet_chain(("posts",)) == ()  # no handler at all
    writes = {"now": False}
    hook.bind(recorder("observer"), observer=True, quiet=lambda tags: not writes["now"])
    chain = hook.quiet_chain(("posts",))
    assert chain is not None and len(chain) == 1
    writes["now"] = True
    assert hook.quiet_chain(("posts",)) is None
    writes["now"] = False
    hook.bind(recorder("users"), tags={"comments"})  # a handler that never says so...
    assert hook.quiet_chain(("posts",)) is not None  # ...tagged for another collection: not run
    assert hook.quiet_chain(("comments",)) is None
    # The write decided on `chain` runs those handlers only, not one bound since.
    hook.bind(recorder("late"))
    e = Probe(name="posts")
    await hook.trigger(e, final, chain)
    assert e.seen == ["observer:before", "final", "observer:after"]


async def test_bind_with_an_id_replaces_and_unbind_removes() -> None:
    hook: Hook[Probe] = Hook()
    hook.bind(recorder("one"), id="x")
    hook.bind(recorder("two"), id="x")
    e = Probe()
    await hook.trigger(e, final)
    assert e.seen == ["two:before", "final", "two:after"]
    hook.unbind("x")
    assert len(hook) == 0


async def test_a_sync_handler_runs_off_the_loop_and_its_next_runs_the_rest() -> None:
    hook: Hook[Probe] = Hook()
    loop_thread = threading.get_ident()
    threads: list[int] = []

    def sync_handler(e: Probe) -> None:
        threads.append(threading.get_ident())
        time.sleep(0.2)  # blocks its thread, not the loop
        e.seen.append("sync:before")
        e.next()
        e.seen.append("sync:after")

    hook.bind(sync_handler)
    hook.bind(recorder("async"), priority=1)
    e = Probe()
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    tick_task = asyncio.create_task(ticker())
    await hook.trigger(e, final)
    tick_task.cancel()
    assert threads and threads[0] != loop_thread
    assert ticks >= 5  # the loop kept running while the handler slept
    assert e.seen == ["sync:before", "async:before", "final", "async:after", "sync:after"]


async def test_an_error_after_next_in_a_sync_handler_reaches_the_caller() -> None:
    hook: Hook[Probe] = Hook()

    def late_refusal(e: Probe) -> None:
        e.next()
        raise BadRequest("Too late.")

    hook.bind(late_refusal)
    e = Probe()
    with pytest.raises(BadRequest, match="Too late"):
        await hook.trigger(e, final)
    assert e.seen == ["final"]


# ----- guarded handlers (users' hooks) -------------------------------------------------------------
async def test_a_guarded_handler_error_becomes_the_generic_400_and_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    hook: Hook[Probe] = Hook()

    async def buggy(e: Probe) -> None:
        raise KeyError("oops")

    hook.bind(buggy, guarded=True)
    with pytest.raises(BadRequest) as info:
        await hook.trigger(Probe(), final)
    assert info.value.message == "Something went wrong while processing your request."
    assert "buggy" in caplog.text and "KeyError" in caplog.text


async def test_a_guarded_handler_api_error_passes_unchanged() -> None:
    hook: Hook[Probe] = Hook()

    async def refuse(e: Probe) -> None:
        raise BadRequest("No.")

    hook.bind(refuse, guarded=True)
    with pytest.raises(BadRequest, match="No"):
        await hook.trigger(Probe(), final)


async def test_a_hanging_async_handler_is_cut_off_and_the_action_never_runs() -> None:
    from hearth.hooks.chain import HookTimeout

    hook: Hook[Probe] = Hook()

    async def hang(e: Probe) -> None:
        await asyncio.sleep(30)
        await e.next()

    hook.bind(hang, guarded=True, timeout=0.2)
    e = Probe()
    started = time.monotonic()
    with pytest.raises(HookTimeout):
        await hook.trigger(e, final)
    assert time.monotonic() - started < 2
    assert e.seen == []


async def test_a_hanging_sync_handler_is_cut_off_and_its_late_next_runs_nothing() -> None:
    from hearth.hooks.chain import HookTimeout

    hook: Hook[Probe] = Hook()
    late: list[BaseException] = []
    done = threading.Event()

    def hang(e: Probe) -> None:
        time.sleep(0.5)
        try:
            e.next()
        except BaseException as exc:  # noqa: BLE001
            late.append(exc)
        done.set()

    hook.bind(hang, guarded=True, timeout=0.1)
    e = Probe()
    with pytest.raises(HookTimeout):
        await hook.trigger(e, final)
    await asyncio.to_thread(done.wait, 5)
    assert e.seen == []
    assert late and isinstance(late[0], RuntimeError)


async def test_cutting_off_a_sync_handler_stops_the_rest_it_started() -> None:
    from hearth.hooks.chain import HookTimeout

    hook: Hook[Probe] = Hook()
    finished: list[str] = []

    def outer(e: Probe) -> None:
        e.next()

    async def slow_action(e: Probe) -> None:
        await asyncio.sleep(2)
        finished.append("action")

    hook.bind(outer, guarded=True, timeout=0.2)
    with pytest.raises(HookTimeout):
        await hook.trigger(Probe(), slow_action)
    await asyncio.sleep(0.1)
    assert finished == []
