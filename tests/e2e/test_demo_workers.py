"""The demo under ``belay serve --workers 2`` on a real Redis: every tab sees every event in order.

Streams are opened over several connections until Redis shows a Pub/Sub
connection from each worker (so some tabs are on one worker and some on the
other); actions go out on fresh connections, landing on either worker. Every
stream must then carry the same gap-free sequence of positions, and the
counter every tab ends with must be the stored one.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import aclosing
from pathlib import Path

import anyio
import httpx
import orjson
import pytest

from tests.e2e.demo_processes import API, ROOT, BelayServe
from tests.support.redis import RedisServer
from tests.support.sse import Frame, iter_frames

pytestmark = [pytest.mark.anyio, pytest.mark.e2e, pytest.mark.slow]

ROOM = "workers"
PAGE = {"x-belay-page": f"/rooms/{ROOM}"}
INCREMENTS = 30
MESSAGES = 10
PUBLISHERS = 5
STREAMS_PER_ROUND = 6
ROUNDS = 5  # rounds of new streams until both workers serve some
DELIVERY_WAIT = 30.0  # seconds for the last events to arrive (a hang guard)
WATCHDOG = 90.0  # seconds: a hang guard for the whole scenario, never a timing assertion


@pytest.fixture
def anyio_backend() -> str:
    # asyncio only: leaving a live httpx stream early leaves httpx's inner async
    # generators to the GC, which trio reports (a warning, so an error here).
    return "asyncio"


@pytest.fixture
def served(redis_server: RedisServer, tmp_path: Path) -> Iterator[BelayServe]:
    env = {"BELAY_BROKER_URL": redis_server.url(), "BELAY_ROOMS_DB": str(tmp_path / "rooms.db")}
    server = BelayServe(ROOT, env, workers=2, log=tmp_path / "serve.log")
    try:
        server.wait_ready()
        yield server
    finally:
        assert server.stop() == 0, (tmp_path / "serve.log").read_text()


def pubsub_connections(redis: RedisServer) -> int:
    """Redis clients in Pub/Sub mode: one per worker that has subscribers."""
    listing = redis.command("CLIENT", "LIST").decode()
    return sum(1 for line in listing.splitlines() if "flags=P" in line)


async def read_stream(
    base_url: str,
    after: str,
    want: int,
    into: list[Frame],
    *,
    opened: anyio.Event,
    finished: anyio.Event,
) -> None:
    """One tab's stream on its own connection: ``want`` data frames after ``after``."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        params = {"room": ROOM, "after": after}
        async with client.stream("POST", f"{API}/events", params=params) as response:
            assert response.status_code == 200
            opened.set()
            async with aclosing(iter_frames(response.aiter_bytes())) as stream:
                async for frame in stream:
                    if "data" in frame:
                        into.append(frame)
                    if len(into) == want:
                        finished.set()
                        return


async def act(base_url: str, job: int) -> None:
    """One action on a fresh connection (so it may land on either worker).

    Jobs below ``MESSAGES`` post message ``job``; the others increment.
    """
    headers = PAGE | {"connection": "close"}
    params = {"room": ROOM}
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        if job < MESSAGES:
            body = {"author": "bot", "text": f"message {job}"}
            response = await client.post(
                f"{API}/post_message", params=params, json=body, headers=headers
            )
        else:
            response = await client.post(f"{API}/increment", params=params, headers=headers)
        assert response.status_code == 200, response.text


async def test_demo_two_workers_on_redis_deliver_every_event_in_order_to_every_tab(
    served: BelayServe, redis_server: RedisServer
) -> None:
    base = served.url
    total = INCREMENTS + MESSAGES
    streams: list[list[Frame]] = []
    finishes: list[anyio.Event] = []
    with anyio.fail_after(WATCHDOG):
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            state = (await client.get(f"{API}/render", headers=PAGE)).json()
        start = state["position"]
        async with anyio.create_task_group() as tasks:
            for _ in range(ROUNDS):
                for _ in range(STREAMS_PER_ROUND):
                    into: list[Frame] = []
                    streams.append(into)
                    opened, finished = anyio.Event(), anyio.Event()
                    finishes.append(finished)
                    tasks.start_soon(
                        functools.partial(
                            read_stream, base, start, total, into, opened=opened, finished=finished
                        )
                    )
                    await opened.wait()
                if pubsub_connections(redis_server) == 2:
                    break
            assert pubsub_connections(redis_server) == 2, "every stream landed on one worker"

            async def publisher(mine: list[int]) -> None:
                for number in mine:
                    await act(base, number)

            async with anyio.create_task_group() as publishers:
                for k in range(PUBLISHERS):
                    publishers.start_soon(publisher, list(range(total))[k::PUBLISHERS])
            # Every stream should now fill up; where one cannot, the asserts below show how.
            with anyio.move_on_after(DELIVERY_WAIT):
                for finished in finishes:
                    await finished.wait()
            tasks.cancel_scope.cancel()

        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            final = (await client.get(f"{API}/render", headers=PAGE)).json()

    epoch = start.rpartition("-")[0]
    expected_ids = [f"{epoch}-{n}" for n in range(1, total + 1)]
    first = streams[0]
    for seen in streams:
        assert [frame["id"] for frame in seen] == expected_ids  # no gap, no duplicate, in order
        assert [frame["data"] for frame in seen] == [frame["data"] for frame in first]
    events = [orjson.loads(frame["data"]) for frame in first]
    counts = [e for e in events if e["kind"] == "count"]
    assert sorted(e["version"] for e in counts) == list(range(1, INCREMENTS + 1))
    # What a page shows: the count of the highest version, which is the stored count.
    shown = max(counts, key=lambda e: e["version"])["count"]
    assert shown == final["count"] == INCREMENTS
    texts = sorted(e["message"]["text"] for e in events if e["kind"] == "message")
    assert texts == sorted(f"message {n}" for n in range(MESSAGES))
    assert final["position"] == expected_ids[-1]
