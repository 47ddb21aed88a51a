"""Channels through real hypercorn servers: junk ids, two workers sharing Redis, reconnects."""

from __future__ import annotations

import random
from collections.abc import AsyncGenerator, Iterator
from contextlib import AbstractAsyncContextManager, aclosing

import anyio
import httpx
import orjson
import pytest

from streams.positions import EVENT_RESET, parse_position
from tests.e2e.channel_apps import PREFIX, build_channel_app
from tests.support.redis import RedisServer, count_clients, wait_clients
from tests.support.server import ServerHandle, running_server
from tests.support.sse import Frame, iter_frames

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]


@pytest.fixture
def anyio_backend() -> str:
    # asyncio only: leaving a live httpx stream early leaves httpx's inner async
    # generators to the GC, which trio reports (a warning, so an error here).
    return "asyncio"


WATCHDOG = 60.0  # seconds: hang guard for whole scenarios


@pytest.fixture
def two_workers(redis_server: RedisServer) -> Iterator[tuple[ServerHandle, ServerHandle]]:
    """Two independent apps (own Channel, own broker connections) on one Redis."""
    url = redis_server.url()
    with (
        running_server(build_channel_app(url)) as first,
        running_server(build_channel_app(url)) as second,
    ):
        yield first, second


async def _post(client: httpx.AsyncClient, base: str, n: int, room: str = "lobby") -> str:
    response = await client.post(f"{base}{PREFIX}/post", params={"room": room}, json={"n": n})
    assert response.status_code == 200, response.text
    position: str = response.json()["passthrough"]
    return position


async def _position(client: httpx.AsyncClient, base: str, room: str = "lobby") -> str:
    response = await client.post(f"{base}{PREFIX}/position", params={"room": room})
    assert response.status_code == 200, response.text
    position: str = response.json()["passthrough"]
    return position


def frames(response: httpx.Response) -> aclosing[AsyncGenerator[Frame, None]]:
    """The response's frames as they come, closed on leaving the block."""
    return aclosing(iter_frames(response.aiter_bytes()))


def _stream(
    client: httpx.AsyncClient, base: str, last: str | None, room: str = "lobby"
) -> AbstractAsyncContextManager[httpx.Response]:
    headers = {} if last is None else {"last-event-id": last}
    return client.stream("POST", f"{base}{PREFIX}/events", params={"room": room}, headers=headers)


async def test_channel_stream_answers_junk_last_event_id_with_a_reset_frame() -> None:
    with running_server(build_channel_app("memory://")) as server:
        async with httpx.AsyncClient(timeout=30) as client:
            top = await _post(client, server.base_url, 1)
            with anyio.fail_after(WATCHDOG):
                async with _stream(client, server.base_url, "not-a-position!") as response:
                    assert response.status_code == 200
                    async with frames(response) as seen:
                        reset = await anext(seen)
                        assert reset["event"] == EVENT_RESET
                        assert orjson.loads(reset["data"]) == {"position": top}
                        assert reset["id"] == top
                        await _post(client, server.base_url, 2)
                        frame = await anext(seen)
                        while "comment" in frame:  # pings
                            frame = await anext(seen)
                        assert orjson.loads(frame["data"]) == {"n": 2, "by": "test"}


async def test_channel_stream_on_one_worker_gets_what_the_other_published(
    two_workers: tuple[ServerHandle, ServerHandle],
) -> None:
    first, second = two_workers
    async with httpx.AsyncClient(timeout=30) as client:
        start = await _position(client, first.base_url)
        with anyio.fail_after(WATCHDOG):
            async with _stream(client, first.base_url, start) as response:
                assert response.status_code == 200
                posted = await _post(client, second.base_url, 7)
                async with frames(response) as seen:
                    async for frame in seen:
                        if "data" in frame:
                            assert frame["id"] == posted
                            assert orjson.loads(frame["data"])["n"] == 7
                            break


async def test_channel_broker_closes_when_hypercorn_shuts_the_app_down(
    redis_server: RedisServer,
) -> None:
    baseline = count_clients(redis_server)
    with running_server(build_channel_app(redis_server.url())) as server:
        async with httpx.AsyncClient(timeout=30) as client:
            await _post(client, server.base_url, 1)
        assert count_clients(redis_server) > baseline
    await wait_clients(redis_server, baseline)  # lifespan shutdown closed the broker


@pytest.mark.slow
async def test_channel_1000_events_across_reconnects_to_alternating_workers_no_gap_no_dup(
    two_workers: tuple[ServerHandle, ServerHandle],
) -> None:
    servers = [server.base_url for server in two_workers]
    total = 1000
    rng = random.Random(11)
    received: list[tuple[str, int]] = []
    async with httpx.AsyncClient(timeout=30) as client:
        last = await _position(client, servers[0])

        async def publish() -> None:
            for n in range(total):
                await _post(client, servers[n % 2], n)

        with anyio.fail_after(WATCHDOG * 3):
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(publish)
                connection = 0
                while len(received) < total:
                    base = servers[connection % 2]
                    connection += 1
                    budget = rng.randint(20, 150)  # events before this connection is dropped
                    async with _stream(client, base, last) as response:
                        assert response.status_code == 200
                        async with frames(response) as seen:
                            async for frame in seen:
                                if "data" not in frame:
                                    continue
                                assert frame.get("event") is None, frame  # no reset expected
                                last = frame["id"]
                                received.append((last, orjson.loads(frame["data"])["n"]))
                                budget -= 1
                                if budget == 0 or len(received) == total:
                                    break  # drop the connection mid-stream
    assert connection > 7
    offsets = [parse_position(position) for position, _ in received]
    assert [o[1] for o in offsets if o] == list(range(1, total + 1))  # 0 gaps, 0 duplicates
    assert sorted(n for _, n in received) == list(range(total))


async def test_channel_stream_stays_open_through_a_redis_restart_and_resets(
    redis_server: RedisServer, two_workers: tuple[ServerHandle, ServerHandle]
) -> None:
    first, second = two_workers
    async with httpx.AsyncClient(timeout=30) as client:
        start = await _position(client, first.base_url)
        with anyio.fail_after(WATCHDOG):
            async with (
                _stream(client, first.base_url, start) as response,
                frames(response) as seen,
            ):
                await _post(client, second.base_url, 1)
                frame = await anext(seen)
                while "data" not in frame:
                    frame = await anext(seen)
                old = frame["id"]
                redis_server.restart()  # without persistence: the history is gone
                posted = await _post(client, second.base_url, 2)
                old_at, posted_at = parse_position(old), parse_position(posted)
                assert old_at is not None
                assert posted_at is not None
                assert posted_at[0] != old_at[0]  # a new epoch
                kinds: list[str] = []
                async for frame in seen:  # the same response: it never ended
                    if "data" not in frame:
                        continue
                    kinds.append(frame.get("event", "message"))
                    if frame["id"] == posted:
                        break
                assert kinds[0] == EVENT_RESET
                assert kinds[1:] in ([], ["message"])  # the reset may already cover it


@pytest.mark.parametrize("action", ["post", "events"])
async def test_channel_key_too_long_is_a_400_naming_the_problem(action: str) -> None:
    with running_server(build_channel_app("memory://")) as server:
        async with httpx.AsyncClient(timeout=30) as client:
            body = {"n": 1} if action == "post" else None
            response = await client.post(
                f"{server.base_url}{PREFIX}/{action}", params={"room": "r" * 600}, json=body
            )
    assert response.status_code == 400, response.text
    detail = response.json()["detail"]
    assert "channel key" in detail
    assert len(detail) < 300  # the key itself is not echoed in full
