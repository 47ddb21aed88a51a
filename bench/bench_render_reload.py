"""experimental_render_reload: full render vs the sliced render, the seed's example.

Run: ``.venv/bin/python bench/bench_render_reload.py [--runs N]``.

``reload_full`` and ``reload_sliced`` are the two timed callables; once the rpc
integration lands, swap them for a real sideeffect call through the app.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pydantic import BaseModel

from rpc.slicing import slice_render

RELOAD = ("value_a",)


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


class ExampleRenderModel(BaseModel):
    value_a: str
    value_b: str


class ExampleController:
    def render(self, query_id: int) -> ExampleRenderModel:
        a = calculate_primes(10000)
        b = calculate_primes(1000000)
        return ExampleRenderModel(value_a=f"Hello {a}", value_b=f"World {b}")


def reload_full(controller: ExampleController) -> dict[str, Any]:
    """What a sideeffect with reload=(value_a,) sends without slicing."""
    state = controller.render(query_id=1)
    return state.model_dump(mode="json", by_alias=True, include=set(RELOAD))


def make_reload_sliced() -> Callable[[ExampleController], dict[str, Any]]:
    """Slice once (startup), then each reload calls only the slice."""
    result = slice_render(ExampleController.render, RELOAD, model=ExampleRenderModel)
    if result.function is None:
        raise SystemExit(f"slicing fell back: {result.reason}")
    sliced = result.function

    def reload_sliced(controller: ExampleController) -> dict[str, Any]:
        payload: dict[str, Any] = sliced(controller)
        return payload

    return reload_sliced


def time_runs(
    call: Callable[[ExampleController], dict[str, Any]], runs: int, budget_s: float
) -> tuple[list[float], dict[str, Any]]:
    """Up to ``runs`` timings, stopping early once ``budget_s`` is spent."""
    controller = ExampleController()
    timings: list[float] = []
    deadline = time.perf_counter() + budget_s
    result: dict[str, Any] = {}
    for _ in range(runs):
        start = time.perf_counter()
        result = call(controller)
        timings.append(time.perf_counter() - start)
        if time.perf_counter() > deadline:
            break
    return timings, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3, help="full renders to time (median)")
    args = parser.parse_args()
    started = time.perf_counter()
    reload_sliced = make_reload_sliced()
    slice_ms = (time.perf_counter() - started) * 1000
    full_times, full_result = time_runs(reload_full, args.runs, budget_s=30.0)
    sliced_times, sliced_result = time_runs(reload_sliced, max(args.runs, 7), budget_s=10.0)
    if full_result != sliced_result:
        raise SystemExit(f"MISMATCH: full {full_result} != sliced {sliced_result}")
    full, sliced = statistics.median(full_times), statistics.median(sliced_times)
    print(f"slicing (once, at startup): {slice_ms:.1f} ms")
    print(f"full render + filter : {full:.4f} s (median of {len(full_times)}) -> {full_result}")
    print(
        f"sliced render        : {sliced:.4f} s (median of {len(sliced_times)}) -> {sliced_result}"
    )
    print(f"speed-up             : {full / sliced:.0f}x")


if __name__ == "__main__":
    main()
