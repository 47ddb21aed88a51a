"""The TypeScript client step: describe the served RPCApp, then ``codegen.generate_client``.

codegen is imported lazily, so ``belay dev`` without ``--codegen-out`` works
even where codegen is unavailable.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from devserver.rpcapps import find_mounted_rpc_apps


def run_codegen(app: object, out: str) -> tuple[str, ...]:
    """Regenerate the TS client into ``out``; the files whose bytes changed."""
    try:
        from codegen import generate_client
    except ImportError as exc:
        raise RuntimeError(f"--codegen-out needs codegen.generate_client ({exc})") from exc
    from rpc.description import describe_app

    apps = find_mounted_rpc_apps(app)
    if not apps:
        description = describe_app(app)  # type: ignore[arg-type]  # describe_app checks it
    else:
        mount, rpc_app = apps[0]
        described = describe_app(rpc_app)
        # Mounted at /api, the RPCApp's routes are served under /api + its prefix.
        description = dataclasses.replace(described, prefix=mount + described.prefix)
    report = generate_client(description, Path(out))
    return tuple(str(path) for path in report.written)
