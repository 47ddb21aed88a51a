"""Codegen benchmark: 200 controllers x 5 actions and 500 models.

Targets: a full generation < 1 s; a no-op regeneration < 0.3 s writing 0 files.
Run: ``.venv/bin/python bench/bench_codegen.py [--json PATH]`` (exits non-zero if a
target is missed).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, create_model

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from codegen import generate_client, render_files
from rpc import ControllerBase, RenderBase, RPCApp, passthrough, sideeffect
from rpc.description import describe_app

CONTROLLERS = 200
ACTIONS = 5
MODELS = 500


def build_models() -> list[type[BaseModel]]:
    """500 models: scalars, lists, optionals, and a reference to an earlier model."""
    models: list[type[BaseModel]] = []
    for i in range(MODELS):
        fields: dict[str, Any] = {
            "id": (int, ...),
            "name": (str, ...),
            "tags": (list[str], Field(default_factory=list)),
            "score": (float | None, None),
        }
        if models:
            fields["ref"] = (models[i // 2] | None, None)
        models.append(create_model(f"Model{i}", **fields))
    return models


def build_controller(index: int, models: list[type[BaseModel]]) -> ControllerBase:
    state = create_model(f"State{index}", __base__=RenderBase, count=(int, 0))

    async def render(self: Any, item: str) -> Any:
        return state()

    render.__annotations__ = {"item": str, "return": state}

    def action(number: int) -> Callable[..., Any]:
        # 200 x 5 actions cycle through all 500 models as bodies and results
        body = models[(index * ACTIONS + number) % MODELS]
        result = models[(index * ACTIONS + number + 250) % MODELS]
        if number == 4:

            async def stream(self: Any, limit: int) -> AsyncIterator[Any]:
                yield result(id=1, name="x")

            stream.__annotations__ = {"limit": int, "return": AsyncIterator[result]}  # type: ignore[valid-type]
            return passthrough(stream)

        async def act(self: Any, payload: Any, flag: bool = False) -> Any:
            return None

        act.__annotations__ = {"payload": body, "flag": bool, "return": result | None}
        return sideeffect(act) if number % 2 == 0 else passthrough(act)

    namespace: dict[str, Any] = {"url": f"/items{index}/{{item}}", "render": render}
    namespace |= {f"action{n}": action(n) for n in range(ACTIONS)}
    cls = type(f"Controller{index}", (ControllerBase,), namespace)
    controller: ControllerBase = cls()
    return controller


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the result as JSON")
    args = parser.parse_args()
    models = build_models()
    started = time.perf_counter()
    app = RPCApp(controllers=[build_controller(i, models) for i in range(CONTROLLERS)])
    build_s = time.perf_counter() - started
    parse_s = min(_timed(lambda: describe_app(app)) for _ in range(3))
    description = describe_app(app)
    render_s = min(_timed(lambda: render_files(description)) for _ in range(3))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "client"
        started = time.perf_counter()
        first = generate_client(describe_app(app), out)
        full_s = time.perf_counter() - started
        noop_times, noop_written = [], []
        for _ in range(5):
            started = time.perf_counter()
            report = generate_client(describe_app(app), out)
            noop_times.append(time.perf_counter() - started)
            noop_written.append(len(report.written))
        size = sum(p.stat().st_size for p in out.rglob("*.ts"))
    noop_s = statistics.median(noop_times)
    print(f"app: {CONTROLLERS} controllers x {ACTIONS} actions, {len(description.models)} models")
    print(f"RPCApp construction (rpc, not codegen): {build_s * 1000:.0f} ms")
    print(f"describe: {parse_s * 1000:.0f} ms, render TS: {render_s * 1000:.0f} ms")
    print(f"full generation: {full_s * 1000:.0f} ms, {len(first.written)} files, {size} bytes")
    print(
        f"no-op regeneration: {noop_s * 1000:.0f} ms (median of 5), files written: {noop_written}"
    )
    ok = full_s < 1.0 and noop_s < 0.3 and not any(noop_written)
    print("targets (full < 1 s, no-op < 0.3 s, 0 writes):", "met" if ok else "MISSED")
    if args.json is not None:
        result = {
            "benchmark": "codegen",
            "controllers": CONTROLLERS,
            "actions": CONTROLLERS * ACTIONS,
            "models": len(description.models),
            "full_ms": round(full_s * 1000, 1),
            "noop_ms": round(noop_s * 1000, 1),
            "noop_files_written": max(noop_written),
            "files": len(first.written),
            "bytes": size,
        }
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0 if ok else 1


def _timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


if __name__ == "__main__":
    sys.exit(main())
