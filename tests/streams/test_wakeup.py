"""Waking an idle stream: a plain wake-up (``Wakeup``), never a cancelled ``receive()``."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import orjson
import pytest

from streams.response import EventStream, StreamState
from streams.settings import ErrorPayload, StreamSettings
from streams.wakeup import Wakeup
from tests.streams.peer import Peer
from tests.support.sse import parse_frames

pytestmark = pytest.mark.anyio

WATCHDOG = 10.0  # seconds: a hang guard, 10x what a loaded machine needs


def render_error(exc: BaseException) -> ErrorPayload:
    return ErrorPayload(500, b'{"detail":"Internal Server Error"}')


async def test_wakeup_resumes_the_parked_task_only_when_woken() -> None:
    wakeup = Wakeup()
    woken: list[int] = []

    async def parked() -> None:
        await wakeup.wait()
        woken.append(1)

    with anyio.fail_after(WATCHDOG):
        wakeup.wake()  # nobody waits: nothing is remembered for a later wait
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(parked)
            await anyio.wait_all_tasks_blocked()
            assert woken == []
            wakeup.wake()
    assert woken == [1]


async def test_wakeup_after_its_waiter_was_cancelled_is_harmless() -> None:
    wakeup = Wakeup()
    with anyio.fail_after(WATCHDOG):
        with anyio.move_on_after(0.01) as scope:
            await wakeup.wait()
        assert scope.cancelled_caught
        wakeup.wake()  # the cancelled wait's future/event must not raise

        async def parked() -> None:
            await wakeup.wait()

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(parked)
            await anyio.wait_all_tasks_blocked()
            wakeup.wake()


async def test_news_wakes_an_idle_stream_without_calling_receive_again() -> None:
    # Every item arrives while the writer is parked (the generator waits on a
    # gate between items). Were the writer woken by cancelling its receive(),
    # receive() would be called again after every item; the watcher calls it
    # once for the whole stream (no timing check is due: every interval is 60 s).
    gate = anyio.Event()
    count = 20

    async def gated() -> AsyncIterator[object]:
        nonlocal gate
        for n in range(count):
            await gate.wait()
            gate = anyio.Event()
            yield {"n": n}

    peer = Peer()
    settings = StreamSettings(ping_interval=60.0, open_timeout=60.0, send_timeout=60.0)
    stream = EventStream(gated(), encode=orjson.dumps, render_error=render_error, settings=settings)
    with anyio.fail_after(WATCHDOG):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(stream, {"type": "http"}, peer.receive, peer.send)
            for n in range(count):
                gate.set()
                await peer.wait_sent(n + 1)
                await anyio.wait_all_tasks_blocked()  # the writer is parked again
            # The generator ends after its last item: the stream closes itself.
    assert stream.state is StreamState.CLOSED
    frames = parse_frames(peer.body)
    assert [frame["data"] for frame in frames[:count]] == [f'{{"n":{n}}}' for n in range(count)]
    assert frames[count]["event"] == "end"
    assert peer.ended
    assert peer.receives == 1
