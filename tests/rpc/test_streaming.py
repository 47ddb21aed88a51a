"""Streaming actions through RPCApp at the ASGI level: scripted receive, recorded send.

Every stream here is a real ``@passthrough`` of ``tests.e2e.stream_apps``; the
peer plays the server (it hands over the empty request body, then reports a
disconnect on cue) and every wait runs under a watchdog.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import anyio
import orjson
import pytest
from pydantic import BaseModel

from rpc import ControllerBase, DeclarationError, Depends, RPCApp, passthrough, sideeffect
from streams import LastEventId, tracked
from streams.framing import PING_COMMENT
from tests.e2e.stream_apps import PREFIX, StreamCounters, StreamPage, Tick, build_stream_app
from tests.rpc.asgi import http_scope
from tests.streams.peer import Peer
from tests.support.polling import poll_until
from tests.support.sse import parse_frames

pytestmark = pytest.mark.anyio

# A hang guard, not a bound: cleanup after a disconnect takes milliseconds (bench/bench_shutdown.py
# reports it); 10 s is far more than a loaded machine needs.
WATCHDOG = 10.0


@dataclass
class ActionPeer(Peer):
    """A ``Peer`` that first hands over the (empty) action body, timing each send."""

    sent_at: list[float] = field(default_factory=list)
    _body_given: bool = False

    async def receive(self) -> dict[str, Any]:
        if not self._body_given:
            self._body_given = True
            return {"type": "http.request", "body": b"", "more_body": False}
        return await super().receive()

    async def send(self, message: dict[str, Any]) -> None:
        await super().send(message)
        self.sent_at.append(time.perf_counter())

    @property
    def asgi_send(self) -> Any:
        """``send`` as the ASGI boundary types it."""
        return self.send

    @property
    def events(self) -> list[dict[str, str]]:
        return parse_frames(self.body)

    def json(self) -> Any:
        return orjson.loads(self.body)


async def serve(
    app: RPCApp, action: str, peer: ActionPeer, query: str = "", **headers: str
) -> None:
    scope = http_scope(
        "POST", f"{PREFIX}/{action}", query=query.encode(), headers=list(headers.items())
    )
    await app(scope, peer.receive, peer.asgi_send)


async def stream(action: str, query: str = "", **options: Any) -> tuple[ActionPeer, StreamCounters]:
    """Serve one request to its end (the peer never disconnects)."""
    app, counters = build_stream_app(**options)
    peer = ActionPeer()
    with anyio.fail_after(5):
        await serve(app, action, peer, query)
    return peer, counters


def data(events: list[dict[str, str]]) -> list[Any]:
    return [orjson.loads(e["data"]) for e in events if "data" in e and "event" not in e]


def assert_closed_in_order(counters: StreamCounters, count: int = 1) -> None:
    """Generators finalised, cleanups run, and every cleanup after its generator's finally."""
    assert counters.snapshot() == {
        "opened": count,
        "finalised": count,
        "cleaned": count,
        "early_cleanups": 0,
    }


async def test_streaming_clean_end_has_sse_headers_items_and_end_event() -> None:
    peer, counters = await stream("ticks", "limit=3")
    assert peer.status == 200
    assert peer.headers[b"content-type"].startswith(b"text/event-stream")
    assert peer.headers[b"cache-control"] == b"no-store"
    assert peer.headers[b"x-accel-buffering"] == b"no"
    assert data(peer.events) == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert peer.events[-1] == {"event": "end", "data": "{}"}
    assert peer.ended
    assert_closed_in_order(counters)


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        (
            "api",
            {"status": 409, "type": "RoomFull", "body": {"detail": "room is full", "capacity": 3}},
        ),
        ("x", {"status": 500, "type": None, "body": {"detail": "Internal Server Error"}}),
    ],
)
async def test_streaming_error_mid_stream_is_error_event(kind: str, error: Any) -> None:
    peer, counters = await stream("fail_mid", f"kind={kind}")
    assert peer.status == 200
    assert data(peer.events) == [{"n": 0}, {"n": 1}]
    assert peer.events[-1]["event"] == "error"
    assert orjson.loads(peer.events[-1]["data"]) == error
    assert all(e.get("event") != "end" for e in peer.events)
    assert peer.ended
    assert_closed_in_order(counters)


@pytest.mark.parametrize(
    ("action", "query", "status", "body", "error_type"),
    [
        ("fail_first", "kind=api", 409, {"detail": "room is full", "capacity": 5}, b"RoomFull"),
        ("fail_first", "kind=x", 500, {"detail": "Internal Server Error"}, None),
        ("guarded", "", 403, {"detail": "not allowed"}, b"Forbidden"),
        ("ticks", "limit=abc", 422, None, None),
        ("ticks", "", 422, None, None),
    ],
)
async def test_streaming_error_before_first_item_is_plain_http_error(
    action: str, query: str, status: int, body: Any, error_type: bytes | None
) -> None:
    peer, counters = await stream(action, query)
    assert peer.status == status
    assert peer.headers[b"content-type"] == b"application/json"
    # Raised in the generator or in a dependency, an APIException is named alike.
    assert peer.headers.get(b"x-belay-error-type") == error_type
    if body is not None:
        assert peer.json() == body
    else:
        assert peer.json()["detail"][0]["loc"][:2] == ["query", "limit"]
    assert peer.ended
    assert counters.finalised == counters.opened
    assert counters.cleaned == counters.tokens
    assert counters.early_cleanups == 0


@pytest.mark.parametrize(
    ("action", "query", "status"),
    [("ticks", "limit=2", 200), ("fail_first", "kind=api", 409), ("guarded", "", 403)],
)
async def test_streaming_listed_origin_gets_cors_headers(
    action: str, query: str, status: int
) -> None:
    app, _ = build_stream_app(allowed_origins=["https://app.example"])
    peer = ActionPeer()
    with anyio.fail_after(5):
        await serve(app, action, peer, query, origin="https://app.example")
    assert peer.status == status
    assert peer.headers[b"access-control-allow-origin"] == b"https://app.example"
    assert peer.headers[b"access-control-allow-credentials"] == b"true"


async def test_streaming_unlisted_origin_is_refused_before_the_stream() -> None:
    app, counters = build_stream_app()
    peer = ActionPeer()
    with anyio.fail_after(5):
        await serve(app, "ticks", peer, "limit=2", origin="https://evil.example")
    assert peer.status == 403
    assert b"access-control-allow-origin" not in peer.headers
    assert counters.opened == 0


async def test_streaming_wrong_item_type_is_error_event_and_closes() -> None:
    peer, counters = await stream("wrong_type")
    assert peer.status == 200
    assert data(peer.events) == [{"n": 0}]
    assert peer.events[-1] == {
        "event": "error",
        "data": '{"status":500,"type":null,"body":{"detail":"Internal Server Error"}}',
    }
    assert_closed_in_order(counters)


async def test_streaming_items_use_aliases_like_the_non_stream_path() -> None:
    streamed, _ = await stream("profiles")
    single, _ = await stream("profile")
    assert data(streamed.events) == [single.json()["passthrough"]]
    assert data(streamed.events) == [{"userName": "ada", "isAdmin": True}]


async def test_streaming_pings_only_after_silence() -> None:
    # ``pauses`` has ping_interval=0.02: a 0.12 s pause holds up to 6 pings (fewer when loaded).
    peer, _ = await stream("pauses", "pause=0.12&count=2")
    # Each frame with the time its body message was sent (the last item and the end
    # event may share one message).
    frames = [
        (frame, sent)
        for body, sent in zip(peer.bodies, peer.sent_at[1:], strict=True)
        for frame in parse_frames(body["body"])
    ]
    kinds = [
        "ping" if e.get("comment") == PING_COMMENT else e.get("event", "data") for e, _ in frames
    ]
    assert kinds[0] == "data"
    assert kinds[-2:] == ["data", "end"]
    assert kinds.count("ping") >= 1, kinds
    times = [t for _, t in frames]
    # each ping comes a whole interval after the frame before it (never early; load only delays)
    for index, kind in enumerate(kinds):
        if kind == "ping":
            assert times[index] - times[index - 1] >= 0.015


async def test_streaming_no_pings_while_items_flow() -> None:
    # App ping_interval 1 s; ``flowing`` yields every 10 ms (100x headroom for a loaded machine).
    app, counters = build_stream_app(ping_interval=1.0)
    peer = ActionPeer()
    with anyio.fail_after(5):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(serve, app, "flowing", peer)
            await peer.wait_sent(15)
            peer.disconnect()
    assert PING_COMMENT.encode() not in peer.body
    assert len(data(peer.events)) >= 15
    assert_closed_in_order(counters)


async def test_streaming_no_pings_in_a_long_ready_stream() -> None:
    peer, _ = await stream("ticks", "limit=3000", ping_interval=0.5)
    assert len(data(peer.events)) == 3000
    assert PING_COMMENT.encode() not in peer.body


@pytest.mark.parametrize(("last", "first"), [(None, 0), ("3", 4)])
async def test_streaming_last_event_id_resumes_tracked_stream(last: str | None, first: int) -> None:
    app, counters = build_stream_app()
    peer = ActionPeer()
    headers = {"last-event-id": last} if last is not None else {}
    with anyio.fail_after(5):
        await serve(app, "resumable", peer, "limit=7", **headers)
    items = [e for e in peer.events if "id" in e]
    assert [e["id"] for e in items] == [str(n) for n in range(first, 7)]
    assert [orjson.loads(e["data"]) for e in items] == [{"n": n} for n in range(first, 7)]
    assert peer.events[-1]["event"] == "end"
    assert_closed_in_order(counters)


@pytest.mark.parametrize("sync_dependency", [False, True])
async def test_streaming_disconnect_while_blocked_closes_generator_then_dependency(
    sync_dependency: bool,
) -> None:
    app, counters = build_stream_app(sync_dependency=sync_dependency)
    peer = ActionPeer()
    with anyio.fail_after(5):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(serve, app, "blocked", peer)
            await peer.wait_sent(1)  # the generator is now blocked in sleep_forever()
            peer.disconnect()
            await poll_until(lambda: counters.cleaned, within=WATCHDOG, what="the cleanup")
    assert_closed_in_order(counters)
    assert app.stream_registry.open_count == 0
    assert not peer.ended  # nothing more was written to a departed peer


@pytest.mark.parametrize("sync_dependency", [False, True])
async def test_streaming_write_failure_closes_generator_then_dependency(
    sync_dependency: bool,
) -> None:
    app, counters = build_stream_app(sync_dependency=sync_dependency)
    peer = ActionPeer(fail_at=1, fail_with=ConnectionResetError("reset by peer"))
    with anyio.fail_after(WATCHDOG):
        await serve(app, "blocked", peer)  # the first body write fails
    assert peer.status == 200
    assert_closed_in_order(counters)
    assert app.stream_registry.open_count == 0


async def test_streaming_slow_reader_pulls_a_bounded_number_ahead() -> None:
    app, counters = build_stream_app()
    peer = ActionPeer(block_at=2)  # takes one body, then stops reading
    with anyio.fail_after(5):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(serve, app, "firehose", peer)
            await peer.wait_sent(1)
            for _ in range(20):  # plenty of turns for an unbounded pump to run away
                await anyio.lowlevel.checkpoint()
            ahead = counters.pulled - len(data(peer.events))
            peer.disconnect()
    # 32 items may wait for the socket (StreamSettings.max_pending) plus the one in flight
    assert 0 < ahead <= 33, ahead
    assert_closed_in_order(counters)


async def test_streaming_send_timeout_closes_a_dead_peer() -> None:
    # ``firehose`` has send_timeout=0.1; the peer never reads again and never disconnects.
    app, counters = build_stream_app()
    peer = ActionPeer(block_at=2)
    started = time.perf_counter()
    with anyio.fail_after(WATCHDOG):
        await serve(app, "firehose", peer)
    assert time.perf_counter() - started >= 0.1  # not before the send timeout
    assert_closed_in_order(counters)
    assert app.stream_registry.open_count == 0


async def test_streaming_app_send_timeout_closes_a_peer_that_stopped_reading() -> None:
    # App-wide settings: a ping after 20 ms of silence, and 50 ms for any write.
    app, counters = build_stream_app(ping_interval=0.02, send_timeout=0.05)
    peer = ActionPeer(block_at=2)  # takes the first tick; the ping's write never completes
    with anyio.fail_after(WATCHDOG):
        await serve(app, "blocked", peer)
    assert data(peer.events) == [{"n": 0}]
    assert_closed_in_order(counters)
    assert app.stream_registry.open_count == 0


async def test_streaming_max_streams_answers_503_json() -> None:
    app, counters = build_stream_app(max_streams=1)
    first, second = ActionPeer(), ActionPeer()
    with anyio.fail_after(5):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(serve, app, "blocked", first)
            await first.wait_sent(1)
            await serve(app, "blocked", second)
            first.disconnect()
    assert second.status == 503
    assert second.headers[b"content-type"] == b"application/json"
    assert "max_streams=1" in second.json()["detail"]
    assert counters.opened == 1  # the refused stream's generator never started
    assert counters.cleaned == 2  # but its dependency was cleaned up
    assert counters.early_cleanups == 0


async def run_lifespan(app: RPCApp) -> list[str]:
    """Start the app's lifespan, then shut it down; the message types it sent back."""
    inbox = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    sent: list[str] = []

    async def receive() -> dict[str, Any]:
        return next(inbox)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message["type"])

    asgi_send: Any = send
    await app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, asgi_send)
    return sent


async def test_streaming_lifespan_shutdown_closes_open_streams_without_end() -> None:
    app, counters = build_stream_app()
    peers = [ActionPeer() for _ in range(3)]
    with anyio.fail_after(5):
        async with anyio.create_task_group() as tasks:
            for peer in peers:
                tasks.start_soon(serve, app, "blocked", peer)
            for peer in peers:
                await peer.wait_sent(1)
            lifespan = await run_lifespan(app)
    assert lifespan == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert_closed_in_order(counters, 3)
    for peer in peers:
        assert peer.ended
        assert all(e.get("event") != "end" for e in peer.events)


async def test_streaming_failing_cleanup_after_stream_is_logged_not_sent(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def resource() -> Iterator[int]:
        yield 1
        raise RuntimeError("cleanup failed")

    @passthrough
    async def ticks(self: Any, value: int = Depends(resource)) -> AsyncIterator[Tick]:
        yield Tick(n=value)

    app = _controller(ticks=ticks)
    peer = ActionPeer()
    scope = http_scope("POST", "/internal/api/Declared/ticks")
    with anyio.fail_after(5):
        await app(scope, peer.receive, peer.asgi_send)
    starts = [m for m in peer.messages if m["type"] == "http.response.start"]
    assert len(starts) == 1  # no second response after the finished stream
    assert peer.events == [{"data": '{"n":1}'}, {"event": "end", "data": "{}"}]
    assert "cleanup failed" in caplog.text


def _controller(**methods: Any) -> RPCApp:
    async def render(self: Any) -> StreamPage:
        return StreamPage(title="")

    return RPCApp([type("Declared", (ControllerBase,), {"render": render, **methods})()])


def test_streaming_sync_generator_fails_at_decoration() -> None:
    def ticks(self: Any) -> Iterator[Tick]:
        yield Tick(n=0)

    with pytest.raises(TypeError, match="sync generator"):
        passthrough(ticks)


def test_streaming_async_generator_without_async_iterator_fails_at_construction() -> None:
    @passthrough
    async def ticks(self: Any) -> list[Tick]:  # type: ignore[misc]
        yield Tick(n=0)

    with pytest.raises(DeclarationError, match=r"ticks is an async generator; annotate it"):
        _controller(ticks=ticks)


def test_streaming_async_iterator_annotation_on_a_sideeffect_coroutine_fails() -> None:
    @sideeffect
    async def annotated(self: Any) -> AsyncIterator[Tick]:
        raise NotImplementedError

    with pytest.raises(DeclarationError, match="annotated AsyncIterator but is not an `async def`"):
        _controller(annotated=annotated)


class Echo(BaseModel):
    last: str | None


class EchoLastController(ControllerBase):
    url = "/echo"

    async def render(self) -> Echo:
        return Echo(last=None)

    @passthrough
    async def echo(self, last: LastEventId) -> AsyncIterator[Echo]:
        yield tracked("é-1" if last is None else last + "+", Echo(last=last))


@pytest.mark.parametrize(
    ("raw", "handed"),
    [(None, None), (b"", None), (b"41", "41"), ("é-1".encode(), "é-1")],
)
async def test_streaming_last_event_id_is_read_as_sent_ids_are_written(
    raw: bytes | None, handed: str | None
) -> None:
    # Ids go out UTF-8 encoded, and browsers send Last-Event-ID back UTF-8 encoded
    # (HTML: "encoded as UTF-8"); an empty header is no id, as in streams.
    app = RPCApp([EchoLastController()])
    scope = http_scope("POST", "/internal/api/EchoLastController/echo")
    if raw is not None:
        scope["headers"].append((b"last-event-id", raw))
    peer = ActionPeer()
    with anyio.fail_after(5):
        await app(scope, peer.receive, peer.asgi_send)
    assert peer.status == 200
    assert data(peer.events) == [{"last": handed}]
