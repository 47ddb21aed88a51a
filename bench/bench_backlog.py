"""Reconnect storm: a burst of 1,000 connects to ``belay serve``, by listen backlog.

After a restart every open tab reconnects at once. Each connect that finds the
listen queue full has its SYN dropped, and the client's kernel retries it after
1 s (then 3 s). This benchmark serves Belay's own benchmark app with ``belay
serve --backlog 100`` (hypercorn's default, what ``belay serve`` used before)
and with the default production backlog, side by side in one run, and fires
``--connects`` connections at once, each sending one GET and reading the whole
answer. It reports how many connects took >= 1 s from the start of the burst
(the figure the backlog decides), and the answer times (which also include the
server's own work on 1,000 requests).

Every connection has a deadline; only processes started here are signalled,
by PID; all traffic goes to 127.0.0.1.

    .venv/bin/python bench/bench_backlog.py [--connects 1000] [--rounds 3] [--json out.json]
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
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from devserver.listener import BACKLOG  # noqa: E402

TARGET = "bench.apps.belay_app:app"
PATH = "/internal/api/BenchController/render"
DEADLINE_S = 20.0
SERVE = [sys.executable, "-m", "devserver.cli", "serve"]
REQUEST = f"GET {PATH} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n".encode()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"belay serve exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(
                    f"GET {PATH} HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n".encode()
                )
                if sock.recv(16).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError("belay serve did not answer within 30 s")


async def one_connect(port: int, began: float) -> tuple[float, float]:
    """Seconds from the burst's start until connected, and until the whole answer arrived."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    connected = time.perf_counter() - began
    writer.write(REQUEST)
    await reader.read()  # until the server closes: the whole answer
    writer.close()
    return connected, time.perf_counter() - began


async def burst(port: int, connects: int) -> list[tuple[float, float]]:
    """``connects`` connections opened at once; each one's times (inf: failed)."""
    began = time.perf_counter()

    async def bounded() -> tuple[float, float]:
        try:
            return await asyncio.wait_for(one_connect(port, began), DEADLINE_S)
        except (OSError, TimeoutError):
            return float("inf"), float("inf")

    return list(await asyncio.gather(*(bounded() for _ in range(connects))))


def measure(backlog: int, connects: int) -> dict[str, float]:
    port = free_port()
    process = subprocess.Popen(
        [*SERVE, TARGET, "--bind", f"127.0.0.1:{port}", "--backlog", str(backlog)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_listening(port, process)
        times = asyncio.run(burst(port, connects))
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
    connected = sorted(c for c, _ in times if c != float("inf"))
    answered = sorted(a for _, a in times if a != float("inf"))
    return {
        "connects_delayed_1s": sum(1 for c, _ in times if c >= 1.0),
        "failed": sum(1 for _, a in times if a == float("inf")),
        "connect_max_ms": connected[-1] * 1000 if connected else float("nan"),
        "answer_p50_ms": statistics.median(answered) * 1000 if answered else float("nan"),
        "answer_max_ms": answered[-1] * 1000 if answered else float("nan"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--connects", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    backlogs = {"--backlog 100 (hypercorn default)": 100, f"--backlog {BACKLOG} (default)": BACKLOG}
    rounds: dict[str, list[dict[str, float]]] = {name: [] for name in backlogs}
    for _ in range(args.rounds):  # interleaved, so both see the same machine load
        for name, backlog in backlogs.items():
            rounds[name].append(measure(backlog, args.connects))
    results: dict[str, dict[str, float]] = {}
    print(f"reconnect storm: {args.connects} connects at once, median of {args.rounds} rounds")
    for name, cells in rounds.items():
        results[name] = {key: statistics.median(cell[key] for cell in cells) for key in cells[0]}
        r = results[name]
        print(
            f"  {name:34} connects delayed >= 1 s: {r['connects_delayed_1s']:4.0f}"
            f"  (slowest {r['connect_max_ms']:6.0f} ms)  failed: {r['failed']:.0f}"
            f"  answers p50 {r['answer_p50_ms']:5.0f} ms, max {r['answer_max_ms']:5.0f} ms"
        )
    if args.json:
        payload = {"connects": args.connects, "backlog": BACKLOG, "results": results}
        args.json.write_text(json.dumps(payload))
    return 0


if __name__ == "__main__":
    sys.exit(main())
