"""The TS runtime alone: unit suites under node:test, wire-name mirror, layering.

(Its browser-only strict compile is part of ``test_tsc``: the generated client ships it.)
"""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
from pathlib import Path

from streams import framing, positions
from tests.codegen.node import (
    ROOT,
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


WIRE_PROBE = """
import { readFileSync } from "node:fs";
import { SSEParser } from "./runtime/sse.js";
import { STREAM_EVENTS } from "./runtime/stream.js";

const frames = JSON.parse(readFileSync(0, "utf8"));
const parser = new SSEParser();
const parsed = frames.map((frame) =>
  parser.push(frame).map((e) => [e.type, e.data, e.lastEventId]));
console.log(JSON.stringify({ names: STREAM_EVENTS, parsed, comments: parser.comments }));
"""


def test_runtime_mirrors_the_python_stream_wire_names(tmp_path: Path) -> None:
    """The compiled TS runtime reads what ``streams`` writes: names, ping, item, end, error."""
    src, out = tmp_path / "src", tmp_path / "out"
    sources = copy_runtime(src)
    mark_module(src)
    assert run_tsc(sources, out_dir=out, extra=("--rootDir", str(src))) == ""
    mark_module(out)
    (out / "probe.mjs").write_text(WIRE_PROBE)
    frames = [
        framing.PING_FRAME,
        framing.frame_data(b'{"n":1}', event_id="7"),
        framing.END_FRAME,
        framing.frame_error(b'{"detail":"x"}'),
    ]
    done = subprocess.run(
        ["node", str(out / "probe.mjs")],
        input=json.dumps([frame.decode() for frame in frames]),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    probe = json.loads(done.stdout)
    assert probe["names"] == {
        "item": "message",
        "end": framing.EVENT_END,
        "error": framing.EVENT_ERROR,
        "reset": positions.EVENT_RESET,
        "state": framing.EVENT_STATE,
    }
    # The ping is a comment to the TS parser: counted, never dispatched as an event.
    assert probe["comments"] == 1
    assert probe["parsed"] == [
        [],
        [["message", '{"n":1}', "7"]],
        [[framing.EVENT_END, framing.END_DATA.decode(), "7"]],
        [[framing.EVENT_ERROR, '{"detail":"x"}', "7"]],
    ]


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
