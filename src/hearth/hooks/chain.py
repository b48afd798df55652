"""A hook: a chain of handlers around one kind of event, as PocketBase's `tools/hook`.

Handlers run in priority order (lower first; equal priorities in the order they were bound).
Each gets the event and continues the chain with `await e.next()`; the last `next()` runs the
default action given to `trigger` (the write itself, sending the mail...). A handler can change
the event's data before `next()`, look at the outcome after it, answer early by not calling it,
or raise: an `ApiError` becomes the API's error envelope.

Handlers may be `async def` or plain functions. A plain function runs in a worker thread so it
cannot stall the event loop; there `e.next()` blocks the thread until the rest of the chain has
run on the loop, so the same handler shape works for both.

A handler may be tagged with collection names or ids: it then runs only for events whose
`tags()` name one of them, and the chain simply continues past it for the others.

Handlers bound as `guarded` (users' hooks) are held to a time limit and cannot fail the server:
an error other than an `ApiError` is logged and answered as PocketBase answers it (400, "Something
went wrong..."), and one that runs past its `timeout` is cut off (504). A cut-off plain function
keeps its thread until it returns, but its late `e.next()` no longer runs anything.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import logging
import threading
from collections.abc import Awaitable, Callable, Collection, Generator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from hearth.errors import ApiError, BadRequest

E = TypeVar("E", bound="Event")
T = TypeVar("T")
Handler = Callable[[E], Awaitable[None] | None]
Final = Callable[[E], Awaitable[None]]
# Given an event's tags: whether a handler will run no statement in the event's transaction.
Quiet = Callable[[Collection[str]], bool]
_ids = itertools.count(1)
# Priorities of Hearth's own handlers: OUTERMOST runs first and sees the outcome last (realtime
# publishes the record as every other handler left it); INNERMOST runs right before the default
# action (delivering a mail after every handler could change or stop it).
OUTERMOST = -(2**31)
INNERMOST = 2**31
log = logging.getLogger("hearth.hooks")
_thread = threading.local()  # the chain link of the plain-function handler running in this thread


class HookTimeout(ApiError):
    status = 504
    default_message = "A hook did not finish in time."


class _Done:
    """What `next()` returns in a worker thread, where the chain has already run: awaiting it
    (out of habit) is harmless."""

    def __await__(self) -> Generator[Any, None, None]:
        return
        yield


_DONE = _Done()


class _Link:
    """The rest of the chain after one handler: run at most once, never after the handler's
    turn is over (it returned, failed or was cut off)."""

    __slots__ = ("bindings", "index", "event", "final", "used", "over", "task")

    def __init__(self, bindings: tuple[Binding[Any], ...], index: int, event: Any, final: Any) -> None:
        self.bindings = bindings
        self.index = index  # of the next handler
        self.event = event
        self.final = final
        self.used = False
        self.over = False
        self.task: asyncio.Task[Any] | None = None  # the rest, when a worker thread started it

    def __call__(self) -> Awaitable[None]:
        return _step(self.bindings, self.index, self.event, self.final)

    def take(self) -> Callable[[], Awaitable[None]] | None:
        if self.over:
            raise RuntimeError("next() was called after the handler's turn ended (it was cut off)")
        if self.used:
            return None  # a second call does nothing: the rest of the chain runs once
        self.used = True
        return self


class Event:
    """The base of every event. Subclasses are dataclasses holding what the handlers see."""

    _link: _Link | None = None
    _loop: asyncio.AbstractEventLoop | None = None

    def tags(self) -> Collection[str]:
        """What tagged handlers are matched against (a record event: its collection's id and name)."""
        return ()

    def next(self) -> Awaitable[None]:
        """Run the rest of the chain (and then the default action). Await it in an `async def`
        handler; in a plain function it runs the rest of the chain before returning."""
        link: _Link | None = getattr(_thread, "link", None)
        if link is not None:  # a plain function in its worker thread
            step = link.take()
            if step is not None and self._loop is not None:
                asyncio.run_coroutine_threadsafe(_from_thread(step, link), self._loop).result()
            return _DONE
        link = self._link
        step = link.take() if link is not None else None
        return _DONE if step is None else step()


async def _from_thread(step: Callable[[], Awaitable[None]], link: _Link) -> None:
    link.task = asyncio.current_task()
    await step()


@dataclass(frozen=True, slots=True)
class Binding(Generic[E]):
    id: str
    priority: int
    order: int
    handler: Handler[E]
    is_async: bool
    tags: frozenset[str]
    guarded: bool = False
    timeout: float | None = None
    observer: bool = False
    quiet: Quiet | None = None


class Hook(Generic[E]):
    """The handlers of one event, triggered with `await hook.trigger(event, default_action)`."""

    def __init__(self, doc: str = "") -> None:
        self.doc = doc
        self._bindings: tuple[Binding[E], ...] = ()

    def bind(
        self,
        handler: Handler[E],
        *,
        id: str = "",
        priority: int = 0,
        tags: Collection[str] = (),
        guarded: bool = False,
        timeout: float | None = None,
        observer: bool = False,
        quiet: Quiet | None = None,
    ) -> str:
        """Add `handler` (replacing one bound under the same `id`) and return its id.
        `guarded`: a user's handler (errors become 400s, `timeout` seconds at most).
        `observer`: the handler never changes the event before `next()` (Hearth's own
        reactions), so what was checked before the chain need not be checked again.
        `quiet(tags)`: for an event with these tags the handler, as things stand, runs no
        statement in the event's transaction (see `quiet_chain`)."""
        hid = id or f"_h{next(_ids)}"
        binding = Binding(
            hid,
            priority,
            next(_ids),
            handler,
            _is_async(handler),
            frozenset(tags),
            guarded,
            timeout,
            observer,
            quiet,
        )
        others = [b for b in self._bindings if b.id != hid]
        self._bindings = tuple(sorted([*others, binding], key=lambda b: (b.priority, b.order)))
        return hid

    def unbind(self, *ids: str) -> None:
        self._bindings = tuple(b for b in self._bindings if b.id not in ids)

    def unbind_all(self) -> None:
        self._bindings = ()

    def may_change(self) -> bool:
        """Whether a bound handler may change the event before the default action runs."""
        return any(not b.observer for b in self._bindings)

    def quiet_chain(self, tags: Collection[str]) -> tuple[Binding[E], ...] | None:
        """The handlers bound now, if every one that would run for an event with `tags` said it
        runs no statement in the event's transaction; else None. Users' handlers never say so: a
        write whose chain holds one always gets a real transaction (hearth.records.service).
        Pass the result to `trigger`: exactly those handlers run, whatever is bound meanwhile."""
        bindings = self._bindings
        for b in bindings:
            if b.tags and b.tags.isdisjoint(tags):
                continue  # not run for this event
            if b.quiet is None or not b.quiet(tags):
                return None
        return bindings

    def ids(self) -> list[str]:
        return [b.id for b in self._bindings]

    def __len__(self) -> int:
        return len(self._bindings)

    async def trigger(
        self, event: E, final: Final[E] | None = None, chain: tuple[Binding[E], ...] | None = None
    ) -> None:
        """Run the handlers around `final` (the default action): those bound now, or `chain`
        (from `quiet_chain`)."""
        # Handlers bound meanwhile wait for the next trigger.
        bindings = self._bindings if chain is None else chain
        if not bindings:
            if final is not None:
                await final(event)
            return
        event._loop = asyncio.get_running_loop()
        await _step(bindings, 0, event, final)


def _is_async(handler: Callable[..., Any]) -> bool:
    """`async def` functions, and objects whose `__call__` is one."""
    call = getattr(type(handler), "__call__", None)  # noqa: B004 - the method, not callable()
    return inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(call)


async def _step(bindings: tuple[Binding[E], ...], i: int, event: E, final: Final[E] | None) -> None:
    if i == len(bindings):
        if final is not None:
            await final(event)
        return
    b = bindings[i]
    if b.tags and b.tags.isdisjoint(event.tags()):
        await _step(bindings, i + 1, event, final)
        return
    outer = event._link
    link = event._link = _Link(bindings, i + 1, event, final)
    try:
        if b.guarded:
            await _guarded(b, event, link)
        elif b.is_async:
            await b.handler(event)  # type: ignore[misc]
        else:
            await _call(b, event, link)
    finally:
        link.over = True
        event._link = outer


async def _call(b: Binding[E], event: E, link: _Link) -> None:
    if b.is_async:
        await b.handler(event)  # type: ignore[misc]
    else:
        await asyncio.to_thread(_in_thread, b.handler, event, link)


def _in_thread(handler: Handler[E], event: E, link: _Link) -> None:
    _thread.link = link
    try:
        handler(event)
    finally:
        _thread.link = None


async def _guarded(b: Binding[E], event: E, link: _Link) -> None:
    async def cut() -> None:
        link.over = True
        await _cancel_rest(link)

    await guard(_call(b, event, link), _name(b.handler), b.timeout, cut)


async def call_guarded(fn: Callable[[Any], Any], arg: Any, timeout: float | None) -> Any:
    """`fn(arg)` held as a guarded handler is (a user's route): a plain function runs in a
    worker thread; errors other than `ApiError`s become the generic 400; `timeout` cuts it off."""
    call = fn(arg) if _is_async(fn) else asyncio.to_thread(fn, arg)
    return await guard(call, _name(fn), timeout)


class _Watchdog:
    """The time limits of the guarded calls in flight on one event loop: one timer for all of
    them, looking every WATCH_SECONDS (an `asyncio.timeout` per call cost more than the rest
    of a hook's overhead together). An expired call's task is cancelled; `guard` turns that
    cancellation into HookTimeout."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.calls: dict[int, tuple[float, asyncio.Task[Any]]] = {}
        self.expired: set[int] = set()
        self.task: asyncio.Task[None] | None = None

    def watch(self, key: int, timeout: float, task: asyncio.Task[Any]) -> None:
        self.calls[key] = (self.loop.time() + timeout, task)
        if self.task is None or self.task.done():
            self.task = self.loop.create_task(self._run(), name="hearth-hook-watchdog")

    def forget(self, key: int) -> bool:
        """Stop watching; True if the call ran out of time."""
        self.calls.pop(key, None)
        if key in self.expired:
            self.expired.discard(key)
            return True
        return False

    async def _run(self) -> None:
        while self.calls:
            await asyncio.sleep(WATCH_SECONDS)
            now = self.loop.time()
            for key, (deadline, task) in list(self.calls.items()):
                if deadline <= now and key not in self.expired:
                    self.expired.add(key)
                    task.cancel()


WATCH_SECONDS = 0.05
_watchdogs: dict[asyncio.AbstractEventLoop, _Watchdog] = {}
_calls = itertools.count(1)


def _watchdog() -> _Watchdog:
    loop = asyncio.get_running_loop()
    dog = _watchdogs.get(loop)
    if dog is None:
        for old in [k for k in _watchdogs if k.is_closed()]:
            del _watchdogs[old]
        dog = _watchdogs[loop] = _Watchdog(loop)
    return dog


async def guard(
    call: Awaitable[T],
    name: str,
    timeout: float | None,
    on_cut: Callable[[], Awaitable[None]] | None = None,
) -> T:
    dog = key = None
    task = asyncio.current_task()
    if timeout is not None and task is not None:
        dog, key = _watchdog(), next(_calls)
        dog.watch(key, timeout, task)
    try:
        return await call
    except ApiError:
        raise
    except asyncio.CancelledError:
        if dog is None or key is None or not dog.forget(key):
            raise  # cancelled for another reason (the request ended, the server stops)
        assert task is not None
        task.uncancel()
        if on_cut is not None:
            await on_cut()
        log.error("hook handler %s cut off after %g s", name, timeout)
        raise HookTimeout() from None
    except Exception:
        log.exception("hook handler %s failed", name)
        raise BadRequest() from None
    finally:
        if dog is not None and key is not None:
            dog.forget(key)


async def _cancel_rest(link: _Link) -> None:
    """A cut-off plain function may have started the rest of the chain on the loop: stop it
    and wait until it has unwound (its transaction rolled back)."""
    task = link.task
    if task is not None and not task.done():
        task.cancel()
        await asyncio.wait({task})


def _name(handler: Callable[..., Any]) -> str:
    return getattr(handler, "__qualname__", None) or repr(handler)
