"""The stream's watch: ``receive()`` read until the disconnect, and left behind by no stream."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import anyio
import anyio.lowlevel
import orjson
import pytest

from streams.response import EventStream, StreamState
from streams.settings import ErrorPayload, StreamSettings
from tests.streams.peer import Peer
from tests.support.polling import poll_until

pytestmark = pytest.mark.anyio

WATCHDOG = 10.0  # seconds: a hang guard, 10x what a loaded machine needs
QUIET = StreamSettings(ping_interval=60.0, open_timeout=60.0, send_timeout=60.0)


def render_error(exc: BaseException) -> ErrorPayload:
    return ErrorPayload(500, orjson.dumps({"detail": type(exc).__name__}))


class Closed:
    """Records that the generator's ``finally`` and ``on_close`` ran."""

    def __init__(self) -> None:
        self.entries: list[str] = []

    async def on_close(self) -> None:
        self.entries.append("on_close")

    async def one_then_wait(self) -> AsyncIterator[object]:
        try:
            yield {"n": 0}
            await anyio.sleep_forever()
        finally:
            self.entries.append("finally")

    def stream(self, source: AsyncIterator[object]) -> EventStream:
        return EventStream(
            source, encode=orjson.dumps, render_error=render_error, settings=QUIET,
            on_close=self.on_close,
        )  # fmt: skip


async def test_watch_reads_past_other_messages_until_the_disconnect() -> None:
    closed, peer = Closed(), Peer()
    strays: list[dict[str, Any]] = [{"type": "http.request", "body": b"", "more_body": False}] * 3

    async def receive() -> dict[str, Any]:
        if strays:
            await anyio.lowlevel.checkpoint()
            return strays.pop()
        return await peer.receive()

    stream = closed.stream(closed.one_then_wait())
    with anyio.fail_after(WATCHDOG):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(stream, {"type": "http"}, receive, peer.send)
            await peer.wait_sent(1)
            await anyio.wait_all_tasks_blocked()
            assert not strays  # all read, and the stream still serves
            assert stream.state is StreamState.STREAMING
            peer.disconnect()
    assert stream.state is StreamState.PEER_GONE
    assert closed.entries == ["finally", "on_close"]


async def test_watch_a_failing_receive_stops_the_stream_quietly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    closed, peer = Closed(), Peer()
    fail = anyio.Event()

    async def receive() -> dict[str, Any]:
        await fail.wait()
        raise ConnectionResetError("the server raises once the peer is gone")

    stream = closed.stream(closed.one_then_wait())
    with anyio.fail_after(WATCHDOG):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(stream, {"type": "http"}, receive, peer.send)
            await peer.wait_sent(1)
            fail.set()
    assert stream.state is StreamState.PEER_GONE
    assert closed.entries == ["finally", "on_close"]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]


async def test_watch_leaves_no_receive_pending_after_the_stream_ends() -> None:
    peer = Peer()
    pending = 0
    cancelled = 0

    async def receive() -> dict[str, Any]:
        nonlocal pending, cancelled
        pending += 1
        try:
            return await peer.receive()
        except anyio.get_cancelled_exc_class():
            cancelled += 1
            raise
        finally:
            pending -= 1

    async def three() -> AsyncIterator[object]:
        for n in range(3):
            yield {"n": n}

    stream = EventStream(three(), encode=orjson.dumps, render_error=render_error, settings=QUIET)
    with anyio.fail_after(WATCHDOG):
        await stream({"type": "http"}, receive, peer.send)
    # The stream ended by itself: its receive() is cancelled, not left waiting.
    await poll_until(lambda: not pending, within=WATCHDOG, what="the receive() to be cancelled")
    assert stream.state is StreamState.CLOSED
    assert peer.ended
    assert cancelled == 1
