"""StreamRegistry with real EventStreams: the cap, and closing everything at once."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import anyio.lowlevel
import orjson
import pytest

from streams import shutdown_trigger
from streams.framing import EVENT_END
from streams.registry import StreamRegistry
from streams.response import EventStream
from streams.settings import ErrorPayload, StreamSettings
from tests.streams.peer import Peer
from tests.support.sse import parse_frames

pytestmark = pytest.mark.anyio

WATCHDOG = 10.0  # seconds: a hang guard, 10x what a loaded machine needs


def render_error(exc: BaseException) -> ErrorPayload:
    return ErrorPayload(500, b'{"detail":"Internal Server Error"}')


class Log:
    def __init__(self) -> None:
        self.entries: list[str] = []

    def closer(self, name: str):  # type: ignore[no-untyped-def]
        async def on_close() -> None:
            self.entries.append(f"{name}:on_close")

        return on_close


def open_stream(
    registry: StreamRegistry, log: Log, name: str, source: AsyncIterator[object]
) -> EventStream:
    return EventStream(
        source,
        encode=orjson.dumps,
        render_error=render_error,
        settings=StreamSettings(ping_interval=5),
        registry=registry,
        on_close=log.closer(name),
    )


async def blocked(log: Log, name: str) -> AsyncIterator[object]:
    try:
        yield {"name": name}
        await anyio.sleep_forever()
    finally:
        log.entries.append(f"{name}:finally")


async def spinning(log: Log, name: str) -> AsyncIterator[object]:
    try:
        while True:
            yield {"name": name}
    finally:
        log.entries.append(f"{name}:finally")


async def test_registry_cap_answers_503_without_starting_generator() -> None:
    registry, log = StreamRegistry(max_streams=1), Log()
    first, second = Peer(), Peer()
    started: list[str] = []

    async def never_started() -> AsyncIterator[object]:
        started.append("second")
        yield {}

    source = never_started()
    with anyio.fail_after(WATCHDOG):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(
                open_stream(registry, log, "a", blocked(log, "a")), {}, first.receive, first.send
            )
            await first.wait_sent(1)
            assert registry.open_count == 1
            await open_stream(registry, log, "b", source)({}, second.receive, second.send)
            first.disconnect()
    assert second.status == 503
    assert second.headers[b"content-type"] == b"application/json"
    assert "max_streams=1" in orjson.loads(second.body)["detail"]
    assert started == []
    assert source.ag_frame is None  # type: ignore[attr-defined]  # closed, never started
    assert log.entries == ["b:on_close", "a:finally", "a:on_close"]
    assert registry.open_count == 0


async def test_registry_close_all_ends_every_stream_without_end_event() -> None:
    registry, log = StreamRegistry(), Log()
    peers = {"blocked": Peer(), "spinning": Peer(block_at=3), "parked": Peer(block_at=2)}
    sources = {
        "blocked": blocked(log, "blocked"),
        "spinning": spinning(log, "spinning"),
        "parked": spinning(log, "parked"),
    }
    with anyio.fail_after(WATCHDOG):
        async with anyio.create_task_group() as tasks:
            for name, peer in peers.items():
                stream = open_stream(registry, log, name, sources[name])
                tasks.start_soon(stream, {}, peer.receive, peer.send)
            for peer in peers.values():
                await peer.wait_sent(1)
            assert registry.open_count == 3
            await registry.close_all()
            assert registry.open_count == 0
    for name, peer in peers.items():
        assert f"{name}:finally" in log.entries
        assert log.entries.index(f"{name}:finally") < log.entries.index(f"{name}:on_close")
        assert all(frame.get("event") != EVENT_END for frame in parse_frames(peer.body))
    assert peers["blocked"].ended  # the body is terminated so the client reconnects
    assert log.entries.count("blocked:on_close") == 1


async def test_registry_close_all_before_first_item_answers_503() -> None:
    registry, log = StreamRegistry(), Log()
    peer = Peer()

    async def slow_start() -> AsyncIterator[object]:
        await anyio.sleep_forever()
        yield {}

    with anyio.fail_after(WATCHDOG):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(
                open_stream(registry, log, "s", slow_start()), {}, peer.receive, peer.send
            )
            while registry.open_count == 0:
                await anyio.lowlevel.checkpoint()
            await registry.close_all()
    assert peer.status == 503
    assert orjson.loads(peer.body) == {"detail": "server is shutting down"}


async def test_registry_close_all_with_nothing_open_returns_at_once() -> None:
    with anyio.fail_after(WATCHDOG):
        await StreamRegistry().close_all()


async def test_shutdown_trigger_closes_registries_before_returning() -> None:
    registry, log = StreamRegistry(), Log()
    peer, go = Peer(), anyio.Event()
    trigger = shutdown_trigger(registry, wait=go.wait)
    with anyio.fail_after(WATCHDOG):
        async with anyio.create_task_group() as tasks:
            stream = open_stream(registry, log, "s", blocked(log, "s"))
            tasks.start_soon(stream, {}, peer.receive, peer.send)
            await peer.wait_sent(1)
            go.set()
            await trigger()  # what hypercorn awaits before its graceful wait
            assert registry.open_count == 0
    assert log.entries == ["s:finally", "s:on_close"]
    assert peer.ended


async def test_registry_close_all_during_final_send_adds_no_message() -> None:
    registry, log = StreamRegistry(), Log()
    peer = Peer()

    async def send(message: dict[str, object]) -> None:
        await peer.send(message)
        if message["type"] == "http.response.body" and not message["more_body"]:
            registry.close_all_nowait()  # shutdown lands as the last write completes
            await anyio.lowlevel.checkpoint()

    async def two() -> AsyncIterator[object]:
        yield {"n": 0}
        yield {"n": 1}

    with anyio.fail_after(WATCHDOG):
        await open_stream(registry, log, "s", two())({}, peer.receive, send)
    assert [m["more_body"] for m in peer.bodies] == [False]
    assert parse_frames(peer.body)[-1]["event"] == EVENT_END


async def test_registry_concurrent_close_all_calls_all_return_once_drained() -> None:
    # e.g. a shutdown trigger and a lifespan shutdown, or a reload during shutdown
    registry, log = StreamRegistry(), Log()
    peer = Peer()
    returned: list[str] = []

    async def close(name: str) -> None:
        await registry.close_all()
        returned.append(name)

    with anyio.fail_after(WATCHDOG):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(
                open_stream(registry, log, "s", blocked(log, "s")), {}, peer.receive, peer.send
            )
            await peer.wait_sent(1)
            tasks.start_soon(close, "first")
            await anyio.lowlevel.checkpoint()
            tasks.start_soon(close, "second")
    assert sorted(returned) == ["first", "second"]
    assert registry.open_count == 0
