"""Belay's stream framing read by npm ``eventsource-parser`` (a real third-party parser).

The Node suite (``ts/thirdparty.test.ts``) is compiled with ``tsc --strict`` and
run against a real hypercorn serving the e2e stream app; it resolves
``eventsource-parser`` from the repo's node_modules (package.json devDependencies).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.codegen.node import ROOT, TS_TESTS, copy_runtime, mark_module, run_node_tests, run_tsc
from tests.e2e.stream_apps import build_stream_app
from tests.support.server import running_server


@pytest.mark.e2e
def test_thirdparty_sse_parser_reads_belay_streams(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    copy_runtime(src)
    shutil.copyfile(TS_TESTS / "thirdparty.test.ts", src / "thirdparty.test.ts")
    for directory in (src, out):
        directory.mkdir(exist_ok=True)
        mark_module(directory)
        # Resolve eventsource-parser (and its types) from the repo's node_modules.
        (directory / "node_modules").symlink_to(ROOT / "node_modules")
    sources = sorted(src.glob("*.ts")) + sorted((src / "runtime").glob("*.ts"))
    assert run_tsc(sources, out_dir=out, extra=("--rootDir", str(src))) == ""
    app, _ = build_stream_app()
    with running_server(app, graceful_timeout=0.5) as server:
        env = {**os.environ, "BELAY_BASE_URL": server.base_url}
        report = run_node_tests([out / "thirdparty.test.js"], env=env)
    assert "test_thirdparty_pings_are_comments_and_never_an_empty_event" in report
    assert "fail 0" in report
