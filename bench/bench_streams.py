"""Streams benchmark: a Belay streaming action vs sse-starlette vs a hand-written StreamingResponse.

Run: .venv/bin/python bench/bench_streams.py [--events 200000] [--idle 2000] [--rounds 3]
     [--baseline-root DIR] [--json PATH]

The ``belay`` row is a real ``RPCApp`` streaming ``@passthrough``; ``EventStream
(bare)`` is the streams layer alone behind a bare ASGI app.

Each variant runs in its own hypercorn process (same config, see
streams_server.py) on 127.0.0.1. One client consumes N small model events per
round (variants interleaved); then 2,000 idle streams are opened per server and
the server's RSS growth is divided by their number. Every loop is bounded in
count and time.

With ``--baseline-root DIR`` (another checkout of Belay, e.g. ``git archive
main | tar -x -C DIR``) the two Belay variants of that tree run too, as
``belay @baseline`` and ``EventStream (bare) @baseline``, interleaved with the
others: a change to the streams layer is measured side by side with what it
replaces.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from idle_streams import open_idle
from streams_server import VARIANTS, Variant

MARKER = b'data: {"n":'  # one per model event, in every variant
TIMEOUT = 60.0


@dataclass
class Server:
    name: str
    variant: Variant
    process: subprocess.Popen[str]
    port: int
    rates: list[float] = field(default_factory=list)
    first_event: list[float] = field(default_factory=list)
    per_idle_stream: float = 0.0

    def rss(self) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError("no VmRSS")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


BASELINE = " @baseline"


def start(name: str, baseline: Path | None = None) -> Server:
    root = Path(__file__).resolve().parents[1] if baseline is None else baseline.resolve()
    env = {**os.environ, "PYTHONPATH": str(root)}
    script = root / "bench" / "streams_server.py"
    variant = name.removesuffix(BASELINE)
    process = subprocess.Popen(
        [sys.executable, str(script), variant], stdout=subprocess.PIPE, text=True, env=env
    )
    assert process.stdout is not None
    port = int(process.stdout.readline())
    return Server(name, VARIANTS[variant](), process, port)


async def consume(port: int, request: bytes, expected: int) -> tuple[float, float]:
    """Read one stream to its end; return (seconds to first event, events per second)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    started = time.perf_counter()
    writer.write(request)
    count, carry, first = 0, b"", 0.0
    async with asyncio.timeout(TIMEOUT):
        while chunk := await reader.read(1 << 20):
            data = carry + chunk
            count += data.count(MARKER)
            carry = data[-(len(MARKER) - 1) :]
            if not first and count:
                first = time.perf_counter() - started
            if data.endswith(b"0\r\n\r\n"):
                break
    elapsed = time.perf_counter() - started
    writer.close()
    if count != expected:
        raise RuntimeError(f"expected {expected} events, got {count}")
    return first, count / elapsed


async def measure_idle(server: Server, count: int) -> None:
    gate = asyncio.Semaphore(200)
    request = server.variant.idle_request
    warm = await asyncio.gather(
        *(open_idle(server.port, request, gate, marker=MARKER) for _ in range(20))
    )
    await asyncio.sleep(0.5)
    before = server.rss()
    async with asyncio.timeout(TIMEOUT):
        writers = await asyncio.gather(
            *(open_idle(server.port, request, gate, marker=MARKER) for _ in range(count))
        )
    await asyncio.sleep(1.0)
    server.per_idle_stream = (server.rss() - before) / count
    for _, writer in [*warm, *writers]:
        writer.close()
    await asyncio.sleep(0.5)


async def run(events: int, idle: int, rounds: int, baseline: Path | None = None) -> list[Server]:
    servers = [start(name) for name in VARIANTS]
    if baseline is not None:
        servers[2:2] = [
            start(name + BASELINE, baseline)
            for name in VARIANTS
            if "belay" in name or "EventStream" in name
        ]
    try:
        for server in servers:  # warm-up: imports, first-request paths
            await consume(server.port, server.variant.events_request(5000), 5000)
        for _ in range(rounds):
            for server in servers:
                first, rate = await consume(
                    server.port, server.variant.events_request(events), events
                )
                server.first_event.append(first)
                server.rates.append(rate)
        for server in servers:
            await measure_idle(server, idle)
    finally:
        for server in servers:
            server.stop()
    return servers


def report(servers: list[Server], events: int, idle: int) -> None:
    by_name = {server.name: server for server in servers}
    base_sse = statistics.median(by_name["sse-starlette"].rates)
    base_raw = statistics.median(by_name["StreamingResponse"].rates)
    runs = len(servers[0].rates)
    print(f"\n{events:,} events per run, median of {runs} runs; {idle:,} idle streams")
    header = (
        f"{'variant':<30} {'events/s':>10} {'vs sse':>7} {'vs raw':>7}"
        f" {'first ev ms':>11} {'KB/idle':>8}"
    )
    print(header)
    print("-" * len(header))
    for server in servers:
        rate = statistics.median(server.rates)
        first = statistics.median(server.first_event) * 1000
        print(
            f"{server.name:<30} {rate:>10,.0f} {rate / base_sse:>6.2f}x {rate / base_raw:>6.2f}x"
            f" {first:>11.2f} {server.per_idle_stream / 1024:>8.1f}"
        )
    print(
        "targets: belay >= 1.5x sse-starlette, >= 0.9x StreamingResponse, <= 30 KB per idle stream"
    )


def rows(servers: list[Server], events: int, idle: int) -> list[dict[str, object]]:
    """The table as JSON-ready rows (ratios against this run's own baselines)."""
    by_name = {server.name: server for server in servers}
    base_sse = statistics.median(by_name["sse-starlette"].rates)
    base_raw = statistics.median(by_name["StreamingResponse"].rates)
    out: list[dict[str, object]] = []
    for server in servers:
        rate = statistics.median(server.rates)
        out.append(
            {
                "benchmark": "streams",
                "variant": server.name,
                "events": events,
                "rounds": len(server.rates),
                "events_per_s": round(rate),
                "events_per_s_runs": [round(r) for r in server.rates],
                "vs_sse_starlette": round(rate / base_sse, 3),
                "vs_streaming_response": round(rate / base_raw, 3),
                "first_event_ms": round(statistics.median(server.first_event) * 1000, 3),
                "idle_streams": idle,
                "kb_per_idle_stream": round(server.per_idle_stream / 1024, 2),
            }
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--idle", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--baseline-root", type=Path, metavar="DIR", help="also run DIR's Belay")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the rows as JSON")
    args = parser.parse_args()
    servers = asyncio.run(run(args.events, args.idle, args.rounds, args.baseline_root))
    report(servers, args.events, args.idle)
    if args.json is not None:
        args.json.write_text(json.dumps(rows(servers, args.events, args.idle), indent=2) + "\n")


if __name__ == "__main__":
    main()
