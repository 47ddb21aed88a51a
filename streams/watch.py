"""``PeerWatch``: notice a stream's disconnect at once, and run its timing checks.

A stream waits in ``receive()`` for the client's disconnect all the time, and
checks its timers (a ping is due; the send in flight has run out of time) when
they come due. Idle streams are counted in thousands per worker, so on asyncio
this costs no task of anyio's: one bare ``asyncio`` task awaits ``receive()``
(its done-callback reads the message) and one loop timer runs the checks, both
plain callbacks that wake or cancel the stream. An anyio child task with its
own cancel scope costs ~3 KB more per stream, which is over the idle budget.
On other backends (trio) a child task of the stream's task group does both
(``watch_in_task``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio

Receive = Callable[[], Awaitable[Any]]
# Given time.monotonic(), run the due checks; the monotonic time of the next
# check, or None once the stream has been stopped.
Check = Callable[[float], "float | None"]
Gone = Callable[[], None]  # the peer disconnected (or receive() failed): stop the stream


class PeerWatch:
    """asyncio: a bare task in ``receive()`` and a loop timer; ``stop()`` ends both."""

    __slots__ = ("_check", "_gone", "_loop", "_receive", "_task", "_timer")

    def __init__(
        self, loop: asyncio.AbstractEventLoop, receive: Receive, check: Check, gone: Gone
    ) -> None:
        self._loop = loop
        self._receive = receive
        self._check = check
        self._gone = gone
        self._task: asyncio.Future[Any] | None = None
        self._timer: asyncio.TimerHandle | None = None

    def start(self) -> None:
        """Begin listening and schedule the first check."""
        self._listen()
        self._tick()

    def stop(self) -> None:
        """Cancel the pending ``receive()`` and the timer (idempotent)."""
        task, timer = self._task, self._timer
        self._task = self._timer = None
        if task is not None:
            task.cancel()
        if timer is not None:
            timer.cancel()

    def _listen(self) -> None:
        task = asyncio.ensure_future(self._receive(), loop=self._loop)
        task.add_done_callback(self._heard)
        self._task = task

    def _heard(self, task: asyncio.Future[Any]) -> None:
        if task is not self._task or task.cancelled():
            return  # stopped
        error = task.exception()  # retrieved: some servers raise once the peer is gone
        if error is None and task.result().get("type") != "http.disconnect":
            self._listen()
            return
        self.stop()
        self._gone()

    def _tick(self) -> None:
        self._timer = None
        now = time.monotonic()
        check = self._check(now)
        if check is None:
            self.stop()
        elif self._task is not None:  # not stopped by the check
            # The send times are time.monotonic(), cheaper per send than the loop's clock.
            self._timer = self._loop.call_at(self._loop.time() + (check - now), self._tick)


async def watch_in_task(receive: Receive, check: Check, gone: Gone) -> None:
    """Any backend: what ``PeerWatch`` does, as one child task of the stream.

    It sleeps in ``receive()`` under a cancel scope whose deadline is the next
    check, so it is cancelled once per check, never per event.
    """
    while True:
        now = time.monotonic()
        due = check(now)
        if due is None:
            return
        # The check times are time.monotonic(); the backend's clock may be offset (trio's is).
        with anyio.CancelScope(deadline=anyio.current_time() + (due - now)):
            while True:
                try:
                    message = await receive()
                except Exception:  # some servers raise once the peer is gone
                    break
                if message.get("type") == "http.disconnect":
                    break
            gone()
            return
