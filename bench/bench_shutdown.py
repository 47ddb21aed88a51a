"""Shutdown latency with open streams: SIGTERM until every stream is closed and the process exits.

Two scenarios, all on 127.0.0.1, only processes started here signalled (by PID):

- hypercorn serving ``--streams`` (default 1,000) idle streams, as ``bench/streams_server.py``
  serves them: Belay (``streams.shutdown_trigger`` closes them) side by side with
  sse-starlette (hypercorn waits out its 1 s graceful timeout, then cancels them);
- ``belay serve`` with one open streaming action.

Each is repeated ``--rounds`` times (default 3); the median is reported. These
figures were test assertions once (shutdown < 1 s, ``belay serve`` < 2 s); on
a shared machine they belong here, measured side by side.

    .venv/bin/python bench/bench_shutdown.py [--streams 1000] [--rounds 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from idle_streams import open_idle
from streams_server import VARIANTS

REPO = Path(__file__).resolve().parents[1]
SCRIPT = Path(__file__).with_name("streams_server.py")
TIMEOUT = 60.0  # seconds: the bound on every wait here
MARKER = b"data: "

SERVE_APP = """
import asyncio
from collections.abc import AsyncIterator

from pydantic import BaseModel
from rpc import ControllerBase, RPCApp, passthrough


class Tick(BaseModel):
    n: int


class Page(BaseModel):
    title: str


class PageController(ControllerBase):
    async def render(self) -> Page:
        return Page(title="bench")

    @passthrough
    async def ticks(self) -> AsyncIterator[Tick]:
        n = 0
        while True:
            yield Tick(n=n)
            n += 1
            await asyncio.sleep(0.05)


app = RPCApp(controllers=[PageController()])
"""


def stop_process(process: subprocess.Popen[bytes]) -> float:
    """SIGTERM by PID; the seconds until it exited (killed past ``TIMEOUT``)."""
    started = time.perf_counter()
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise
    return time.perf_counter() - started


async def until_eof(reader: asyncio.StreamReader) -> None:
    while await reader.read(65536):
        pass


def start_server(variant: str) -> tuple[subprocess.Popen[bytes], int]:
    """One ``streams_server.py`` process and the port it listens on."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    args = [sys.executable, str(SCRIPT), variant]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, env=env)
    assert process.stdout is not None
    return process, int(process.stdout.readline())


async def shutdown_round(variant: str, count: int) -> tuple[float, float]:
    """(seconds until every client saw its stream end, seconds until the process exited)."""
    process, port = start_server(variant)
    try:
        request = VARIANTS[variant]().idle_request
        gate = asyncio.Semaphore(100)
        async with asyncio.timeout(TIMEOUT):
            opened = await asyncio.gather(
                *(open_idle(port, request, gate, marker=MARKER) for _ in range(count))
            )
        ends = asyncio.gather(*(until_eof(reader) for reader, _ in opened))
        started = time.perf_counter()
        exit_s = await asyncio.to_thread(stop_process, process)
        async with asyncio.timeout(TIMEOUT):
            await ends
        closed_s = time.perf_counter() - started
        return closed_s, exit_s
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def connect_stream(port: int) -> socket.socket | None:
    """A ``ticks`` stream that has delivered its first event, or None if not serving yet."""
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    except OSError:
        return None
    path = "/internal/api/PageController/ticks"
    sock.sendall(f"POST {path} HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\n\r\n".encode())
    received = b""
    while MARKER not in received:
        chunk = sock.recv(4096)
        if not chunk:
            sock.close()
            return None
        received += chunk
    return sock


def serve_round(root: Path) -> float:
    """Seconds from SIGTERM to ``belay serve`` exiting while one stream is open."""
    port = free_port()
    args = [sys.executable, "-m", "devserver.cli", "serve", "app:app"]
    args += ["--bind", f"127.0.0.1:{port}"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        args, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    stream = None
    try:
        deadline = time.monotonic() + TIMEOUT
        while (stream := connect_stream(port)) is None:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("belay serve did not serve the stream")
            time.sleep(0.05)
        return stop_process(process)
    finally:
        if stream is not None:
            stream.close()
        if process.poll() is None:
            process.kill()
            process.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None, help="also write results here")
    args = parser.parse_args()
    rounds = max(1, args.rounds)
    results: dict[str, dict[str, float]] = {}
    for variant in ("belay", "sse-starlette"):
        figures = [asyncio.run(shutdown_round(variant, args.streams)) for _ in range(rounds)]
        closed = statistics.median(f[0] for f in figures)
        exited = statistics.median(f[1] for f in figures)
        results[variant] = {"closed_s": closed, "exit_s": exited}
        print(
            f"{variant:14} {args.streams} open streams: all closed {closed:.3f} s, "
            f"process exit {exited:.3f} s (median of {rounds})"
        )
    with tempfile.TemporaryDirectory(prefix="belay-bench-") as tmp:
        root = Path(tmp)
        (root / "app.py").write_text(SERVE_APP)
        serve = statistics.median(serve_round(root) for _ in range(rounds))
    results["belay serve"] = {"exit_s": serve}
    print(f"belay serve    1 open stream: process exit {serve:.3f} s (median of {rounds})")
    checks = {
        "streams closed < 1 s": results["belay"]["closed_s"] < 1.0,
        "belay serve exits < 2 s": serve < 2.0,
    }
    for name, ok in checks.items():
        print(f"{'PASS' if ok else 'FAIL'}  {name}")
    if args.json is not None:
        payload = {"streams": args.streams, "results": results, "checks": checks}
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
