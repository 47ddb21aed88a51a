"""The TypeScript client step: describe the served RPCApp, then ``codegen.generate_client``.

codegen is imported lazily, so ``belay dev`` without ``--codegen-out`` works
even where codegen is unavailable. A description saved as JSON generates the
same client later without importing the app (``run_codegen_from_file``).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from devserver.rpcapps import find_mounted_rpc_apps
from rpcmeta import AppDescription, dump_description, load_description


def run_codegen(
    app: object, out: str, *, save_description: str = "", react: bool = False
) -> tuple[str, ...]:
    """Regenerate the TS client into ``out`` (plus ``react.ts``); the files whose bytes changed.

    With ``save_description``, the app's description is also written there as JSON,
    with its JSON Schemas, so ``belay openapi FILE`` can read it too.
    """
    description = describe_served_app(app, json_schemas=bool(save_description))
    written = _generate(description, out, react=react)
    if save_description:
        Path(save_description).write_text(dump_description(description) + "\n")
    return written


def describe_served_app(app: object, *, json_schemas: bool = False) -> AppDescription:
    """The description of ``app``'s RPCApp, found through mounts and middleware.

    Mounted at ``/api``, the RPCApp's routes are served under ``/api`` + its
    prefix, and that is the prefix described.
    """
    from rpc.description import describe_app

    apps = find_mounted_rpc_apps(app)
    if not apps:
        return describe_app(app, json_schemas=json_schemas)  # type: ignore[arg-type]  # it checks
    mount, rpc_app = apps[0]
    described = describe_app(rpc_app, json_schemas=json_schemas)
    return dataclasses.replace(described, prefix=mount + described.prefix)


def run_codegen_from_file(path: str, out: str, *, react: bool = False) -> tuple[str, ...]:
    """Regenerate the TS client into ``out`` from a description saved by ``run_codegen``."""
    return _generate(load_description(Path(path).read_text()), out, react=react)


def _generate(description: AppDescription, out: str, *, react: bool) -> tuple[str, ...]:
    try:
        from codegen import generate_client
    except ImportError as exc:
        raise RuntimeError(f"--codegen-out needs codegen.generate_client ({exc})") from exc
    report = generate_client(description, Path(out), react=react)
    return tuple(str(path) for path in report.written)
