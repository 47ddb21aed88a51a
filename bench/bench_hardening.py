"""Hardening figures: a fixed-seed fuzz run and 64 stalled 1 MB request bodies.

Run: ``.venv/bin/python bench/bench_hardening.py [--quick] [--json PATH]``

Both measure a real hypercorn serving ``tests/e2e/hardening_apps.py`` in its
own process (so its memory is its own), side by side with the same app
without a body timeout (``body_timeout=None``, Belay before the limit existed):

- fuzz: seeded random requests, malformed framing included (``tests/support/fuzz.py``),
  over raw sockets; counts answers, 5xx, tracebacks and requests unanswered
  after the watchdog.
- slow bodies: 64 clients each send ~1 MB of a declared 1 MiB action body,
  then stop. Server RSS before, while they stall, and after they are dropped
  (or when the wait ends), and how long until the server closed them.

All traffic goes to 127.0.0.1; every loop is bounded in count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import anyio

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.fuzz import FuzzRequests, exchange  # noqa: E402

STALLED_CLIENTS = 64
STALLED_BYTES = 1_000_000
DECLARED = 1024 * 1024
BODY_TIMEOUT = 2.0
FUZZ_BODY_TIMEOUT = 1.0
FUZZ_WATCHDOG = 5.0
BODY_WAIT_CAP = 15.0  # seconds the slow-body run waits for the server to drop clients
HEAD = (
    b"POST /internal/api/BoardController/add?board=x HTTP/1.1\r\nhost: 127.0.0.1\r\n"
    b"content-type: application/json\r\ncontent-length: %d\r\n\r\n" % DECLARED
)


def serve(body_timeout: str) -> None:
    """Child mode: serve the hardening app on a free port, print it, run until SIGTERM."""
    from hypercorn.asyncio import serve as hypercorn_serve
    from hypercorn.config import Config

    from streams import shutdown_trigger
    from tests.e2e.hardening_apps import build_hardening_app

    timeout = None if body_timeout == "none" else float(body_timeout)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(2048)
    print(sock.getsockname()[1], flush=True)
    config = Config()
    config.bind = [f"fd://{sock.detach()}"]
    config.accesslog = None
    config.errorlog = None
    app = build_hardening_app(body_timeout=timeout)
    asyncio.run(hypercorn_serve(app, config, shutdown_trigger=shutdown_trigger()))  # type: ignore[arg-type]


class Server:
    """The hardening app in a child process."""

    def __init__(self, body_timeout: float | None) -> None:
        arg = "none" if body_timeout is None else str(body_timeout)
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--serve", arg],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            cwd=ROOT,
        )
        assert self.process.stdout is not None
        self.port = int(self.process.stdout.readline())

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


async def fuzz(port: int, count: int) -> dict[str, Any]:
    source = FuzzRequests(seed=16)
    requests = [source.draw() for _ in range(count)]
    statuses: Counter[int] = Counter()
    found = {"unanswered": 0, "5xx": 0, "traceback": 0}
    limit = anyio.Semaphore(256)

    async def send(index: int) -> None:
        request = requests[index]
        async with limit:
            with anyio.move_on_after(FUZZ_WATCHDOG) as watchdog:
                answer = await exchange(port, request.data, head=request.head)
        if watchdog.cancelled_caught:
            found["unanswered"] += 1
            return
        statuses[answer.status] += 1
        found["5xx"] += answer.status >= 500
        found["traceback"] += b"Traceback" in answer.body

    started = time.perf_counter()
    async with anyio.create_task_group() as tasks:
        for index in range(count):
            tasks.start_soon(send, index)
    elapsed = time.perf_counter() - started
    return {
        "requests": count,
        **found,
        "seconds": round(elapsed, 2),
        "statuses": dict(sorted(statuses.items())),
    }


def stalled_bodies(server: Server) -> dict[str, Any]:
    before = server.rss_mb()
    sockets = []
    for _ in range(STALLED_CLIENTS):
        sock = socket.create_connection(("127.0.0.1", server.port))
        sock.sendall(HEAD + b'{"text": "' + b"x" * (STALLED_BYTES - 10))
        sock.setblocking(False)
        sockets.append(sock)
    sent_at = time.perf_counter()
    peak = before
    open_socks = set(range(len(sockets)))
    dropped_after: float | None = None
    while open_socks and time.perf_counter() - sent_at < BODY_WAIT_CAP:
        peak = max(peak, server.rss_mb())
        for index in list(open_socks):
            try:
                data = sockets[index].recv(65536)
            except BlockingIOError:
                continue
            except ConnectionError:
                data = b""
            if not data:
                open_socks.discard(index)
        time.sleep(0.05)
    if not open_socks:
        dropped_after = time.perf_counter() - sent_at
    time.sleep(0.5)  # the server finishes tearing the connections down
    after = server.rss_mb()
    for sock in sockets:
        sock.close()
    return {
        "rss_before_mb": round(before, 1),
        "rss_peak_mb": round(peak, 1),
        "rss_after_mb": round(after, 1),
        "dropped_after_s": None if dropped_after is None else round(dropped_after, 2),
        "still_open": len(open_socks),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="fewer fuzz requests")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return 0
    count = 500 if args.quick else 2000
    results: dict[str, Any] = {}
    for label, fuzz_timeout, body_timeout in (
        ("belay", FUZZ_BODY_TIMEOUT, BODY_TIMEOUT),
        ("no body timeout", None, None),
    ):
        server = Server(fuzz_timeout)
        try:
            fuzzed = anyio.run(fuzz, server.port, count)
        finally:
            server.stop()
        server = Server(body_timeout)
        try:
            slow = stalled_bodies(server)
        finally:
            server.stop()
        results[label] = {"fuzz": fuzzed, "slow_bodies": slow}
    print(f"fuzz: {count} requests (seed 16), watchdog {FUZZ_WATCHDOG:g} s")
    for label, result in results.items():
        f = result["fuzz"]
        print(
            f"  {label:16} unanswered {f['unanswered']:4}  5xx {f['5xx']}  "
            f"tracebacks {f['traceback']}  {f['seconds']:.1f} s  {f['statuses']}"
        )
    print(
        f"slow bodies: {STALLED_CLIENTS} clients x {STALLED_BYTES:,} of {DECLARED:,} bytes, "
        f"body_timeout={BODY_TIMEOUT:g} s"
    )
    for label, result in results.items():
        s = result["slow_bodies"]
        dropped = (
            f"dropped after {s['dropped_after_s']:.2f} s"
            if s["dropped_after_s"] is not None
            else f"{s['still_open']} still open after {BODY_WAIT_CAP:g} s"
        )
        print(
            f"  {label:16} RSS {s['rss_before_mb']:.0f} -> {s['rss_peak_mb']:.0f} (stalled)"
            f" -> {s['rss_after_mb']:.0f} MB; {dropped}"
        )
    if args.json:
        settings = {"body_timeout": BODY_TIMEOUT, "watchdog": FUZZ_WATCHDOG, "cap": BODY_WAIT_CAP}
        args.json.write_text(json.dumps({**results, "settings": settings}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
