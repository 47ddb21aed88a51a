"""The demo's live state under ``belay serve --workers 2`` on a real Redis.

Live viewers are opened over separate connections until Redis shows a Pub/Sub
connection from each worker (so viewers sit on both); sideeffects go out on
fresh connections, landing on either worker. Every viewer must end with the
stored count and messages.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import anyio
import httpx
import orjson
import pytest

from tests.e2e.demo_processes import API, BelayServe
from tests.e2e.test_demo_workers import pubsub_connections, served
from tests.support.redis import RedisServer
from tests.support.sse import iter_frames

pytestmark = [pytest.mark.anyio, pytest.mark.e2e, pytest.mark.slow]

__all__ = ["served"]  # the two-worker fixture, shared with test_demo_workers

ROOM = "live-workers"
PAGE = {"x-belay-page": f"/rooms/{ROOM}"}
VIEWERS_PER_ROUND = 4
ROUNDS = 6
CHANGES = 12
WATCHDOG = 90.0  # seconds: a hang guard for the whole scenario, never a timing assertion


@pytest.fixture
def anyio_backend() -> str:
    # asyncio only: one backend is enough to drive two real server processes over HTTP.
    return "asyncio"


class Viewer:
    """One tab's live state on its own connection."""

    def __init__(self) -> None:
        self.state: dict[str, Any] = {}
        self.opened = anyio.Event()

    async def follow(self, base_url: str) -> None:
        async with (
            httpx.AsyncClient(base_url=base_url, timeout=60) as client,
            client.stream("GET", f"{API}/live", headers=PAGE) as response,
        ):
            assert response.status_code == 200
            async with contextlib.aclosing(iter_frames(response.aiter_bytes())) as frames:
                async for frame in frames:
                    if "data" in frame and "event" not in frame:
                        self.state = {**self.state, **orjson.loads(frame["data"])}
                        self.opened.set()


async def change(base_url: str, job: int) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        if job % 3 == 0:
            body = {"author": "w", "text": f"note {job}"}
            response = await client.post(
                f"{API}/post_message", params={"room": ROOM}, json=body, headers=PAGE
            )
        else:
            response = await client.post(f"{API}/increment", params={"room": ROOM}, headers=PAGE)
        assert response.status_code == 200, response.text


async def test_demo_live_state_reaches_viewers_on_both_workers(
    served: BelayServe, redis_server: RedisServer, tmp_path: Path
) -> None:
    viewers: list[Viewer] = []
    with anyio.fail_after(WATCHDOG):
        async with anyio.create_task_group() as tasks:
            for _ in range(ROUNDS):
                for _ in range(VIEWERS_PER_ROUND):
                    viewer = Viewer()
                    viewers.append(viewer)
                    tasks.start_soon(viewer.follow, served.url)
                    await viewer.opened.wait()
                if pubsub_connections(redis_server) >= 2:
                    break
            assert pubsub_connections(redis_server) >= 2, "viewers never reached both workers"
            for job in range(CHANGES):
                await change(served.url, job)
            async with httpx.AsyncClient(base_url=served.url, timeout=30) as client:
                stored = (await client.get(f"{API}/render", headers=PAGE)).json()
            assert stored["count"] == CHANGES - CHANGES // 3

            def settled() -> bool:
                return all(
                    v.state.get("count") == stored["count"]
                    and v.state.get("messages") == stored["messages"]
                    for v in viewers
                )

            while not settled():  # noqa: ASYNC110 (state read from other connections)
                await anyio.sleep(0.02)
            tasks.cancel_scope.cancel()
