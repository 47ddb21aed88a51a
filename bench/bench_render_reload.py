"""experimental_render_reload: a full sideeffect vs a sliced one, the seed's example.

Run: ``.venv/bin/python bench/bench_render_reload.py [--runs N] [--json PATH]``.

One ``RPCApp`` serves the seed's controller: ``render()`` computes
``calculate_primes(10000)`` for ``value_a`` and ``calculate_primes(1000000)``
for ``value_b``. Two sideeffects reload only ``value_a``: one re-runs the full
``render()``, the other has ``experimental_render_reload=True``. Both are
called through the real ASGI app (``RPCTestClient``), in one run, and must send
the same JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rpc import ControllerBase, RenderBase, RPCApp, sideeffect
from rpc.testing import RPCTestClient


def calculate_primes(limit: int) -> int:
    """Count primes below ``limit`` by trial division (deliberately CPU-bound)."""
    count = 1 if limit > 2 else 0  # 2; then odd candidates, odd divisors
    for candidate in range(3, limit, 2):
        for divisor in range(3, math.isqrt(candidate) + 1, 2):
            if candidate % divisor == 0:
                break
        else:
            count += 1
    return count


class ExampleRenderModel(RenderBase):
    value_a: str
    value_b: str


class ExampleController(ControllerBase):
    url = "/example/{query_id}"

    def render(self, query_id: int) -> ExampleRenderModel:
        a = calculate_primes(10000)
        b = calculate_primes(1000000)
        return ExampleRenderModel(value_a=f"Hello {a}", value_b=f"World {b}")

    @sideeffect(reload=(ExampleRenderModel.value_a,))
    def call_full(self) -> None:
        pass

    @sideeffect(reload=(ExampleRenderModel.value_a,), experimental_render_reload=True)
    def call_sliced(self) -> None:
        pass


async def time_action(
    client: RPCTestClient, action: str, runs: int, budget_s: float
) -> tuple[list[float], Any]:
    """Up to ``runs`` timed sideeffect calls, stopping early once ``budget_s`` is spent."""
    timings: list[float] = []
    deadline = time.perf_counter() + budget_s
    body: Any = None
    for _ in range(runs):
        started = time.perf_counter()
        response = await client.action("ExampleController", action, page="/example/1")
        timings.append(time.perf_counter() - started)
        response.raise_for_status()
        body = response.json()
        if time.perf_counter() > deadline:
            break
    return timings, body


async def measure(runs: int) -> dict[str, Any]:
    started = time.perf_counter()
    app = RPCApp(controllers=[ExampleController()])
    build_ms = (time.perf_counter() - started) * 1000
    async with RPCTestClient(app) as client:
        full_times, full_body = await time_action(client, "call_full", runs, budget_s=30.0)
        sliced_times, sliced_body = await time_action(
            client, "call_sliced", max(runs, 7), budget_s=10.0
        )
    if full_body != sliced_body:
        raise SystemExit(f"MISMATCH: full {full_body} != sliced {sliced_body}")
    full, sliced = statistics.median(full_times), statistics.median(sliced_times)
    return {
        "benchmark": "render_reload",
        "app_build_ms": round(build_ms, 1),
        "full_s": round(full, 4),
        "full_runs": len(full_times),
        "sliced_s": round(sliced, 5),
        "sliced_runs": len(sliced_times),
        "speedup": round(full / sliced, 1),
        "response": sliced_body,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="full sideeffects to time (median)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the result as JSON")
    args = parser.parse_args()
    result = asyncio.run(measure(args.runs))
    print(f"RPCApp build (slices render once): {result['app_build_ms']:.1f} ms")
    print(f"full sideeffect   : {result['full_s']:.4f} s (median of {result['full_runs']})")
    print(f"sliced sideeffect : {result['sliced_s']:.5f} s (median of {result['sliced_runs']})")
    print(f"speed-up          : {result['speedup']:.0f}x (target >= 100x)")
    print(f"both answered     : {json.dumps(result['response'])}")
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
