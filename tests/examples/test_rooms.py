"""The demo room's server side over real HTTP: render's position, resume, junk ids, persistence."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import aclosing
from pathlib import Path

import anyio
import httpx
import orjson
import pytest

from examples.rooms.channel import room_events
from examples.rooms.controllers import RoomController
from examples.rooms.store import RoomStore
from rpc import RPCApp
from tests.support.server import ServerHandle, running_server
from tests.support.sse import Frame, iter_frames

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

API = "/internal/api/RoomController"
PAGE = {"x-belay-page": "/rooms/r"}
WATCHDOG = 30.0  # seconds: a hang guard, never a timing assertion


@pytest.fixture
def anyio_backend() -> str:
    # asyncio only: leaving a live httpx stream early leaves httpx's inner async
    # generators to the GC, which trio reports (a warning, so an error here).
    return "asyncio"


def build_api(database: Path) -> RPCApp:
    """The demo's API on its own database file and its own memory broker."""
    return RPCApp([RoomController(RoomStore(database))], channels=[room_events])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerHandle]:
    with running_server(build_api(tmp_path / "rooms.db"), graceful_timeout=0.2) as handle:
        yield handle


async def render(client: httpx.AsyncClient) -> dict[str, object]:
    response = await client.get(f"{API}/render", headers=PAGE)
    assert response.status_code == 200, response.text
    state: dict[str, object] = response.json()
    return state


async def increment(client: httpx.AsyncClient, by: int = 1) -> None:
    response = await client.post(f"{API}/increment", params={"room": "r", "by": by}, headers=PAGE)
    assert response.status_code == 200, response.text


async def post(client: httpx.AsyncClient, text: str) -> None:
    response = await client.post(
        f"{API}/post_message",
        params={"room": "r"},
        json={"author": "ada", "text": text},
        headers=PAGE,
    )
    assert response.status_code == 200, response.text


async def data_frames(
    client: httpx.AsyncClient, count: int, *, after: str | None = None, last: str | None = None
) -> list[Frame]:
    """The first ``count`` frames with data (items and resets) of the room's stream."""
    params = {"room": "r"} | ({} if after is None else {"after": after})
    headers = {} if last is None else {"last-event-id": last}
    seen: list[Frame] = []
    async with client.stream("POST", f"{API}/events", params=params, headers=headers) as response:
        assert response.status_code == 200
        async with aclosing(iter_frames(response.aiter_bytes())) as stream:
            async for frame in stream:
                if "data" in frame:
                    seen.append(frame)
                if len(seen) == count:
                    return seen
    raise AssertionError(f"the stream ended after {seen}")


async def test_rooms_stream_from_render_position_misses_nothing_and_resumes(
    server: ServerHandle,
) -> None:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as client:
        with anyio.fail_after(WATCHDOG):
            state = await render(client)
            position = str(state["position"])
            assert position.endswith("-0")
            # Published after the render but before the stream opens: still delivered.
            await increment(client, 2)
            await post(client, "hello")
            await increment(client, 3)
            seen = await data_frames(client, 3, after=position)
            events = [orjson.loads(frame["data"]) for frame in seen]
            assert [(e["kind"], e["count"], e["version"]) for e in events] == [
                ("count", 2, 1),
                ("message", None, None),
                ("count", 5, 2),
            ]
            assert events[1]["message"]["text"] == "hello"
            epoch = position.rpartition("-")[0]
            assert [frame["id"] for frame in seen] == [f"{epoch}-{n}" for n in (1, 2, 3)]

            # A reconnect names the last id it saw and gets only what came after.
            await increment(client)
            resumed = await data_frames(client, 1, last=seen[1]["id"], after=position)
            assert resumed[0]["id"] == f"{epoch}-3"
            state = await render(client)
            assert (state["count"], state["version"], state["position"]) == (6, 3, f"{epoch}-4")


@pytest.mark.parametrize("junk", ["abc", "17", "-1", "x-1", "99999999999999999999999"])
async def test_rooms_junk_last_event_id_or_after_gets_a_reset_not_an_error(
    server: ServerHandle, junk: str
) -> None:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as client:
        with anyio.fail_after(WATCHDOG):
            await increment(client)
            position = str((await render(client))["position"])
            for options in ({"last": junk}, {"after": junk}):
                (reset,) = await data_frames(client, 1, **options)
                assert reset["event"] == "reset"
                assert orjson.loads(reset["data"]) == {"position": position}


async def test_rooms_state_outlives_the_app_and_a_new_app_resets_old_positions(
    tmp_path: Path,
) -> None:
    database = tmp_path / "rooms.db"
    async with httpx.AsyncClient(timeout=10) as client:
        with anyio.fail_after(WATCHDOG):
            with running_server(build_api(database), graceful_timeout=0.2) as first:
                client.base_url = httpx.URL(first.base_url)
                await increment(client, 4)
                await post(client, "before the restart")
                old = await render(client)
            # A new process (here: a new app and broker) on the same database.
            with running_server(build_api(database), graceful_timeout=0.2) as second:
                client.base_url = httpx.URL(second.base_url)
                new = await render(client)
                assert (new["count"], new["version"]) == (4, 1)
                messages = new["messages"]
                assert isinstance(messages, list)
                assert [m["text"] for m in messages] == ["before the restart"]
                assert new["position"] != old["position"]  # another epoch
                (reset,) = await data_frames(client, 1, last=str(old["position"]))
                assert reset["event"] == "reset"
                assert orjson.loads(reset["data"]) == {"position": new["position"]}
