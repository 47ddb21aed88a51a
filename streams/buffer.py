"""The bounded hand-over between the pump task and the writer."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass

import anyio
import anyio.lowlevel

from streams.wakeup import Wakeup

PUMP_SLICE = 0.002  # seconds the pump may run without yielding to the loop


@dataclass(frozen=True, slots=True)
class Finished:
    """The generator is done: ``error`` is None for a clean end."""

    error: Exception | None


class ItemBuffer:
    """Items pulled from the generator and not yet accepted by ``send``.

    The pump may pull a new item only while fewer than ``limit`` items are
    outstanding; the writer takes everything ready at once (one coalesced write)
    and reports when ``send`` has accepted it. That makes ``limit`` an exact
    bound on how far the generator runs ahead of the socket.

    The writer parks on ``news()`` (a ``Wakeup``), which ``put()``, ``finish()``
    and ``wake()`` complete: waking it never cancels anything. ``take()`` swaps
    two lists instead of making a new one, for the same reason ``Wakeup`` is
    small: what a wake-up leaves alive is what the garbage collector scans.
    """

    __slots__ = (
        "_items",
        "_limit",
        "_outstanding",
        "_room",
        "_spare",
        "_writer",
        "finished",
    )

    def __init__(self, limit: int) -> None:
        self._items: list[object] = []
        self._spare: list[object] = []
        self._limit = limit
        self._outstanding = 0
        self._room: anyio.Event | None = None
        self._writer = Wakeup()
        self.finished: Finished | None = None

    def full(self) -> bool:
        """Pump side: True if no item may be pulled before ``wait_room()`` returns."""
        return self._outstanding >= self._limit

    async def wait_room(self) -> None:
        """Pump side: return once another item may be pulled."""
        while self._outstanding >= self._limit:
            self._room = anyio.Event()
            await self._room.wait()

    def put(self, item: object) -> bool:
        """Pump side: hand over one item.

        Returns True if the writer had taken every earlier item: it ran since
        the previous ``put()``, so the pump has yielded to the loop since then.
        """
        items = self._items
        taken = not items
        items.append(item)
        self._outstanding += 1
        self.wake()
        return taken

    def finish(self, error: Exception | None) -> None:
        """Pump side: the generator ended (cleanly, or with ``error``)."""
        self.finished = Finished(error)
        self.wake()

    def has_news(self) -> bool:
        """Writer side: True if items or the end are waiting."""
        return bool(self._items) or self.finished is not None

    def news(self) -> Awaitable[object]:
        """Writer side, once ``has_news()`` is False: await this until news or ``wake()``."""
        return self._writer.wait()

    def wake(self) -> None:
        """Return the writer from its ``news()`` wait (no-op unless it waits)."""
        self._writer.wake()

    def take(self) -> list[object]:
        """Writer side: remove and return every waiting item.

        The list is reused by the ``take()`` after next: use it before then.
        """
        items, spare = self._items, self._spare
        spare.clear()
        self._items, self._spare = spare, items
        return items

    def accepted(self, count: int) -> None:
        """Writer side: ``count`` taken items are now with the server."""
        self._outstanding -= count
        if self._room is not None:
            self._room.set()
            self._room = None


async def pump(source: AsyncIterator[object], buffer: ItemBuffer) -> None:
    """Pull ``source`` into ``buffer`` until it ends; run as the stream's one pump task.

    Only this task advances the generator, and nothing cancels a pending
    ``__anext__`` except the end of the whole stream: a cancellation delivered
    into a pending ``anext()`` kills the generator for good. It yields to the
    loop whenever the buffer is full and whenever it has run ``PUMP_SLICE``
    seconds without yielding, so a generator that never awaits can neither
    starve other tasks nor escape cancellation. It does not yield after every
    item: handing each item to the writer alone defeats coalescing (measured:
    11k instead of 200k+ events/s). Nor after an item that found the buffer
    empty: the writer took the previous one, so the generator has waited in
    between (the usual case for a quiet stream, where an extra yield per event
    is a third more loop work when one event wakes thousands of streams).
    """
    clock = time.monotonic
    deadline = clock() + PUMP_SLICE
    try:
        while True:
            if buffer.full():
                await buffer.wait_room()
            item = await source.__anext__()
            if buffer.put(item):
                deadline = clock() + PUMP_SLICE
            elif clock() >= deadline:
                await anyio.lowlevel.checkpoint()
                deadline = clock() + PUMP_SLICE
    except StopAsyncIteration:
        buffer.finish(None)
    except Exception as exc:
        buffer.finish(exc)
