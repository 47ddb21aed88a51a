"""Shutdown under a real hypercorn process: SIGTERM with open streams."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.processes import terminate

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]


@pytest.fixture
def anyio_backend() -> str:
    # asyncio only: the client opens 1,000 raw connections with asyncio's stream API.
    return "asyncio"


SERVER = Path(__file__).with_name("shutdown_server.py")
SHUTDOWN_WATCHDOG = 10.0  # seconds: 10x the shutdown target, far below the graceful timeout
ROOT = Path(__file__).parents[2]


def start_server(report: Path, mode: str, graceful: float) -> tuple[subprocess.Popen[str], int]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = [sys.executable, str(SERVER), str(report), mode, str(graceful)]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    assert process.stdout is not None
    port = int(process.stdout.readline())
    return process, port


class Client:
    """One raw HTTP/1.1 stream connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.received = b""

    async def read_until_first_event(self) -> None:
        while b"data: " not in self.received:
            chunk = await self.reader.read(65536)
            assert chunk, "connection closed before the first event"
            self.received += chunk

    async def read_to_eof(self) -> None:
        while chunk := await self.reader.read(65536):
            self.received += chunk
        self.writer.close()


async def open_stream(port: int, path: str, gate: asyncio.Semaphore) -> Client:
    async with gate:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(f"GET {path} HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n".encode())
        client = Client(reader, writer)
        await client.read_until_first_event()
        return client


async def open_streams(port: int, count: int) -> list[Client]:
    gate = asyncio.Semaphore(100)
    paths = ["/ticking" if n % 3 == 0 else "/blocked" for n in range(count)]
    return list(
        await asyncio.wait_for(
            asyncio.gather(*(open_stream(port, path, gate) for path in paths)), 30
        )
    )


async def test_shutdown_with_1000_open_streams_under_hypercorn(tmp_path: Path) -> None:
    report = tmp_path / "counts.json"
    # graceful_timeout=60: a stream left open would hold shutdown for 60 s, past the
    # watchdog. How fast shutdown is (well under 1 s) is bench/bench_shutdown.py's figure.
    process, port = start_server(report, "trigger", graceful=60)
    try:
        clients = await open_streams(port, 1000)
        eofs = asyncio.gather(*(client.read_to_eof() for client in clients))
        await asyncio.to_thread(terminate, process, timeout=SHUTDOWN_WATCHDOG)
        await asyncio.wait_for(eofs, SHUTDOWN_WATCHDOG)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    counts = json.loads(report.read_text())
    assert counts == {"opened": 1000, "finally": 1000, "on_close": 1000}
    assert all(b"event: end" not in client.received for client in clients)
    assert all(client.received.endswith(b"0\r\n\r\n") for client in clients)  # clean chunked end


async def test_shutdown_without_trigger_waits_for_graceful_timeout(tmp_path: Path) -> None:
    # The finding behind shutdown_trigger: hypercorn tells open streams nothing,
    # waits its whole graceful_timeout, then cancels them (finally still runs).
    report = tmp_path / "counts.json"
    process, port = start_server(report, "plain", graceful=0.6)
    try:
        clients = await open_streams(port, 20)
        elapsed = await asyncio.to_thread(terminate, process)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    for client in clients:
        client.writer.close()
    counts = json.loads(report.read_text())
    assert elapsed >= 0.6  # hypercorn waited out its graceful timeout (load only adds)
    assert counts == {"opened": 20, "finally": 20, "on_close": 20}
