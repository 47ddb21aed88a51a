"""Fan-out benchmark: one event to 10,000 idle ``EventStream``s on one event loop.

Run: .venv/bin/python bench/bench_fanout.py [--streams 10000] [--rounds 20]
     [--baseline-root DIR] [--json PATH]

Each stream is a real ``streams.response.EventStream`` served as an ASGI app
with an in-memory peer (its ``send`` notes when a frame is handed over, its
``receive`` waits for the end of the run), fed by a shared in-process source:
a minimal broadcaster that appends the event to every subscriber and wakes it.
A round publishes one event and measures publish -> the last stream's
``http.response.body`` handed to ``send`` (p50/p99 over the rounds), with
Python's garbage collector on, as in a server.

``source only`` is the floor: the same broadcaster drained by plain tasks, no
stream. With ``--baseline-root DIR`` (another checkout, e.g. ``git archive
main | tar -x -C DIR``) the streams of that tree run too, alternating with this
tree's in separate processes of the same run, so the figures sit side by side.
Every loop is bounded in count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
WATCHDOG = 120.0
EVENT = b'{"n":1,"text":"hello"}'


class Subscriber:
    """One subscriber's inbox and the future its reader waits on."""

    __slots__ = ("inbox", "waiter")

    def __init__(self) -> None:
        self.inbox: list[bytes] = []
        self.waiter: asyncio.Future[None] | None = None


class Broadcaster:
    """Shared source: ``publish`` appends to every inbox and wakes its reader."""

    def __init__(self, expected: int) -> None:
        self.subscribers: list[Subscriber] = []
        self.expected = expected
        self.all_subscribed = asyncio.Event()

    def publish(self, data: bytes) -> None:
        for sub in self.subscribers:
            sub.inbox.append(data)
            waiter = sub.waiter
            if waiter is not None and not waiter.done():
                waiter.set_result(None)

    async def subscribe(self) -> AsyncIterator[bytes]:
        sub = Subscriber()
        self.subscribers.append(sub)
        if len(self.subscribers) == self.expected:
            self.all_subscribed.set()
        loop = asyncio.get_running_loop()
        try:
            while True:
                while not sub.inbox:
                    sub.waiter = loop.create_future()
                    await sub.waiter
                yield sub.inbox.pop(0)
        finally:
            self.subscribers.remove(sub)


class Peer:
    """The server side of one stream: counts frames handed to ``send``."""

    __slots__ = ("done", "frames", "round")

    def __init__(self, done: asyncio.Event, round_: Round) -> None:
        self.done = done
        self.frames = 0
        self.round = round_

    async def receive(self) -> dict[str, Any]:
        await self.done.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        if b"data: " in message.get("body", b""):
            self.frames += 1
            self.round.arrived()


class Round:
    """Counts deliveries of the current event; notes when the last one arrived."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.count = 0
        self.finished = asyncio.Event()
        self.last = 0.0

    def arrived(self) -> None:
        self.count += 1
        if self.count == self.expected:
            self.last = time.perf_counter()
            self.finished.set()


def identity(item: object) -> bytes:
    assert isinstance(item, bytes)
    return item


async def measure(kind: str, streams: int, rounds: int) -> list[float]:
    """Run ``rounds`` publishes to ``streams`` subscribers; latencies in ms."""
    hub = Broadcaster(streams)
    done = asyncio.Event()
    current = Round(streams)
    peers: list[Peer] = []
    tasks: list[asyncio.Task[None]] = []
    if kind == "streams":
        from streams.response import EventStream
        from streams.settings import ErrorPayload, StreamSettings

        settings = StreamSettings(ping_interval=60.0, open_timeout=0.01)

        def render_error(exc: BaseException) -> ErrorPayload:
            return ErrorPayload(500, b'{"detail":"Internal Server Error"}')

        for _ in range(streams):
            peer = Peer(done, current)
            peers.append(peer)
            stream = EventStream(
                hub.subscribe(), encode=identity, render_error=render_error, settings=settings
            )
            tasks.append(asyncio.create_task(stream({"type": "http"}, peer.receive, peer.send)))
    else:

        async def drain(peer: Peer) -> None:
            async for _item in hub.subscribe():
                peer.round.arrived()

        for _ in range(streams):
            peer = Peer(done, current)
            peers.append(peer)
            tasks.append(asyncio.create_task(drain(peer)))
    async with asyncio.timeout(WATCHDOG):
        await hub.all_subscribed.wait()
        await asyncio.sleep(0.3)  # every stream past its open_timeout: headers and ping sent
    latencies: list[float] = []
    for n in range(rounds + 1):  # round 0 warms up
        current = Round(streams)
        for peer in peers:
            peer.round = current
        started = time.perf_counter()
        hub.publish(EVENT)
        async with asyncio.timeout(WATCHDOG):
            await current.finished.wait()
        if n:
            latencies.append((current.last - started) * 1000)
        await asyncio.sleep(0.05)
    done.set()
    for task in tasks:
        if kind != "streams":
            task.cancel()
    async with asyncio.timeout(WATCHDOG):
        await asyncio.gather(*tasks, return_exceptions=True)
    return latencies


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run_worker(root: Path, kind: str, streams: int, rounds: int) -> list[float]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--worker", kind,
         "--streams", str(streams), "--rounds", str(rounds)],
        env=env, stdout=subprocess.PIPE, text=True, check=True, timeout=600,
    )  # fmt: skip
    latencies: list[float] = json.loads(done.stdout.strip().splitlines()[-1])
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=2, help="processes per variant, alternated")
    parser.add_argument("--baseline-root", type=Path, metavar="DIR")
    parser.add_argument("--json", type=Path, metavar="PATH")
    parser.add_argument("--worker", choices=["streams", "source"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(asyncio.run(measure(args.worker, args.streams, args.rounds))))
        return
    variants = [("source only", ROOT, "source"), ("EventStream", ROOT, "streams")]
    if args.baseline_root is not None:
        variants.append(("EventStream (baseline)", args.baseline_root.resolve(), "streams"))
    results: dict[str, list[float]] = {name: [] for name, _, _ in variants}
    for _ in range(args.repeat):
        for name, root, kind in variants:
            results[name] += run_worker(root, kind, args.streams, args.rounds)
    print(f"\none event to {args.streams:,} streams, publish -> last frame handed to send")
    print(f"{'variant':<24} {'p50 ms':>8} {'p99 ms':>8} {'rounds':>7}")
    rows = []
    for name, latencies in results.items():
        p50, p99 = statistics.median(latencies), pct(latencies, 0.99)
        print(f"{name:<24} {p50:>8.1f} {p99:>8.1f} {len(latencies):>7}")
        rows.append(
            {"benchmark": "fanout", "variant": name, "streams": args.streams,
             "rounds": len(latencies), "p50_ms": round(p50, 2), "p99_ms": round(p99, 2)}
        )  # fmt: skip
    print("target (issue 11, with the channel layer): p50 <= 150 ms, p99 <= 300 ms")
    if args.json is not None:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
