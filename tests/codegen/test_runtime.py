"""The TS runtime alone: unit suites under node:test, wire-name mirror, layering.

(Its browser-only strict compile is part of ``test_tsc``: the generated client ships it.)
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

from streams import framing
from tests.codegen.node import (
    ROOT,
    RUNTIME,
    TS_TESTS,
    copy_runtime,
    mark_module,
    run_node_tests,
    run_tsc,
)


def test_runtime_unit_node_suites(tmp_path: Path) -> None:
    """The SSE parser and error mapping suites, compiled with tsc --strict, run by node."""
    src, out = tmp_path / "src", tmp_path / "out"
    sources = copy_runtime(src)
    mark_module(src)
    tests = []
    for name in ("sse.test.ts", "errors.test.ts"):
        shutil.copyfile(TS_TESTS / name, src / name)
        tests.append(src / name)
    assert run_tsc([*sources, *tests], out_dir=out, extra=("--rootDir", str(src))) == ""
    mark_module(out)
    report = run_node_tests([out / "sse.test.js", out / "errors.test.js"])
    assert "test_sse_parser_every_two_way_split_gives_the_same_events" in report
    assert "test_errors_pick_the_class_by_type_only" in report
    assert "test_sse_parser_event_id_is_its_own_field_only" in report
    assert "fail 0" in report


def test_runtime_mirrors_the_python_stream_wire_names() -> None:
    """The TS event names are the ones ``streams`` sends (one protocol, two sides)."""
    text = (RUNTIME / "stream.ts").read_text()
    assert f'end: "{framing.EVENT_END}"' in text
    assert f'error: "{framing.EVENT_ERROR}"' in text
    assert framing.PING_COMMENT.startswith(":")  # a comment line: the parser skips it


def test_codegen_imports_no_devserver() -> None:
    """Layering: codegen reads rpc (and pydantic), never devserver."""
    for path in (ROOT / "codegen").glob("*.py"):
        tree = ast.parse(path.read_text())
        modules = [
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        ] + [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
        assert not [m for m in modules if m.split(".")[0] == "devserver"], path
