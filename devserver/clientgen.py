"""The TypeScript client step: ``codegen.generate_client`` on the served RPCApp.

codegen is imported lazily, so ``belay dev`` without ``--codegen-out`` works
even where codegen is unavailable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def find_rpc_app(app: object) -> object:
    """The RPCApp to generate a client for: ``app`` itself or the first one mounted in it."""
    todo, seen = [app], set()
    while todo:
        obj = todo.pop(0)
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if type(obj).__name__ == "RPCApp":
            return obj
        todo.extend(getattr(r, "app", None) for r in getattr(obj, "routes", None) or [])
    return app


def run_codegen(app: object, out: str) -> tuple[str, ...]:
    """Regenerate the TS client into ``out``; the files whose bytes changed."""
    try:
        from codegen import generate_client
    except ImportError as exc:
        raise RuntimeError(f"--codegen-out needs codegen.generate_client ({exc})") from exc
    rpc_app: Any = find_rpc_app(app)  # codegen checks what it was given
    report = generate_client(rpc_app, Path(out))
    return tuple(str(path) for path in report.written)
