"""The TypeScript client step: ``codegen.generate_client`` on the served RPCApp.

codegen is imported lazily, so ``belay dev`` without ``--codegen-out`` works
even where codegen is unavailable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from devserver.rpcapps import find_rpc_apps


def run_codegen(app: object, out: str) -> tuple[str, ...]:
    """Regenerate the TS client into ``out``; the files whose bytes changed."""
    try:
        from codegen import generate_client
    except ImportError as exc:
        raise RuntimeError(f"--codegen-out needs codegen.generate_client ({exc})") from exc
    apps = find_rpc_apps(app)
    rpc_app: Any = apps[0] if apps else app  # codegen checks what it was given
    report = generate_client(rpc_app, Path(out))
    return tuple(str(path) for path in report.written)
