"""The TypeScript client step: ``codegen.generate_client`` on the served RPCApp.

codegen is imported lazily, so ``belay dev`` without ``--codegen-out`` works
even where codegen is unavailable.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from devserver.rpcapps import find_mounted_rpc_apps


def run_codegen(app: object, out: str, *, react: bool = False) -> tuple[str, ...]:
    """Regenerate the TS client into ``out`` (plus ``react.ts``); the files whose bytes changed."""
    try:
        from codegen import generate_client, parse_app
    except ImportError as exc:
        raise RuntimeError(f"--codegen-out needs codegen.generate_client ({exc})") from exc
    apps = find_mounted_rpc_apps(app)
    if not apps:
        report = generate_client(app, Path(out), react=react)  # type: ignore[arg-type]
        return tuple(str(path) for path in report.written)
    mount, rpc_app = apps[0]
    wrapper = parse_app(rpc_app)
    # Mounted at /api, the RPCApp's routes are served under /api + its prefix.
    wrapper = dataclasses.replace(wrapper, prefix=mount + wrapper.prefix)
    report = generate_client(wrapper, Path(out), react=react)
    return tuple(str(path) for path in report.written)
