"""Streaming sideeffects: items/s of a sideeffect stream next to a passthrough stream.

Run: .venv/bin/python bench/bench_progress.py [--items 50000] [--rounds 5] [--json PATH]

Three actions yield the same small models from one ``RPCApp``: a streaming
``@passthrough`` (the baseline), a streaming ``@sideeffect`` with
``on_disconnect="cancel"`` (the generator wrapped, then one re-render) and one
with the default ``"finish"`` (the same, driven from its own task through a
relay). Each is served at the ASGI level to a peer that accepts every send at
once, so the figure is the server-side cost per item. Rounds are interleaved;
the medians are reported with their ratio to the baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections.abc import AsyncIterator, MutableMapping
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pydantic import BaseModel

from rpc import ControllerBase, RenderBase, RPCApp, passthrough, sideeffect

PREFIX = "/internal/api/BenchController"
TIMEOUT = 120.0


class Page(RenderBase):
    done: int


class Step(BaseModel):
    n: int


class BenchController(ControllerBase):
    url = "/bench"

    def __init__(self) -> None:
        self.done = 0

    async def render(self) -> Page:
        return Page(done=self.done)

    @passthrough
    async def plain(self, items: int) -> AsyncIterator[Step]:
        for n in range(items):
            yield Step(n=n)

    @sideeffect(on_disconnect="cancel")
    async def cancelling(self, items: int) -> AsyncIterator[Step]:
        for n in range(items):
            self.done += 1
            yield Step(n=n)

    @sideeffect
    async def finishing(self, items: int) -> AsyncIterator[Step]:
        for n in range(items):
            self.done += 1
            yield Step(n=n)


async def serve_once(app: RPCApp, action: str, items: int) -> float:
    """Serve one request to its end; return the items per second."""
    body_given = False
    received = 0
    done = asyncio.Event()

    async def receive() -> dict[str, Any]:
        nonlocal body_given
        if not body_given:
            body_given = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        nonlocal received
        if message["type"] == "http.response.body":
            received += message.get("body", b"").count(b"data: ")
            if not message.get("more_body", False):
                done.set()

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": f"{PREFIX}/{action}",
        "raw_path": f"{PREFIX}/{action}".encode(),
        "query_string": f"items={items}".encode(),
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), (b"x-belay-page", b"/bench")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    started = time.perf_counter()
    await asyncio.wait_for(app(scope, receive, send), TIMEOUT)
    elapsed = time.perf_counter() - started
    expected = items + (1 if action == "plain" else 2)  # the end frame, and the state
    if received != expected:
        raise RuntimeError(f"{action}: {received} data lines, expected {expected}")
    return items / elapsed


async def measure(items: int, rounds: int) -> dict[str, float]:
    app = RPCApp([BenchController()])
    rates: dict[str, list[float]] = {"plain": [], "cancelling": [], "finishing": []}
    for _ in range(rounds):
        for action, found in rates.items():
            found.append(await serve_once(app, action, items))
    return {action: statistics.median(found) for action, found in rates.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    medians = asyncio.run(measure(args.items, args.rounds))
    base = medians["plain"]
    print(f"{'action':<32} {'items/s':>12} {'vs passthrough':>15}")
    labels = {
        "plain": "passthrough stream",
        "cancelling": 'sideeffect, on_disconnect="cancel"',
        "finishing": 'sideeffect, "finish" (default)',
    }
    for action, rate in medians.items():
        print(f"{labels[action]:<32} {rate:>12,.0f} {rate / base:>14.2f}x")
    if args.json is not None:
        args.json.write_text(json.dumps({"items": args.items, "medians": medians}, indent=1))


if __name__ == "__main__":
    main()
