"""Reload latency: time from saving a file to the first response with the new code.

Runs, on one small Starlette app written to a temp directory and served on
127.0.0.1 only:

- ``belay dev`` (in-place reload),
- ``belay dev`` while a streaming response is open,
- ``belay dev`` restart fallback (a registry that refuses re-definition),
- ``uvicorn --reload`` (its defaults), for comparison.

Each scenario saves ``--edits`` different values (default 7) and polls the app
every millisecond until it answers with the new value. Every loop is bounded in
count and time; only processes started here are signalled, by PID.

    .venv/bin/python bench/bench_reload.py [--edits 7] [--json out.json]

Targets (issue 5): belay p50 <= 80 ms, >= 5x faster than uvicorn --reload,
no slower with an open stream.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable

APP = """
import asyncio

from starlette.applications import Starlette
from starlette.responses import PlainTextResponse, StreamingResponse
from starlette.routing import Route

from benchapp import base, models


async def value(request):
    return PlainTextResponse(base.VALUE)


async def label(request):
    return PlainTextResponse(models.LABEL)


async def stream(request):
    async def ticks():
        while True:
            yield b"data: tick\\n\\n"
            await asyncio.sleep(0.05)

    return StreamingResponse(ticks(), media_type="text/event-stream")


app = Starlette(routes=[Route("/value", value), Route("/label", label), Route("/stream", stream)])
"""

REGISTRY = """
TABLES = set()


def define(name):
    if name in TABLES:
        raise RuntimeError(f"Table {name!r} is already defined")
    TABLES.add(name)
"""


def models_source(label: str) -> str:
    return f"from benchapp.registry import define\n\ndefine('users')\nLABEL = {label!r}\n"


def write_project(root: Path) -> None:
    package = root / "benchapp"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "base.py").write_text("VALUE = 'start'\n")
    (package / "registry.py").write_text(REGISTRY)
    (package / "models.py").write_text(models_source("start"))
    (package / "app.py").write_text(APP)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(port: int, path: str) -> str | None:
    """One GET on a fresh connection; None when the server does not answer."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1.0)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read().decode()
        return body if response.status == 200 else None
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()


def wait_for(port: int, path: str, expected: str, timeout: float) -> float:
    """Poll every ~1 ms until ``path`` answers ``expected``; the moment it did."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if get(port, path) == expected:
            return time.perf_counter()
        time.sleep(0.001)
    raise TimeoutError(f"{path} never answered {expected!r} within {timeout}s")


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rpartition(")")[2].split()[1]) == pid:
                found.append(int(entry.name))
    return found


@contextmanager
def server(cmd: list[str], cwd: Path, port_pattern: str | None) -> Iterator[tuple[int, list[str]]]:
    """Start a server; yield (port, its output lines); stop it and every child it started."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines: list[str] = []
    reader = threading.Thread(
        target=lambda: lines.extend(line.rstrip() for line in proc.stdout or ()), daemon=True
    )
    reader.start()
    try:
        port = int(cmd[cmd.index("--port") + 1])
        if port_pattern is not None:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not port:
                for line in list(lines):
                    match = re.search(port_pattern, line)
                    if match:
                        port = int(match.group(1))
                time.sleep(0.01)
        wait_for(port, "/value", "start", timeout=30)
        yield port, lines
    finally:
        family = children_of(proc.pid)
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        for pid in family:  # our own children, in case the parent left one behind
            with suppress(OSError):
                if "python" in Path(f"/proc/{pid}/cmdline").read_text():
                    os.kill(pid, signal.SIGKILL)


def measure(
    server: tuple[int, list[str]],
    edit: Callable[[str], None],
    path: str,
    *,
    edits: int,
    tag: str,
    settle: float,
) -> list[float]:
    """Save ``edits`` new values; the ms from each save to the first new response."""
    port, output = server
    times = []
    for index in range(edits):
        value = f"{tag}{index}"
        time.sleep(settle)
        seen = len(output)
        saved = time.perf_counter()
        edit(value)
        answered = wait_for(port, path, value, timeout=15)
        times.append((answered - saved) * 1000)
        if times[-1] > 1000:  # an outlier: show what the server said meanwhile
            said = output[seen:][-15:]
            print(f"  slow sample {times[-1]:.0f} ms; server output:", *said, sep="\n  ")
    return times


def summarize(name: str, times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    stats = {
        "median_ms": statistics.median(ordered),
        "p90_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))],
        "min_ms": ordered[0],
        "max_ms": ordered[-1],
        "n": len(ordered),
    }
    print(
        f"{name:<34} median {stats['median_ms']:7.1f} ms   p90 {stats['p90_ms']:7.1f}"
        f"   min {stats['min_ms']:7.1f}   max {stats['max_ms']:7.1f}   (n={len(ordered)})",
        flush=True,
    )
    return stats


def hold_stream(port: int, stop: threading.Event) -> threading.Thread:
    """Keep one streaming response open (reading it) until ``stop``."""

    def run() -> None:
        while not stop.is_set():
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            try:
                conn.request("GET", "/stream")
                response = conn.getresponse()
                while not stop.is_set() and response.read1(1024):
                    pass
            except (OSError, http.client.HTTPException):
                time.sleep(0.01)  # the app process was replaced: reconnect
            finally:
                conn.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--edits", type=int, default=7)
    parser.add_argument("--json", type=Path, default=None, help="also write results here")
    parser.add_argument("--skip-uvicorn", action="store_true")
    args = parser.parse_args()
    edits = max(5, args.edits)
    results: dict[str, dict[str, float]] = {}

    with tempfile.TemporaryDirectory(prefix="belay-bench-") as tmp:
        root = Path(tmp)
        write_project(root)
        base = root / "benchapp" / "base.py"
        models = root / "benchapp" / "models.py"

        def edit_base(value: str) -> None:
            base.write_text(f"VALUE = {value!r}\n")

        def edit_models(value: str) -> None:
            models.write_text(models_source(value))

        belay = [PYTHON, "-m", "devserver.cli", "dev", "benchapp.app:app", "--port", "0"]
        with server(belay, root, r"serving \S+ on http://127\.0\.0\.1:(\d+)") as running:
            port = running[0]
            times = measure(running, edit_base, "/value", edits=edits, tag="a", settle=0.2)
            results["belay dev"] = summarize("belay dev (in-place reload)", times)
            stop = threading.Event()
            hold_stream(port, stop)
            time.sleep(0.2)
            times = measure(running, edit_base, "/value", edits=edits, tag="b", settle=0.2)
            results["belay dev + open stream"] = summarize("belay dev + open stream", times)
            times = measure(running, edit_models, "/label", edits=edits, tag="r", settle=1.5)
            results["belay dev restart"] = summarize("belay dev restart (+ open stream)", times)
            stop.set()

        edit_base("start")
        if not args.skip_uvicorn:
            uvicorn = [PYTHON, "-m", "uvicorn", "benchapp.app:app", "--reload"]
            uvicorn += ["--host", "127.0.0.1", "--port", str(free_port())]
            with server(uvicorn, root, None) as running:
                times = measure(running, edit_base, "/value", edits=edits, tag="u", settle=0.5)
                results["uvicorn --reload"] = summarize("uvicorn --reload", times)

    return report(results, args.json)


def report(results: dict[str, dict[str, float]], out: Path | None) -> int:
    belay = results["belay dev"]["median_ms"]
    checks = {"belay dev p50 <= 80 ms": belay <= 80}
    streamed = results["belay dev + open stream"]["median_ms"]
    checks["no slower with an open stream (within 20% or 5 ms)"] = streamed <= max(
        belay * 1.2, belay + 5
    )
    if "uvicorn --reload" in results:
        ratio = results["uvicorn --reload"]["median_ms"] / belay
        print(f"speed-up over uvicorn --reload: {ratio:.1f}x")
        checks[">= 5x faster than uvicorn --reload"] = ratio >= 5
    for name, ok in checks.items():
        print(f"{'PASS' if ok else 'FAIL'}  {name}")
    if out is not None:
        out.write_text(json.dumps({"results": results, "checks": checks}, indent=2))
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
