"""EventStream at the ASGI level: scripted receive, recorded send, watchdogs."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import anyio
import anyio.lowlevel
import orjson
import pytest

from streams import tracked
from streams.framing import END_FRAME, frame_data
from streams.registry import StreamRegistry
from streams.response import EventStream, StreamState
from streams.settings import ErrorPayload, StreamSettings
from tests.streams.peer import Peer
from tests.support.polling import poll_until
from tests.support.sse import parse_frames

pytestmark = pytest.mark.anyio

WATCHDOG = 10.0  # seconds: a hang guard, 10x what a loaded machine needs


class RoomFullError(Exception):
    pass


def render_error(exc: BaseException) -> ErrorPayload:
    status = 409 if isinstance(exc, RoomFullError) else 500
    return ErrorPayload(status, orjson.dumps({"detail": str(exc) or type(exc).__name__}))


class Journal:
    """Records what happened, in order, across generator, stream and cleanup."""

    def __init__(self) -> None:
        self.entries: list[str] = []
        self.pulled = 0

    async def on_close(self) -> None:
        self.entries.append("on_close")

    def stream(self, source: AsyncIterator[object], **settings: float | None) -> EventStream:
        return EventStream(
            source,
            encode=orjson.dumps,
            render_error=render_error,
            settings=StreamSettings(**settings),  # type: ignore[arg-type]
            on_close=self.on_close,
        )


async def numbers(journal: Journal, count: int) -> AsyncIterator[object]:
    try:
        for n in range(count):
            journal.pulled += 1
            yield {"n": n}
    finally:
        journal.entries.append("finally")


async def serve(stream: EventStream, peer: Peer) -> None:
    with anyio.fail_after(WATCHDOG):
        await stream({"type": "http"}, peer.receive, peer.send)


async def test_stream_clean_end_sends_items_then_end_event() -> None:
    journal, peer = Journal(), Peer()
    stream = journal.stream(numbers(journal, 3))
    before = stream.state  # read before serving: mypy would narrow the later check away
    await serve(stream, peer)
    assert before is StreamState.NEW
    assert stream.state is StreamState.CLOSED
    assert peer.status == 200
    assert peer.headers[b"content-type"] == b"text/event-stream; charset=utf-8"
    assert peer.headers[b"cache-control"] == b"no-store"
    assert peer.headers[b"x-accel-buffering"] == b"no"
    expected = b"".join(frame_data(orjson.dumps({"n": n})) for n in range(3)) + END_FRAME
    assert peer.body == expected
    assert peer.ended
    assert journal.entries == ["finally", "on_close"]


async def test_stream_coalesces_ready_items_into_one_send() -> None:
    journal, peer = Journal(), Peer()
    await serve(journal.stream(numbers(journal, 10), max_pending=32), peer)
    assert len(peer.bodies) == 1  # ten ready items and the end: one write
    assert len(parse_frames(peer.body)) == 11


async def test_stream_error_mid_stream_sends_error_event_and_closes() -> None:
    journal, peer = Journal(), Peer()

    async def failing() -> AsyncIterator[object]:
        try:
            yield {"n": 0}
            await anyio.lowlevel.checkpoint()
            yield {"n": 1}
            raise RoomFullError("room is full")
        finally:
            journal.entries.append("finally")

    stream = journal.stream(failing())
    await serve(stream, peer)
    assert stream.state is StreamState.CLOSED
    frames = parse_frames(peer.body)
    assert peer.status == 200
    assert [f.get("data") for f in frames[:2]] == ['{"n":0}', '{"n":1}']
    assert frames[2] == {
        "event": "error",
        "data": '{"status":409,"type":null,"body":{"detail":"room is full"}}',
    }
    assert len(frames) == 3
    assert peer.ended
    assert journal.entries == ["finally", "on_close"]


async def test_stream_error_before_first_item_is_http_error() -> None:
    journal, peer = Journal(), Peer()

    async def refusing() -> AsyncIterator[object]:
        try:
            raise RoomFullError("room is full")
            yield  # pragma: no cover - makes this an async generator
        finally:
            journal.entries.append("finally")

    stream = journal.stream(refusing())
    await serve(stream, peer)
    assert stream.state is StreamState.CLOSED  # answered as plain HTTP, never streaming
    assert peer.status == 409
    assert peer.headers[b"content-type"] == b"application/json"
    assert orjson.loads(peer.body) == {"detail": "room is full"}
    assert peer.ended
    assert journal.entries == ["finally", "on_close"]


async def test_stream_encode_failure_mid_stream_is_error_event() -> None:
    journal, peer = Journal(), Peer()

    async def mixed() -> AsyncIterator[object]:
        try:
            yield {"n": 0}
            await anyio.sleep(0.01)
            yield {"n": object()}  # orjson cannot encode this
            yield {"n": 2}
            await anyio.sleep_forever()
        finally:
            journal.entries.append("finally")

    await serve(journal.stream(mixed()), peer)
    frames = parse_frames(peer.body)
    assert frames[0]["data"] == '{"n":0}'
    assert frames[1]["event"] == "error"
    assert "not JSON serializable" in orjson.loads(frames[1]["data"])["body"]["detail"]
    assert len(frames) == 2
    assert journal.entries == ["finally", "on_close"]


async def test_stream_encode_failure_on_first_item_is_http_500() -> None:
    journal, peer = Journal(), Peer()

    async def bad_first() -> AsyncIterator[object]:
        try:
            yield {1, 2}
        finally:
            journal.entries.append("finally")

    await serve(journal.stream(bad_first()), peer)
    assert peer.status == 500
    assert "detail" in orjson.loads(peer.body)
    assert journal.entries == ["finally", "on_close"]


async def test_stream_tracked_items_carry_ids() -> None:
    journal, peer = Journal(), Peer()

    async def resumable() -> AsyncIterator[object]:
        yield tracked(7, {"n": 7})
        yield {"n": 8}
        yield tracked("k", {"n": 9})

    await serve(journal.stream(resumable()), peer)
    frames = parse_frames(peer.body)
    assert frames[0] == {"id": "7", "data": '{"n":7}'}
    assert frames[1] == {"data": '{"n":8}'}
    assert frames[2] == {"id": "k", "data": '{"n":9}'}


async def test_stream_disconnect_while_generator_blocked_in_await(
    caplog: pytest.LogCaptureFixture,
) -> None:
    journal, peer = Journal(), Peer()

    async def waiting() -> AsyncIterator[object]:
        try:
            yield {"n": 0}
            await anyio.sleep_forever()
        finally:
            journal.entries.append("finally")

    stream = journal.stream(waiting())
    with anyio.fail_after(WATCHDOG):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(serve, stream, peer)
            await peer.wait_sent(1)
            peer.disconnect()
    assert stream.state is StreamState.PEER_GONE
    assert journal.entries == ["finally", "on_close"]
    assert not peer.ended  # nothing more is written to a peer that left
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]


@pytest.mark.parametrize("lazy_receive", [False, True])
async def test_stream_disconnect_while_generator_yields_without_awaiting(
    lazy_receive: bool,
) -> None:
    # FastAPI #14680: a generator that never awaits must still be stoppable,
    # also when the server's receive() always awaits before answering.
    journal, peer = Journal(), Peer(lazy_receive=lazy_receive)

    async def spinning() -> AsyncIterator[object]:
        try:
            while True:
                journal.pulled += 1
                yield {"n": journal.pulled}
        finally:
            journal.entries.append("finally")

    with anyio.fail_after(WATCHDOG):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(serve, journal.stream(spinning()), peer)
            await peer.wait_sent(3)
            peer.disconnect()
    assert journal.entries == ["finally", "on_close"]
    assert journal.pulled > 3


async def test_stream_generator_that_never_awaits_leaves_other_tasks_their_turn() -> None:
    # The buffer never fills (max_pending is huge): only the pump's time slice
    # hands the loop to the other task, which the generator itself starts, then
    # spins without awaiting until that task has run.
    journal, peer = Journal(), Peer()
    other_ran = anyio.Event()

    async def other() -> None:
        other_ran.set()

    with anyio.fail_after(WATCHDOG):
        async with anyio.create_task_group() as tasks:

            async def spinning() -> AsyncIterator[object]:
                tasks.start_soon(other)
                while not other_ran.is_set() and journal.pulled < 2_000_000:
                    journal.pulled += 1
                    yield {"n": journal.pulled}

            tasks.start_soon(serve, journal.stream(spinning(), max_pending=10**9), peer)
    assert other_ran.is_set()
    assert 1 < journal.pulled < 2_000_000
    assert peer.ended
    assert peer.body.endswith(END_FRAME)


async def test_stream_write_failure_closes_generator_without_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    journal, peer = Journal(), Peer(fail_at=2)

    async def slow() -> AsyncIterator[object]:
        try:
            for n in range(100):
                yield {"n": n}
                await anyio.sleep(0.001)
        finally:
            journal.entries.append("finally")

    stream = journal.stream(slow())
    with caplog.at_level(logging.INFO):
        await serve(stream, peer)
    assert stream.state is StreamState.PEER_GONE
    assert journal.entries == ["finally", "on_close"]
    assert len(peer.bodies) == 1
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]


async def waiting_then_failing_cleanup(error: Exception) -> AsyncIterator[object]:
    """Yields one item and waits for ever; its cleanup (when stopped) raises ``error``."""
    try:
        yield {"n": 0}
        await anyio.sleep_forever()
    finally:
        raise error


async def test_stream_error_the_peer_never_heard_of_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    journal, peer = Journal(), Peer()

    stream = journal.stream(waiting_then_failing_cleanup(RoomFullError("raised while stopping")))
    with caplog.at_level(logging.ERROR, logger="belay.streams"), anyio.fail_after(1):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(serve, stream, peer)
            await peer.wait_sent(1)
            peer.disconnect()
    assert stream.state is StreamState.PEER_GONE
    logged = [r for r in caplog.records if r.name == "belay.streams" and r.exc_info]
    assert [str(r.exc_info[1]) for r in logged if r.exc_info] == ["raised while stopping"]


async def test_stream_slow_reader_bounds_items_pulled_ahead() -> None:
    journal, peer = Journal(), Peer(block_at=2)

    async def endless() -> AsyncIterator[object]:
        try:
            while True:
                journal.pulled += 1
                yield {"n": journal.pulled}
        finally:
            journal.entries.append("finally")

    stream = journal.stream(endless(), max_pending=4, send_timeout=None)
    with anyio.fail_after(WATCHDOG):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(serve, stream, peer)
            await peer.wait_sent(1)
            for _ in range(20):  # let the pump run as far as it is allowed
                await anyio.lowlevel.checkpoint()
            accepted = len(parse_frames(peer.body))
            assert journal.pulled == accepted + 4
            peer.disconnect()
    assert journal.entries == ["finally", "on_close"]


async def test_stream_send_timeout_closes_dead_peer() -> None:
    journal, peer = Journal(), Peer(block_at=2)

    async def ticking() -> AsyncIterator[object]:
        try:
            while True:
                yield {"n": 0}
                await anyio.sleep(0.005)
        finally:
            journal.entries.append("finally")

    await serve(journal.stream(ticking(), send_timeout=0.05), peer)
    assert journal.entries == ["finally", "on_close"]


async def test_stream_pings_only_when_idle() -> None:
    journal, peer = Journal(), Peer()

    async def bursty() -> AsyncIterator[object]:
        for n in range(10):  # back to back: far inside the ping interval
            yield {"n": n}
        # Idle until two pings went out (the watchdog fails the test if they never do).
        await poll_until(lambda: peer.body.count(b": ping") >= 2, within=WATCHDOG, what="pings")
        yield {"n": 10}

    await serve(journal.stream(bursty(), ping_interval=0.2), peer)
    frames = parse_frames(peer.body)
    kinds = ["ping" if f.get("comment") == ": ping" else f.get("event", "data") for f in frames]
    assert kinds[:10] == ["data"] * 10
    assert kinds[-2:] == ["data", "end"]
    idle = kinds[10:-2]  # two pings, more if the check above ran late on a loaded machine
    assert len(idle) >= 2
    assert set(idle) == {"ping"}


async def test_stream_silent_generator_gets_headers_and_ping() -> None:
    journal, peer = Journal(), Peer()

    async def late() -> AsyncIterator[object]:
        await poll_until(lambda: b": ping" in peer.body, within=WATCHDOG, what="a ping")
        yield {"n": 0}

    await serve(journal.stream(late(), ping_interval=0.02), peer)
    frames = parse_frames(peer.body)
    assert peer.status == 200
    assert frames[0] == {"comment": ": ping"}
    assert frames[-2:] == [{"data": '{"n":0}'}, {"event": "end", "data": "{}"}]


async def test_stream_opens_after_open_timeout_before_first_item() -> None:
    journal, peer = Journal(), Peer()
    release = anyio.Event()

    async def subscription() -> AsyncIterator[object]:
        await release.wait()
        yield {"n": 0}

    stream = journal.stream(subscription(), ping_interval=10.0, open_timeout=0.02)
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(serve, stream, peer)
        with anyio.fail_after(WATCHDOG):
            await peer.wait_sent(1)  # headers + ping long before the 10 s ping interval
        assert peer.status == 200
        assert parse_frames(peer.body) == [{"comment": ": ping"}]
        release.set()
    assert parse_frames(peer.body)[-2:] == [{"data": '{"n":0}'}, {"event": "end", "data": "{}"}]


async def test_stream_error_after_open_timeout_is_error_event() -> None:
    journal, peer = Journal(), Peer()

    async def slow_failure() -> AsyncIterator[object]:
        # Fail only once the open timeout has sent the headers.
        await poll_until(lambda: bool(peer.messages), within=WATCHDOG, what="the headers")
        raise RoomFullError("room is full")
        yield  # pragma: no cover - makes this an async generator

    await serve(journal.stream(slow_failure(), ping_interval=10.0, open_timeout=0.01), peer)
    assert peer.status == 200
    assert orjson.loads(parse_frames(peer.body)[-1]["data"]) == {
        "status": 409,
        "type": None,
        "body": {"detail": "room is full"},
    }
    assert journal.entries == ["on_close"]


async def test_stream_on_close_runs_once_even_if_generator_close_raises(
    caplog: pytest.LogCaptureFixture,
) -> None:
    journal, peer = Journal(), Peer()

    broken_cleanup = waiting_then_failing_cleanup(RuntimeError("cleanup failed"))
    with anyio.fail_after(WATCHDOG):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(serve, journal.stream(broken_cleanup), peer)
            await peer.wait_sent(1)
            peer.disconnect()
    assert journal.entries == ["on_close"]
    logged = [r for r in caplog.records if r.exc_info and "cleanup failed" in str(r.exc_info[1])]
    assert len(logged) == 1


async def test_stream_serves_one_request_only() -> None:
    journal = Journal()
    stream = journal.stream(numbers(journal, 1))
    await serve(stream, Peer())
    with pytest.raises(RuntimeError, match="one request"):
        await serve(stream, Peer())


async def test_stream_disconnect_lets_shielded_await_in_finally_complete() -> None:
    # A generator interrupted inside an await is cancelled (anyio semantics): its
    # finally runs; an await there completes when shielded.
    journal, peer = Journal(), Peer()

    async def with_async_cleanup() -> AsyncIterator[object]:
        try:
            yield {"n": 0}
            await anyio.sleep_forever()
        finally:
            with anyio.CancelScope(shield=True):
                await anyio.sleep(0.001)
            journal.entries.append("finally")

    with anyio.fail_after(WATCHDOG):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(serve, journal.stream(with_async_cleanup()), peer)
            await peer.wait_sent(1)
            peer.disconnect()
    assert journal.entries == ["finally", "on_close"]


async def test_stream_disconnect_at_yield_allows_plain_await_in_finally() -> None:
    # Suspended at a yield (slow reader), the generator is closed with aclose():
    # GeneratorExit, not cancellation, so its cleanup may await freely.
    journal, peer = Journal(), Peer(block_at=2)

    async def eager() -> AsyncIterator[object]:
        try:
            while True:
                yield {"n": 0}
        finally:
            await anyio.sleep(0.001)
            journal.entries.append("finally")

    stream = journal.stream(eager(), max_pending=2, send_timeout=None)
    with anyio.fail_after(WATCHDOG):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(serve, stream, peer)
            await peer.wait_sent(1)
            for _ in range(10):  # the pump fills the buffer and parks the generator
                await anyio.lowlevel.checkpoint()
            peer.disconnect()
    assert journal.entries == ["finally", "on_close"]


async def test_stream_unexpected_send_error_reaches_server_unwrapped() -> None:
    journal = Journal()
    peer = Peer(fail_at=1, fail_with=RuntimeError("Unexpected ASGI message"))
    with pytest.raises(RuntimeError, match="Unexpected ASGI message"):
        await serve(journal.stream(numbers(journal, 3)), peer)
    assert journal.entries == ["finally", "on_close"]


async def test_stream_failing_on_close_still_releases_registry_slot() -> None:
    registry = StreamRegistry(max_streams=1)

    async def failing_cleanup() -> None:
        raise RuntimeError("cleanup failed")

    stream = EventStream(
        numbers(Journal(), 1),
        encode=orjson.dumps,
        render_error=render_error,
        registry=registry,
        on_close=failing_cleanup,
    )
    with pytest.raises(RuntimeError, match="cleanup failed"):
        await serve(stream, Peer())
    assert registry.open_count == 0
