"""Streaming sideeffects over a real hypercorn on 127.0.0.1: items, state, errors, disconnects."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx
import orjson
import pytest

from tests.e2e.progress_apps import PREFIX, ImportLog, build_import_app
from tests.support.polling import poll_until
from tests.support.server import ServerHandle, running_server, start_server
from tests.support.sse import Frame, iter_frames, parse_frames

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

WATCHDOG = 10.0
PAGE = {"X-Belay-Page": "/rooms/lobby"}
ROWS = f"{PREFIX}/import_rows"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # httpx against a server thread; the server's own loop is asyncio


@asynccontextmanager
async def served(
    log: ImportLog | None = None, *, max_streams: int | None = None
) -> AsyncIterator[tuple[ServerHandle, Any]]:
    app, controller = build_import_app(log, max_streams=max_streams)
    with running_server(app) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=WATCHDOG) as http:
            yield server, (http, controller, app)


def frames(response: httpx.Response) -> list[Frame]:
    return events(response.content)


def events(raw: bytes) -> list[Frame]:
    """The frames of a whole SSE body, pings left out."""
    return [f for f in parse_frames(raw) if "comment" not in f]


def body(frame: Frame) -> Any:
    return orjson.loads(frame["data"])


async def read_first_frame(response: httpx.Response) -> Frame:
    """The first data frame; the rest of the response is dropped (the client leaves)."""
    async with contextlib.aclosing(iter_frames(response.aiter_bytes())) as frames:
        async for frame in frames:
            if "data" in frame:
                return frame
    raise AssertionError("the stream ended before a data frame")


async def test_progress_items_then_state_then_end() -> None:
    async with served() as (_, (http, controller, _app)):
        response = await http.post(
            ROWS,
            params={"room": "lobby", "count": 3},
            headers={**PAGE, "X-Viewer": "ada"},
        )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    got = frames(response)
    assert [body(f) for f in got[:3]] == [{"done": n, "total": 3} for n in (1, 2, 3)]
    assert all("event" not in f for f in got[:3])
    assert got[3]["event"] == "state"
    # the page located before the action ran, rendered with this request's own Depends
    state = {"room": "lobby", "imported": 3, "viewer": "ada"}
    assert body(got[3]) == {"sideeffect": state, "passthrough": None}
    assert got[4]["event"] == "end"
    assert len(got) == 5
    assert controller.rows == {"lobby": 3}


@pytest.mark.parametrize("action", ["import_counted", "import_sliced"])
async def test_progress_state_has_only_the_reload_fields(action: str) -> None:
    async with served() as (_, (http, _controller, _app)):
        response = await http.post(
            f"{PREFIX}/{action}", params={"room": "lobby", "count": 2}, headers=PAGE
        )
    got = frames(response)
    assert [f.get("event") for f in got] == [None, None, "state", "end"]
    assert body(got[2]) == {"sideeffect": {"imported": 2}, "passthrough": None}


async def test_progress_error_after_items_sends_the_state_before_the_error() -> None:
    async with served() as (_, (http, controller, _app)):
        response = await http.post(
            ROWS, params={"room": "lobby", "count": 5, "fail_at": 3}, headers=PAGE
        )
    assert response.status_code == 200
    got = frames(response)
    assert [f.get("event") for f in got] == [None, None, "state", "error"]
    # two rows went in before the failure: the page is told so, then of the error
    assert body(got[2])["sideeffect"]["imported"] == 2
    error = body(got[3])
    assert error["status"] == 409
    assert error["type"] == "ImportRefused"
    assert error["body"] == {"detail": "import refused", "at": 3}
    assert controller.rows == {"lobby": 2}


async def test_progress_error_before_the_first_item_is_a_plain_http_error() -> None:
    async with served() as (_, (http, controller, _app)):
        response = await http.post(
            ROWS, params={"room": "lobby", "count": 5, "fail_at": 1}, headers=PAGE
        )
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"detail": "import refused", "at": 1}
    assert controller.rows == {}


async def test_progress_error_after_headers_without_items_still_sends_the_state() -> None:
    log = ImportLog()
    async with served(log) as (_, (http, controller, _app)):
        url = f"{PREFIX}/quiet_fail"
        async with http.stream("POST", url, params={"room": "lobby"}, headers=PAGE) as response:
            # a silent action gets its 200 and a ping after open_timeout: the headers are out
            assert response.status_code == 200
            log.gate("lobby").set()
            raw = b"".join([chunk async for chunk in response.aiter_bytes()])
    got = events(raw)
    assert [f.get("event") for f in got] == ["state", "error"]
    assert body(got[0])["sideeffect"]["imported"] == 1
    assert body(got[1])["status"] == 409
    assert controller.rows == {"lobby": 1}


async def test_progress_bad_page_is_refused_before_the_action_runs() -> None:
    async with served() as (_, (http, controller, _app)):
        response = await http.post(
            ROWS,
            params={"room": "lobby", "count": 2},
            headers={"X-Belay-Page": "/elsewhere/lobby"},
        )
    assert response.status_code == 400
    assert "/rooms/{room}" in response.json()["detail"]
    assert controller.rows == {}


async def test_progress_finish_runs_to_the_end_after_the_client_leaves() -> None:
    log = ImportLog()
    async with served(log) as (_, (http, controller, app)):
        params = {"room": "lobby", "count": 3}
        async with http.stream("POST", f"{PREFIX}/held", params=params, headers=PAGE) as response:
            assert body(await read_first_frame(response)) == {"done": 1, "total": 3}
        # the client is gone (its stream closed on the server) while the action is held
        await poll_until(
            lambda: app.stream_registry.open_count == 0, within=WATCHDOG, what="the stream to close"
        )
        assert log.sessions["lobby"] == []
        log.gate("lobby").set()
        await poll_until(
            lambda: "cleanup" in log.sessions["lobby"], within=WATCHDOG, what="the request cleanup"
        )
        assert log.sessions["lobby"] == ["generator finished", "generator closed", "cleanup"]
        assert controller.rows == {"lobby": 3}
        # the server is fine afterwards
        rendered = await http.get(f"{PREFIX}/render", headers=PAGE)
        assert rendered.json()["imported"] == 3


@pytest.mark.parametrize("action", ["import_rows", "import_sync"])
async def test_progress_refused_stream_never_runs_the_action(action: str) -> None:
    log = ImportLog()
    async with served(log, max_streams=1) as (_, (http, controller, _app)):
        params = {"room": "held", "count": 2}
        async with http.stream("POST", f"{PREFIX}/held", params=params, headers=PAGE) as first:
            chunks = first.aiter_bytes()  # kept: an abandoned iterator closes the response
            raw = b""
            while b"\n\n" not in raw:
                raw += await chunks.__anext__()
            assert raw == b'data: {"done":1,"total":2}\n\n'
            refused = await http.post(
                f"{PREFIX}/{action}", params={"room": "lobby", "count": 3}, headers=PAGE
            )
            assert refused.status_code == 503
            assert "max_streams=1" in refused.json()["detail"]
            log.gate("held").set()
        await poll_until(
            lambda: "cleanup" in log.sessions["held"],
            within=WATCHDOG,
            what="the held run's cleanup",
        )
    assert "lobby" not in controller.rows  # neither the finish nor the thread path ran
    assert log.thread_ids == []


async def test_progress_cancel_closes_the_generator_when_the_client_leaves() -> None:
    log = ImportLog()
    async with served(log) as (_, (http, controller, _app)):
        params = {"room": "lobby", "count": 3}
        url = f"{PREFIX}/held_cancel"
        async with http.stream("POST", url, params=params, headers=PAGE) as response:
            assert body(await read_first_frame(response)) == {"done": 1, "total": 3}
        await poll_until(
            lambda: "cleanup" in log.sessions["lobby"], within=WATCHDOG, what="the request cleanup"
        )
        # closed inside its wait, before the gate opened: the rest never ran
        assert log.sessions["lobby"] == ["generator closed", "cleanup"]
        assert controller.rows == {"lobby": 1}


async def test_progress_sync_generator_runs_in_a_worker_thread_loop_stays_responsive() -> None:
    log = ImportLog()
    async with served(log) as (server, (http, controller, _app)):
        params = {"room": "lobby", "count": 3}
        url = f"{PREFIX}/import_sync"
        async with http.stream("POST", url, params=params, headers=PAGE) as response:
            chunks = response.aiter_bytes()
            buffer = b""
            while b"\n\n" not in buffer:
                buffer += await chunks.__anext__()
            # the generator now blocks its thread on the gate: the loop still answers
            await poll_until(
                lambda: len(log.thread_ids) == 2, within=WATCHDOG, what="the second step to start"
            )
            rendered = await http.get(f"{PREFIX}/render", headers=PAGE)
            assert rendered.json()["imported"] == 1
            log.gate("lobby").set()
            async for chunk in chunks:
                buffer += chunk
        got = events(buffer)
        assert [f.get("event") for f in got] == [None, None, None, "state", "end"]
        assert body(got[3])["sideeffect"]["imported"] == 3
        assert controller.rows == {"lobby": 3}
        assert server._thread.ident not in log.thread_ids


def refuses_connections(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return True
    return False


async def test_progress_finish_run_completes_within_a_graceful_shutdown() -> None:
    log = ImportLog()
    app, controller = build_import_app(log)
    server = start_server(app, graceful_timeout=5.0)
    stopper = threading.Thread(target=server.stop)
    try:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=WATCHDOG) as http:
            params: dict[str, str | int] = {"room": "lobby", "count": 3}
            async with http.stream("POST", f"{PREFIX}/held", params=params, headers=PAGE) as sse:
                chunks = sse.aiter_bytes()
                raw = b""
                while b"\n\n" not in raw:
                    raw += await chunks.__anext__()
                stopper.start()  # hypercorn stops listening, then waits for open requests
                await poll_until(
                    lambda: refuses_connections(server.port),
                    within=WATCHDOG,
                    what="the shutdown to start",
                )
                log.gate("lobby").set()
                raw += b"".join([chunk async for chunk in chunks])
    finally:
        log.gate("lobby").set()
        if stopper.ident is None:
            stopper.start()
        await anyio.to_thread.run_sync(stopper.join)
    got = events(raw)
    assert [f.get("event") for f in got] == [None, None, None, "state", "end"]
    assert body(got[3])["sideeffect"]["imported"] == 3
    assert log.sessions["lobby"] == ["generator finished", "generator closed", "cleanup"]
    assert controller.rows == {"lobby": 3}


async def test_progress_many_concurrent_runs_half_abandoned_all_finish() -> None:
    """50 slow runs at once, every other client leaving after its first item: all finish."""
    clients, rows = 50, 20
    async with served() as (_, (http, controller, app)):

        async def one(n: int) -> None:
            params = {"room": f"r{n}", "count": rows, "pace": 0.01}
            page = {"X-Belay-Page": f"/rooms/r{n}"}
            async with http.stream("POST", ROWS, params=params, headers=page) as response:
                if n % 2:
                    await read_first_frame(response)  # and leave
                    return
                raw = b"".join([chunk async for chunk in response.aiter_bytes()])
            got = events(raw)
            assert [f.get("event") for f in got[-2:]] == ["state", "end"]
            assert body(got[-2])["sideeffect"]["imported"] == rows

        with anyio.fail_after(WATCHDOG * 3):
            async with anyio.create_task_group() as tasks:
                for n in range(clients):
                    tasks.start_soon(one, n)
        expected = {f"r{n}": rows for n in range(clients)}
        await poll_until(
            lambda: controller.rows == expected, within=WATCHDOG, what="every run to finish"
        )
        await poll_until(
            lambda: app.stream_registry.open_count == 0,
            within=WATCHDOG,
            what="every stream to close",
        )
