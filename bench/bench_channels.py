"""Channels benchmark: fan-out, throughput, cross-worker latency through Redis, resume.

Run: .venv/bin/python bench/bench_channels.py [--quick] [--json PATH]

Streams are real ``RPCApp`` streaming actions driven at the ASGI level (each
subscriber is one ASGI call whose ``send`` records when a frame is handed to
the server), so 10,000 subscribers fit one process. Measures, side by side in
one run:

- one event to 10,000 subscribers: publish -> last frame handed to the server
  (p50/p99), and how many times the event was encoded;
- aggregate deliveries/s to 1,000 subscribers vs one plain stream's events/s;
- cross-worker: publish in this process -> frame in another process through
  Redis at 1,000 events/s (p50/p99), and the Redis calls that took (INFO
  commandstats: script calls per publish, calls per delivered event);
- resume after 100 missed events: call -> first replayed frame (p50), memory
  and Redis.

Redis runs as Debian's ``redis-server`` on a Unix socket in a temp dir. Every
loop is bounded in count and time.
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pydantic import BaseModel

from rpc import ControllerBase, RPCApp, passthrough
from streams import Channel, LastEventId, tracked
from tests.support.redis import RedisServer, redis_binary, running_redis

PREFIX = "/internal/api/BenchController"
WATCHDOG = 120.0


class Event(BaseModel):
    n: int
    t: float = 0.0
    text: str = "hello"


def build_app(broker: str, *, history: int = 5000) -> tuple[RPCApp, Channel[Event]]:
    events: Channel[Event] = Channel(Event, name="bench", history=history, ttl=600)

    class BenchController(ControllerBase):
        url = "/bench"

        async def render(self) -> Event:
            return Event(n=0)

        @passthrough
        async def events(self, room: str, last: LastEventId = None) -> AsyncIterator[Event]:
            async for item in events.subscribe(room, last_event_id=last):
                yield item

        @passthrough
        async def plain(self, count: int) -> AsyncIterator[Event]:
            for n in range(count):
                yield tracked(n, Event(n=n))

    app = RPCApp([BenchController()], channels=[events], broker=broker, ping_interval=60)
    return app, events


class Tally:
    """How many peers still wait for their target frame count; ``done`` is set at zero.

    Shared by every peer of a fan-out round, so a round allocates one event, not
    one per peer: the harness must not add to the garbage collector's work.
    """

    def __init__(self, waiting: int) -> None:
        self.waiting = waiting
        self.done = asyncio.Event()

    def arrived(self) -> None:
        self.waiting -= 1
        if self.waiting == 0:
            self.done.set()


class Peer:
    """One ASGI stream: ``send`` counts data frames and notes when the first arrived.

    ``got`` is set (and ``tally``, if any, told) once ``target`` frames are in.
    """

    def __init__(self, action: str, query: str, last: str | None = None) -> None:
        headers = [(b"content-length", b"0")]
        if last is not None:
            headers.append((b"last-event-id", last.encode()))
        self.scope = {
            "type": "http", "method": "POST", "path": f"{PREFIX}/{action}",
            "query_string": query.encode(), "headers": headers, "root_path": "",
            "scheme": "http", "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 1),
        }  # fmt: skip
        self.frames = 0
        self.started = time.perf_counter()
        self.first_frame: float | None = None
        self.got = asyncio.Event()
        self.target = 0
        self.tally: Tally | None = None
        self.done = asyncio.Event()
        self._body_sent = False

    async def receive(self) -> dict[str, Any]:
        if not self._body_sent:
            self._body_sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await self.done.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        body = message.get("body", b"")
        count = body.count(b"\ndata: ") + body.startswith(b"data: ")
        if count:
            if self.first_frame is None:
                self.first_frame = time.perf_counter()
            reached = self.frames >= self.target
            self.frames += count
            if not reached and self.frames >= self.target:
                self.got.set()
                if self.tally is not None:
                    self.tally.arrived()


async def open_peers(app: RPCApp, peers: list[Peer], tasks: list[asyncio.Task[None]]) -> None:
    for peer in peers:
        tasks.append(asyncio.create_task(app(peer.scope, peer.receive, peer.send)))
    await asyncio.sleep(0.2)


async def attached(app: RPCApp, room: str, count: int) -> None:
    async with asyncio.timeout(WATCHDOG):
        while True:
            if app.broker.subscriber_count("bench", room) >= count:
                return
            await asyncio.sleep(0.05)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def fanout(subscribers: int, rounds: int) -> dict[str, Any]:
    """One event to ``subscribers`` streams, ``rounds`` times: publish -> last frame."""
    app, channel = build_app("memory://")
    encodes = 0
    plain_encode = channel.encode

    def counting(item: object) -> bytes:
        nonlocal encodes
        encodes += 1
        return plain_encode(item)

    channel.encode = counting
    peers = [Peer("events", "room=fan") for _ in range(subscribers)]
    tasks: list[asyncio.Task[None]] = []
    await open_peers(app, peers, tasks)
    await attached(app, "fan", subscribers)
    latencies = []
    for n in range(1, rounds + 1):
        tally = Tally(subscribers)
        for peer in peers:
            peer.target, peer.tally = n, tally
        started = time.perf_counter()
        await channel.publish("fan", Event(n=n))
        async with asyncio.timeout(WATCHDOG):
            await tally.done.wait()
        latencies.append((time.perf_counter() - started) * 1000)
        await asyncio.sleep(0.05)
    await close(peers, tasks)
    return {"subscribers": subscribers, "rounds": rounds, "encodes": encodes,
            "p50_ms": statistics.median(latencies), "p99_ms": pct(latencies, 0.99)}  # fmt: skip


async def close(peers: list[Peer], tasks: list[asyncio.Task[None]]) -> None:
    for peer in peers:
        peer.done.set()
    async with asyncio.timeout(WATCHDOG):
        await asyncio.gather(*tasks)


async def throughput(subscribers: int, events: int) -> dict[str, Any]:
    """Deliveries/s to ``subscribers`` streams vs one plain stream's events/s."""
    app, channel = build_app("memory://", history=events + 10)
    plain_events = max(events, 20_000)  # enough for a stable rate
    plain = Peer("plain", f"count={plain_events}")
    plain.target = plain_events
    started = time.perf_counter()
    tasks = [asyncio.create_task(app(plain.scope, plain.receive, plain.send))]
    async with asyncio.timeout(WATCHDOG):
        await plain.got.wait()
    single = plain_events / (time.perf_counter() - started)
    await close([plain], tasks)
    peers = [Peer("events", "room=tp") for _ in range(subscribers)]
    for peer in peers:
        peer.target = events
    tasks = []
    await open_peers(app, peers, tasks)
    await attached(app, "tp", subscribers)
    started = time.perf_counter()
    for n in range(events):
        await channel.publish("tp", Event(n=n))
        if n % 20 == 0:
            await asyncio.sleep(0)  # publishers in a real app await something too
    async with asyncio.timeout(WATCHDOG):
        for peer in peers:
            await peer.got.wait()
    aggregate = subscribers * events / (time.perf_counter() - started)
    await close(peers, tasks)
    return {"subscribers": subscribers, "events": events, "single_stream_eps": single,
            "aggregate_dps": aggregate, "ratio": aggregate / single}  # fmt: skip


async def resume(broker: str, rounds: int) -> dict[str, Any]:
    """Call with a Last-Event-ID 100 events back -> first replayed frame handed over."""
    app, channel = build_app(broker)
    latencies = []
    for round_ in range(rounds):
        room = f"resume{round_}"
        last = await channel.position(room)
        for n in range(100):
            await channel.publish(room, Event(n=n))
        peer = Peer("events", f"room={room}", last)
        peer.target = 100
        tasks: list[asyncio.Task[None]] = []
        peer.started = time.perf_counter()
        tasks.append(asyncio.create_task(app(peer.scope, peer.receive, peer.send)))
        async with asyncio.timeout(WATCHDOG):
            await peer.got.wait()
        assert peer.first_frame is not None
        latencies.append((peer.first_frame - peer.started) * 1000)
        await close([peer], tasks)
    await app.broker.aclose()
    return {"p50_ms": statistics.median(latencies), "p99_ms": pct(latencies, 0.99)}


async def subscriber_process(url: str, events: int) -> None:
    """The other worker: one stream; prints the publish -> frame latencies as JSON."""
    app, _ = build_app(url)
    latencies: list[float] = []
    peer = Peer("events", "room=xw")
    peer.target = events
    original = peer.send

    async def send(message: dict[str, Any]) -> None:
        now = time.monotonic()  # system-wide on Linux: comparable across processes
        for part in message.get("body", b"").split(b'"t":')[1:]:
            latencies.append((now - float(part.split(b",")[0])) * 1000)
        await original(message)

    task = asyncio.create_task(app(peer.scope, peer.receive, send))
    print("ready", flush=True)
    async with asyncio.timeout(WATCHDOG):
        await peer.got.wait()
    await close([peer], [task])
    await app.broker.aclose()
    print(json.dumps(latencies), flush=True)


def start_subscriber(url: str, events: int) -> subprocess.Popen[str]:
    """The other worker process (see ``subscriber_process``)."""
    root = Path(__file__).resolve().parents[1]
    command = [sys.executable, __file__, "--subscriber", url, str(events)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=root)


async def cross_worker(server: RedisServer, events: int, rate: float) -> dict[str, Any]:
    app, channel = build_app(server.url())
    child = start_subscriber(server.url(), events)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        await asyncio.sleep(1.0)  # its subscription is confirmed well within this
        before = command_calls(server)
        started = time.monotonic()
        for n in range(events):
            await asyncio.sleep(max(0.0, started + n / rate - time.monotonic()))
            await channel.publish("xw", Event(n=n, t=time.monotonic()))
        output = await asyncio.to_thread(child.stdout.read)
        child.wait(timeout=WATCHDOG)
    finally:
        if child.poll() is None:
            child.kill()
    calls = {k: v - before.get(k, 0) for k, v in command_calls(server).items()}
    latencies = json.loads(output.strip().splitlines()[-1])
    await app.broker.aclose()
    # INFO commandstats counts the commands a script runs too (the publish
    # script's HGETs, XADD, PUBLISH): a delivery that read the log would show
    # as an XRANGE or an extra script call.
    counted = {k: v for k, v in calls.items() if k in ("evalsha", "eval", "xrange", "hget")}
    return {"events": events, "rate": rate, "p50_ms": statistics.median(latencies),
            "p99_ms": pct(latencies, 0.99), "received": len(latencies),
            "evalsha_per_publish": calls.get("evalsha", 0) / events,
            "commands": counted}  # fmt: skip


def command_calls(server: RedisServer) -> dict[str, int]:
    calls: dict[str, int] = {}
    for line in server.command("INFO", "commandstats").decode().splitlines():
        if line.startswith("cmdstat_"):
            name, _, stats = line[len("cmdstat_") :].partition(":")
            calls[name] = int(stats.split(",")[0].partition("=")[2])
    return calls


async def main(quick: bool) -> dict[str, Any]:
    results: dict[str, Any] = {}
    results["fanout"] = await fanout(2000 if quick else 10_000, 5 if quick else 21)
    print(f"fan-out to {results['fanout']['subscribers']}: {results['fanout']}", flush=True)
    results["throughput"] = await throughput(1000, 200 if quick else 1000)
    print(f"throughput: {results['throughput']}", flush=True)
    results["resume_memory"] = await resume("memory://", 20 if quick else 50)
    print(f"resume (memory): {results['resume_memory']}", flush=True)
    if redis_binary() is None:
        print("redis-server not installed: Redis figures skipped", flush=True)
        return results
    with running_redis() as server:
        results["resume_redis"] = await resume(server.url(), 20 if quick else 50)
        print(f"resume (redis): {results['resume_redis']}", flush=True)
        results["cross_worker"] = await cross_worker(server, 1000 if quick else 3000, 1000.0)
        print(f"cross-worker via redis: {results['cross_worker']}", flush=True)
    return results


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--subscriber":
        asyncio.run(subscriber_process(sys.argv[2], int(sys.argv[3])))
        raise SystemExit(0)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", type=Path)
    options = parser.parse_args()
    os.environ.pop("BELAY_BROKER_URL", None)
    found = asyncio.run(main(options.quick))
    if options.json:
        options.json.write_text(json.dumps(found))
