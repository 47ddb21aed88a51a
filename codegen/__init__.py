"""An app's plain-data description to a typed TypeScript client.

``generate_client(description, out_dir)`` builds TypeScript declarations from
an ``rpcmeta.AppDescription`` and writes ``out_dir/index.ts`` and its
siblings, touching only files whose bytes changed. The output is a pure
function of the description (``render_files``): codegen never sees the live
app, so it runs as well on a description loaded from JSON
(``rpcmeta.load_description``). Describe a live ``rpc.RPCApp`` with
``rpc.description.describe_app``.
"""

from __future__ import annotations

from pathlib import Path

from codegen.errors import CodegenError
from codegen.files import render_files
from codegen.hooks import react_files
from codegen.writer import GenerationReport, write_files
from rpcmeta import AppDescription

__all__ = [
    "CodegenError",
    "GenerationReport",
    "generate_client",
    "render_files",
]


def generate_client(app: AppDescription, out_dir: Path, *, react: bool = False) -> GenerationReport:
    """Write the TS client for the described ``app`` to ``out_dir``.

    ``react`` also writes ``react.ts`` (``useServerState``, ``useStream``).
    Raises ``CodegenError`` for input that has no valid TypeScript form, before
    any file is written.
    """
    if not isinstance(app, AppDescription):
        raise CodegenError(
            f"codegen needs an rpcmeta.AppDescription (rpc.description.describe_app(app)), "
            f"got {app!r}"
        )
    files = render_files(app)
    if react:
        files |= react_files()
    return write_files(Path(out_dir), files)
