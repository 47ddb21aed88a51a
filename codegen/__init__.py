"""Python controllers to a typed TypeScript client.

``generate_client(app, out_dir)`` parses the app's controllers in memory into
plain-data wrappers (``parse_app``), builds TypeScript declarations from them,
and writes ``out_dir/index.ts`` and its siblings, touching only files whose
bytes changed. The wrappers can be dumped to JSON (``dump_app``) and generated
from in another process (``load_app`` then ``generate_client``).
"""

from __future__ import annotations

from pathlib import Path

from codegen.errors import CodegenError
from codegen.files import render_files
from codegen.hooks import react_files
from codegen.parser import AppLike, parse_app
from codegen.wrappers import AppWrapper, dump_app, load_app
from codegen.writer import GenerationReport, write_files

__all__ = [
    "AppWrapper",
    "CodegenError",
    "GenerationReport",
    "dump_app",
    "generate_client",
    "load_app",
    "parse_app",
    "render_files",
]


def generate_client(
    app: AppLike | AppWrapper, out_dir: Path, *, react: bool = False
) -> GenerationReport:
    """Write the TS client for ``app`` (an ``rpc.RPCApp`` or its wrappers) to ``out_dir``.

    ``react`` also writes ``react.ts`` (``useServerState``, ``useStream``).
    Raises ``CodegenError`` for input that has no valid TypeScript form, before
    any file is written.
    """
    wrapper = app if isinstance(app, AppWrapper) else parse_app(app)
    files = render_files(wrapper)
    if react:
        files |= react_files()
    return write_files(Path(out_dir), files)
