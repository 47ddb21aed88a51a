"""Streaming sideeffects with ``broadcast=True``: live viewers of the page hear of the change."""

from __future__ import annotations

import contextlib

import anyio
import httpx
import pytest

from tests.e2e.live_viewers import LiveViewer, until
from tests.e2e.progress_apps import PREFIX, ImportLog, build_import_app
from tests.support.server import running_server
from tests.support.sse import iter_frames

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

WATCHDOG = 30.0
PAGE = {"X-Belay-Page": "/rooms/lobby"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # httpx streams against the in-thread hypercorn, as the live e2e tests


async def test_progress_broadcast_reaches_viewers_also_after_the_client_left() -> None:
    log = ImportLog()
    app, controller = build_import_app(log)
    with running_server(app) as server:
        viewer = LiveViewer(server.base_url, "ImportController", "/rooms/lobby", viewer="bob")
        async with (
            httpx.AsyncClient(base_url=server.base_url, timeout=WATCHDOG) as http,
            anyio.create_task_group() as tasks,
        ):
            with anyio.fail_after(WATCHDOG):
                tasks.start_soon(viewer.follow, http)
                await until(lambda: bool(viewer.frames))
                assert viewer.state == {"room": "lobby", "imported": 0, "viewer": "bob"}
                params: dict[str, str | int] = {"room": "lobby", "count": 3}
                url = f"{PREFIX}/import_shared"
                async with (
                    http.stream("POST", url, params=params, headers=PAGE) as response,
                    contextlib.aclosing(iter_frames(response.aiter_bytes())) as frames,
                ):
                    first = await frames.__anext__()
                assert first["data"] == '{"done":1,"total":3}'
                # the importing client has left; the run finishes and is broadcast
                log.gate("lobby").set()
                await until(lambda: viewer.state.get("imported") == 3)
                assert viewer.state["viewer"] == "bob"  # rendered for the viewer
                tasks.cancel_scope.cancel()
    assert controller.rows == {"lobby": 3}
