"""Belay over a real hypercorn on 127.0.0.1: threads, mounting, module:app, lifespan."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import pytest

from rpc import RPCApp
from tests.rpc.apps import RoomController, build_app
from tests.rpc.mounted_apps import build_fastapi, build_starlette
from tests.support.polling import poll_until, wait_until
from tests.support.ports import free_port
from tests.support.server import running_server

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

API = "/internal/api"
ROOT = Path(__file__).resolve().parents[2]


async def test_rpc_server_sync_action_does_not_block_async_action() -> None:
    controller = RoomController()
    with running_server(RPCApp([controller])) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
            idents: dict[str, int] = {}

            async def gated() -> None:
                response = await http.post(f"{API}/RoomController/gated")
                idents["gated"] = response.json()["passthrough"]

            try:
                with anyio.fail_after(20):
                    async with anyio.create_task_group() as tg:
                        tg.start_soon(gated)
                        await poll_until(controller.entered.is_set, within=20, what="gated")
                        # The sync action holds a worker thread until the gate opens: a
                        # blocked loop could not answer this, and the watchdog would fire.
                        response = await http.post(f"{API}/RoomController/fast")
                        idents["fast"] = response.json()["passthrough"]
                        controller.gate.set()
            finally:
                controller.gate.set()
    assert set(idents) == {"gated", "fast"}
    assert idents["gated"] != idents["fast"]  # the sync one ran off the loop thread


async def test_rpc_server_chunked_body_over_limit_is_413() -> None:
    """A chunked body without Content-Length is refused once it passes the limit,
    while the client is still sending (the rest of the body is never awaited)."""
    head = (
        f"POST {API}/BindingController/create HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    ).encode()
    chunk = b"%x\r\n%s\r\n" % (4096, b"x" * 4096)
    with running_server(build_app(max_body_size=16 * 1024)) as server:
        with anyio.fail_after(10):
            async with await anyio.connect_tcp("127.0.0.1", server.port) as stream:
                await stream.send(head + chunk * 5)  # 20 KiB, never terminated
                reply = b""
                while b"\r\n\r\n" not in reply:
                    reply += await stream.receive()
    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]


async def test_rpc_server_mounted_in_starlette() -> None:
    with running_server(build_starlette()) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
            assert (await http.get("/health")).text == "ok"
            response = await http.post(
                f"/rpc{API}/BindingController/create",
                params={"note": "m"},
                json={"name": "a", "qty": 1},
            )
            assert response.json() == {"passthrough": {"name": "a:m", "qty": 1}}
            render = await http.get(
                f"/rpc{API}/RoomController/render", headers={"x-belay-page": "/rooms/lobby"}
            )
            assert render.json()["room"] == "lobby"
            missing = await http.post(f"/rpc{API}/Nope/x")
            assert missing.status_code == 404
            assert missing.headers["content-type"] == "application/json"
            unmounted = await http.post(f"{API}/BindingController/nobody")
            assert unmounted.status_code == 404


async def test_rpc_server_mounted_in_fastapi_with_lifespan() -> None:
    events: list[str] = []
    with running_server(build_fastapi(events=events)) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
            assert (await http.get("/health")).json() == {"status": "ok"}
            response = await http.post(
                f"/belay{API}/RoomController/increment",
                params={"room": "r1"},
                json={"count": 3},
                headers={"x-belay-page": "/rooms/r1", "origin": server.base_url},
            )
            assert response.status_code == 200, response.text
            assert response.json()["sideeffect"]["count"] == 3
            refused = await http.post(
                f"/belay{API}/BindingController/nobody", headers={"origin": "https://evil.example"}
            )
            assert refused.status_code == 403
    assert events == ["startup", "shutdown"]


@pytest.fixture
def hypercorn_process() -> Iterator[tuple[subprocess.Popen[str], str]]:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hypercorn",
            "tests.rpc.apps:app",
            "--bind",
            f"127.0.0.1:{port}",
            "--graceful-timeout",
            "2",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        yield process, f"http://127.0.0.1:{port}"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(5)
        if process.stdout is not None:
            process.stdout.close()


def _wait_until_serving(base_url: str, process: subprocess.Popen[str]) -> None:
    def serving() -> bool:
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            raise AssertionError(f"hypercorn exited: {output}")
        try:
            httpx.get(f"{base_url}/", timeout=1)
        except httpx.TransportError:
            return False
        return True

    wait_until(serving, 15, "hypercorn to serve")


def test_rpc_server_served_as_module_app_by_hypercorn(
    hypercorn_process: tuple[subprocess.Popen[str], str],
) -> None:
    process, base_url = hypercorn_process
    _wait_until_serving(base_url, process)
    response = httpx.post(
        f"{base_url}{API}/BindingController/create", json={"name": "cli", "qty": 2}, timeout=5
    )
    assert response.json() == {"passthrough": {"name": "cli:none", "qty": 2}}
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=10)
    assert process.returncode == 0, output
    assert "Lifespan" not in output, output  # hypercorn reports a failing lifespan
