"""EventStream under a real hypercorn (in-thread, 127.0.0.1): streams consumed and abandoned."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest

from streams import tracked
from streams.registry import StreamRegistry
from streams.response import EventStream
from streams.settings import ErrorPayload, StreamSettings
from tests.support.polling import poll_until
from tests.support.server import running_server

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]


@pytest.fixture
def anyio_backend() -> str:
    # asyncio only: the test reaches into the in-thread hypercorn's asyncio loop
    # (run_coroutine_threadsafe, all_tasks) and reads with asyncio streams.
    return "asyncio"


class CountingApp:
    """An ASGI app serving ``/count?n=N`` (N tracked events) and ``/forever``."""

    def __init__(self) -> None:
        self.registry = StreamRegistry()
        self.opened = self.finalised = self.cleaned = 0

    async def source(self, path: str, count: int) -> AsyncIterator[object]:
        self.opened += 1
        try:
            for n in range(count):
                yield tracked(n, {"n": n})
            while path == "/forever":
                yield {"n": -1}
                await asyncio.sleep(0.01)
        finally:
            self.finalised += 1

    async def on_close(self) -> None:
        self.cleaned += 1

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await receive()
        count = int(scope["query_string"].decode().partition("=")[2] or 0)
        stream = EventStream(
            self.source(scope["path"], count),
            encode=orjson.dumps,
            render_error=lambda exc: ErrorPayload(500, b'{"detail":"Internal Server Error"}'),
            settings=StreamSettings(ping_interval=1),
            registry=self.registry,
            on_close=self.on_close,
        )
        await stream(scope, receive, send)


async def read_events(port: int, path: str, stop_after: int | None = None) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n".encode())
    received = b""
    try:
        while chunk := await reader.read(65536):
            received += chunk
            if stop_after is not None and received.count(b"data: ") >= stop_after:
                break
            if received.endswith(b"0\r\n\r\n"):
                break
    finally:
        writer.close()
    return received


async def test_hypercorn_streams_consumed_concurrently_end_cleanly() -> None:
    app = CountingApp()
    with running_server(app) as server:
        bodies = await asyncio.wait_for(
            asyncio.gather(*(read_events(server.port, "/count?n=50") for _ in range(200))), 30
        )
    # Each send is one HTTP chunk holding whole frames, so frames are never split.
    assert all(body.count(b"id: ") == 50 for body in bodies)
    assert all(body.count(b"data: ") == 51 for body in bodies)
    assert all(b"event: end\ndata: {}\n\n" in body for body in bodies)
    assert (app.opened, app.finalised, app.cleaned) == (200, 200, 200)


async def test_hypercorn_abandoned_streams_leave_nothing_behind() -> None:
    app = CountingApp()
    with running_server(app) as server:
        tasks_before = await server.task_count()
        for _ in range(10):  # 10 waves of 50 connect/read/disconnect cycles
            await asyncio.wait_for(
                asyncio.gather(*(read_events(server.port, "/forever", 3) for _ in range(50))), 10
            )
        # disconnects are noticed within a poll
        await poll_until(lambda: app.registry.open_count == 0, within=10, what="streams closed")
        tasks_after = await server.settled_task_count(at_most=tasks_before)
    assert app.registry.open_count == 0
    assert (app.opened, app.finalised, app.cleaned) == (500, 500, 500)
    assert tasks_after <= tasks_before
