"""``Wakeup``: park one task until another wakes it, leaving as little behind as possible."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

import anyio


class Wakeup:
    """One waiting task, woken by plain code (a callback, another task), never by cancelling it.

    One event fanned out to thousands of streams wakes thousands of parked tasks
    at once, and whatever each wait allocates stays alive until its next event:
    with enough of them Python's garbage collector, which scans what survives,
    becomes the larger part of the cost. So a wait is as small as the backend
    allows: on asyncio one bare future (an ``anyio.Event`` adds an
    ``asyncio.Event``, a deque and two coroutines; a cancelled wait adds an
    exception and its traceback); on other backends an ``anyio.Event``.
    """

    __slots__ = ("_loop", "_waiter")

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | bool | None = False  # False: not looked up yet
        self._waiter: asyncio.Future[None] | anyio.Event | None = None

    def wait(self) -> Awaitable[object]:
        """An awaitable that completes at the next ``wake()`` (one waiter at a time).

        A plain method returning the awaitable, so parking creates no coroutine.
        """
        loop = self._loop
        if loop is False:
            loop = self._loop = running_asyncio_loop()
        if isinstance(loop, asyncio.AbstractEventLoop):
            future: asyncio.Future[None] = loop.create_future()
            self._waiter = future
            return future
        event = anyio.Event()
        self._waiter = event
        return event.wait()

    def wake(self) -> None:
        """Complete the pending ``wait()``, if any (no-op otherwise)."""
        waiter = self._waiter
        if waiter is None:
            return
        self._waiter = None
        if isinstance(waiter, asyncio.Future):
            if not waiter.done():  # cancelled along with its task
                waiter.set_result(None)
        else:
            waiter.set()


def running_asyncio_loop() -> asyncio.AbstractEventLoop | None:
    """The running asyncio loop, or None under another backend (trio)."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
