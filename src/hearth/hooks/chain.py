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
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import threading
from collections.abc import Awaitable, Callable, Collection, Generator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

E = TypeVar("E", bound="Event")
Handler = Callable[[E], Awaitable[None] | None]
Final = Callable[[E], Awaitable[None]]
_ids = itertools.count(1)
# Priorities of Hearth's own handlers: OUTERMOST runs first and sees the outcome last (realtime
# publishes the record as every other handler left it); INNERMOST runs right before the default
# action (delivering a mail after every handler could change or stop it).
OUTERMOST = -(2**31)
INNERMOST = 2**31


class _Done:
    """What `next()` returns in a worker thread, where the chain has already run: awaiting it
    (out of habit) is harmless."""

    def __await__(self) -> Generator[Any, None, None]:
        return
        yield


_DONE = _Done()


class Event:
    """The base of every event. Subclasses are dataclasses holding what the handlers see."""

    _next: Callable[[], Awaitable[None]] | None = None
    _loop: asyncio.AbstractEventLoop | None = None
    _loop_thread: int = 0

    def tags(self) -> Collection[str]:
        """What tagged handlers are matched against (a record event: its collection's id and name)."""
        return ()

    def next(self) -> Awaitable[None]:
        """Run the rest of the chain (and then the default action). Await it in an `async def`
        handler; in a plain function it runs the rest of the chain before returning."""
        step = self._next
        if step is None:
            return _DONE
        self._next = None  # a second call does nothing: the rest of the chain runs once
        if threading.get_ident() != self._loop_thread and self._loop is not None:
            asyncio.run_coroutine_threadsafe(_awaited(step()), self._loop).result()
            return _DONE
        return step()


async def _awaited(step: Awaitable[None]) -> None:
    await step


@dataclass(frozen=True, slots=True)
class Binding(Generic[E]):
    id: str
    priority: int
    order: int
    handler: Handler[E]
    is_async: bool
    tags: frozenset[str]


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
    ) -> str:
        """Add `handler` (replacing one bound under the same `id`) and return its id."""
        hid = id or f"_h{next(_ids)}"
        binding = Binding(
            hid,
            priority,
            next(_ids),
            handler,
            _is_async(handler),
            frozenset(tags),
        )
        others = [b for b in self._bindings if b.id != hid]
        self._bindings = tuple(sorted([*others, binding], key=lambda b: (b.priority, b.order)))
        return hid

    def unbind(self, *ids: str) -> None:
        self._bindings = tuple(b for b in self._bindings if b.id not in ids)

    def unbind_all(self) -> None:
        self._bindings = ()

    def __len__(self) -> int:
        return len(self._bindings)

    async def trigger(self, event: E, final: Final[E] | None = None) -> None:
        """Run the handlers around `final` (the default action)."""
        bindings = self._bindings  # handlers bound meanwhile wait for the next trigger
        if not bindings:
            if final is not None:
                await final(event)
            return
        loop = asyncio.get_running_loop()
        event._loop, event._loop_thread = loop, threading.get_ident()
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

    def rest() -> Awaitable[None]:
        return _step(bindings, i + 1, event, final)

    if b.tags and b.tags.isdisjoint(event.tags()):
        await rest()
        return
    outer = event._next
    event._next = rest
    try:
        if b.is_async:
            await b.handler(event)  # type: ignore[misc]
        else:
            await asyncio.to_thread(b.handler, event)
    finally:
        event._next = outer
