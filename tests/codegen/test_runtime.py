"""The TS runtime alone: strict compile and the SSE parser's node:test suite."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.codegen.node import RUNTIME, TS_TESTS, copy_runtime, mark_module, run_node_tests, run_tsc


def test_runtime_compiles_under_strict_with_dom_and_es2020_libs() -> None:
    sources = sorted(RUNTIME.glob("*.ts"))
    output = run_tsc(sources, out_dir=None, extra=("--lib", "es2020,dom"), node_types=False)
    assert output == ""


def test_runtime_sse_parser_node_suite(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    sources = copy_runtime(src)
    mark_module(src)
    test_file = src / "sse.test.ts"
    shutil.copyfile(TS_TESTS / "sse.test.ts", test_file)
    assert run_tsc([*sources, test_file], out_dir=out, extra=("--rootDir", str(src))) == ""
    mark_module(out)
    report = run_node_tests([out / "sse.test.js"])
    assert "test_sse_parser_every_two_way_split_gives_the_same_events" in report
    assert "# fail 0" in report or "fail 0" in report
