"""A live viewer for the tests: reads ``GET .../live`` and keeps the merged state."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import anyio
import httpx
import orjson

from tests.support.sse import iter_frames

POLL = 0.01  # seconds between checks of a polled condition (never a timing assertion)


class LiveViewer:
    """One viewer: every data frame, the merged state, and any error event."""

    def __init__(self, base: str, controller: str, page: str, *, viewer: str = "") -> None:
        self.url = f"{base}/internal/api/{controller}/live"
        self.headers = {"x-belay-page": page}
        if viewer:
            self.headers["x-viewer"] = viewer
        self.frames: list[dict[str, Any]] = []
        self.state: dict[str, Any] = {}
        self.errors: list[dict[str, Any]] = []
        self.status = 0
        self.ended = False

    async def follow(self, client: httpx.AsyncClient) -> None:
        """Read the stream until it ends (run it in a task; cancel to disconnect)."""
        async with client.stream("GET", self.url, headers=self.headers) as response:
            self.status = response.status_code
            if response.status_code != 200:
                self.errors.append(orjson.loads(await response.aread()))
                self.ended = True
                return
            async with contextlib.aclosing(iter_frames(response.aiter_bytes())) as frames:
                async for frame in frames:
                    if frame.get("event") == "error":
                        self.errors.append(orjson.loads(frame["data"]))
                    elif "data" in frame and "event" not in frame:
                        data = orjson.loads(frame["data"])
                        self.state = data if not self.frames else {**self.state, **data}
                        self.frames.append(data)
        self.ended = True


async def until(condition: Callable[[], bool], *, watchdog: float = 30.0) -> None:
    """Poll ``condition`` until it holds; fail after ``watchdog`` seconds (a hang guard)."""
    with anyio.fail_after(watchdog):
        while not condition():  # noqa: ASYNC110 (state read from another connection)
            await anyio.sleep(POLL)
