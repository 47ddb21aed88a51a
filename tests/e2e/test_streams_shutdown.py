"""SIGTERM to hypercorn serving 1,000 open Belay streams: all closed, none waited for.

How fast (well under 1 s) is measured by bench/bench_shutdown.py; here a stream left
open would hold shutdown for the whole graceful timeout, far past the watchdog.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.sse_client import SSEConnection, open_stream
from tests.support.processes import terminate

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]


@pytest.fixture
def anyio_backend() -> str:
    # asyncio only: the raw SSE client (tests/e2e/sse_client.py) uses asyncio's stream API.
    return "asyncio"


ROOT = Path(__file__).resolve().parents[2]
STREAMS = 1000
CONNECTING = 100  # the client opens at most this many streams at a time
SHUTDOWN_WATCHDOG = 10.0  # seconds: 10x the shutdown target, far below the graceful timeout


def start_server(report: Path, graceful: float) -> tuple[subprocess.Popen[str], int]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = [sys.executable, "-m", "tests.e2e.stream_server", str(report), str(graceful)]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    assert process.stdout is not None
    return process, int(process.stdout.readline())


async def open_one(port: int, action: str, gate: asyncio.Semaphore) -> SSEConnection:
    async with gate:
        connection = await open_stream(port, action)
        await connection.read_frames(1)
        return connection


@pytest.mark.slow
async def test_streams_shutdown_with_1000_open_streams_closes_every_stream(tmp_path: Path) -> None:
    report = tmp_path / "counts.json"
    # graceful_timeout=60: a stream left open would hold shutdown for 60 s.
    process, port = start_server(report, graceful=60)
    connections: list[SSEConnection] = []
    try:
        gate = asyncio.Semaphore(CONNECTING)
        # two thirds blocked in an await, one third sending a tick every 10 ms
        actions = ["flowing" if n % 3 == 0 else "blocked" for n in range(STREAMS)]
        connections = await asyncio.wait_for(
            asyncio.gather(*(open_one(port, action, gate) for action in actions)), 30
        )
        ends = asyncio.gather(*(connection.read_to_end() for connection in connections))
        await asyncio.to_thread(terminate, process, timeout=SHUTDOWN_WATCHDOG)
        await asyncio.wait_for(ends, SHUTDOWN_WATCHDOG)
    finally:
        for connection in connections:
            connection.close()
        if process.poll() is None:
            process.kill()
            process.wait(5)
    counts = json.loads(report.read_text())
    assert counts == {
        "opened": STREAMS,
        "finalised": STREAMS,
        "cleaned": STREAMS,
        "early_cleanups": 0,
        "open": 0,
    }
    for connection in connections:
        assert connection.status == 200
        assert connection.complete  # a clean chunked end, so clients can tell and resume
        assert all(frame.get("event") not in ("end", "error") for frame in connection.frames)
