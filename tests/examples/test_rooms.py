"""The demo room's server side: broadcast to every subscriber, resume without gaps."""

from __future__ import annotations

import anyio
import httpx
import pytest

from examples.rooms.controllers import RoomController
from rpc import RPCApp
from rpc.testing import parse_events
from tests.support.server import running_server

pytestmark = pytest.mark.e2e

EVENTS = "/internal/api/RoomController/events"


async def read_events(
    client: httpx.AsyncClient, count: int, **headers: str
) -> list[tuple[str, int]]:
    """The first ``count`` (id, count) pairs of the room's stream, then hang up."""
    seen: list[tuple[str, int]] = []
    async with client.stream("POST", EVENTS, params={"room": "r"}, headers=headers) as response:
        assert response.status_code == 200
        buffer = ""
        async for chunk in response.aiter_text():
            buffer += chunk
            *blocks, buffer = buffer.split("\n\n")
            for event in parse_events("\n\n".join(blocks) + "\n\n"):
                seen.append((str(event.id), event.data["count"]))
            if len(seen) >= count:
                return seen[:count]
    raise AssertionError(f"stream ended after {seen}")


def test_rooms_stream_broadcasts_and_resumes_after_last_event_id() -> None:
    app = RPCApp([RoomController()])

    async def scenario(base_url: str) -> None:
        async with httpx.AsyncClient(base_url=base_url, timeout=5) as client:

            async def bump(times: int) -> None:
                for _ in range(times):
                    response = await client.post(
                        "/internal/api/RoomController/increment",
                        params={"room": "r"},
                        headers={"x-belay-page": "/rooms/r"},
                    )
                    assert response.status_code == 200

            with anyio.fail_after(10):
                async with anyio.create_task_group() as tasks:
                    first: list[list[tuple[str, int]]] = []
                    second: list[list[tuple[str, int]]] = []

                    async def listen(into: list[list[tuple[str, int]]]) -> None:
                        # From id 0: whether they subscribe before or after the bumps,
                        # both tabs see every event once, in order.
                        into.append(await read_events(client, 3, **{"last-event-id": "0"}))

                    tasks.start_soon(listen, first)
                    tasks.start_soon(listen, second)
                    await bump(3)
                assert first == second == [[("1", 1), ("2", 2), ("3", 3)]]
                await bump(2)  # missed while disconnected
                resumed = await read_events(client, 2, **{"last-event-id": "3"})
                assert resumed == [("4", 4), ("5", 5)]

    with running_server(app, graceful_timeout=0.2) as server:
        anyio.run(scenario, server.base_url)
