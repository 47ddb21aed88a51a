"""Streaming actions of a real RPCApp under a real hypercorn (in-thread, 127.0.0.1)."""

from __future__ import annotations

import asyncio
import gc
import inspect

import orjson
import pytest

from streams.registry import StreamRegistry
from tests.e2e import stream_apps
from tests.e2e.sse_client import SSEConnection, open_stream
from tests.e2e.stream_apps import build_stream_app
from tests.support.polling import poll_until
from tests.support.server import running_server

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]


@pytest.fixture
def anyio_backend() -> str:
    # asyncio only: the test reaches into the in-thread hypercorn's asyncio loop
    # (run_coroutine_threadsafe, all_tasks) and reads with asyncio streams.
    return "asyncio"


STREAMS = 1000


def live_fixture_generators() -> int:
    """Async generator objects of the fixture's streaming actions that are still alive."""
    gc.collect()
    return sum(
        1
        for obj in gc.get_objects()
        if inspect.isasyncgen(obj)
        and obj.ag_code.co_filename == stream_apps.__file__
        and ".StreamController." in obj.ag_code.co_qualname
    )


async def wait_all_closed(registry: StreamRegistry) -> None:
    """Wait until every stream has released its slot.

    A client sees a stream's last bytes before the server has closed its
    generator and run its cleanup; disconnects of flowing streams are noticed
    within a 0.25 s poll.
    """
    await poll_until(lambda: registry.open_count == 0, within=10, what="every stream to close")


async def consume(port: int, action: str, query: str) -> SSEConnection:
    connection = await open_stream(port, action, query)
    try:
        await connection.read_to_end()
    finally:
        connection.close()
    return connection


@pytest.mark.slow
async def test_streams_server_1000_concurrent_streams_consumed() -> None:
    app, counters = build_stream_app()
    # ``gathered`` holds its second item back until all 1,000 streams are live at once.
    query = f"limit=20&expect={STREAMS}"
    with running_server(app) as server:
        connections = await asyncio.wait_for(
            asyncio.gather(*(consume(server.port, "gathered", query) for _ in range(STREAMS))),
            45,
        )
        await wait_all_closed(app.stream_registry)
    assert counters.peak_live == STREAMS
    for connection in connections:
        assert connection.status == 200
        assert connection.headers["content-type"].startswith("text/event-stream")
        assert [orjson.loads(f["data"]) for f in connection.data_frames] == [
            {"n": n} for n in range(20)
        ]
        assert connection.frames[-1] == {"event": "end", "data": "{}"}
        assert connection.complete
    assert counters.snapshot() == {
        "opened": STREAMS,
        "finalised": STREAMS,
        "cleaned": STREAMS,
        "early_cleanups": 0,
    }


async def connect_then_drop(port: int, action: str) -> None:
    connection = await open_stream(port, action)
    try:
        await connection.read_frames(1)
        assert connection.data_frames == [{"data": '{"n":0}'}]
    finally:
        connection.close()


@pytest.mark.slow
async def test_streams_server_1000_connect_disconnect_cycles_leak_nothing() -> None:
    app, counters = build_stream_app()
    with running_server(app) as server:
        await connect_then_drop(server.port, "blocked")  # warm up the server's paths
        await wait_all_closed(app.stream_registry)
        tasks_before = await server.task_count()
        generators_before = live_fixture_generators()
        for _ in range(10):  # 10 waves of 100 cycles; half blocked in an await, half flowing
            actions = ["blocked", "flowing"] * 50
            await asyncio.wait_for(
                asyncio.gather(*(connect_then_drop(server.port, a) for a in actions)), 20
            )
        await wait_all_closed(app.stream_registry)
        tasks_after = await server.settled_task_count(at_most=tasks_before)
        generators_after = live_fixture_generators()
    assert counters.snapshot() == {
        "opened": STREAMS + 1,
        "finalised": STREAMS + 1,
        "cleaned": STREAMS + 1,
        "early_cleanups": 0,
    }
    assert counters.live == 0
    assert generators_before == generators_after == 0
    assert tasks_after <= tasks_before


async def test_streams_server_resume_after_drop_has_no_gap_or_duplicate() -> None:
    app, counters = build_stream_app()
    limit = 300
    with running_server(app) as server:
        first = await asyncio.wait_for(open_stream(server.port, "resumable", f"limit={limit}"), 10)
        try:
            await asyncio.wait_for(first.read_frames(40), 10)
            generators_open = live_fixture_generators()  # the count sees a live stream
        finally:
            first.close()  # dropped mid-stream
        seen = [frame["id"] for frame in first.frames if "id" in frame]
        second = await asyncio.wait_for(
            open_stream(server.port, "resumable", f"limit={limit}", last_event_id=seen[-1]), 10
        )
        try:
            await asyncio.wait_for(second.read_to_end(), 10)
        finally:
            second.close()
        await wait_all_closed(app.stream_registry)
    resumed = [frame["id"] for frame in second.frames if "id" in frame]
    assert generators_open == 1
    assert 40 <= len(seen) < limit
    assert seen + resumed == [str(n) for n in range(limit)]
    for connection in (first, second):
        for frame in connection.frames:
            if "id" in frame:
                assert orjson.loads(frame["data"]) == {"n": int(frame["id"])}
    assert all(frame.get("event") != "end" for frame in first.frames)
    assert second.frames[-1] == {"event": "end", "data": "{}"}
    assert counters.snapshot() == {"opened": 2, "finalised": 2, "cleaned": 2, "early_cleanups": 0}
