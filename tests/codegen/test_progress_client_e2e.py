"""The generated client's streaming sideeffects under Node against a real hypercorn.

``ts/progress.test.ts`` is compiled with ``tsc --strict`` together with the
client generated for ``tests/e2e/progress_apps.py`` and run with ``node --test``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from codegen import generate_client
from rpc.description import describe_app
from tests.codegen.node import TS_TESTS, mark_module, run_node_tests, run_tsc
from tests.e2e.progress_apps import build_import_app
from tests.support.server import running_server


@pytest.mark.e2e
def test_progress_client_node_suite_against_live_server(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    app, controller = build_import_app()
    generate_client(describe_app(app), src / "generated")
    shutil.copyfile(TS_TESTS / "progress.test.ts", src / "progress.test.ts")
    mark_module(src)
    assert run_tsc(sorted(src.rglob("*.ts")), out_dir=out, extra=("--rootDir", str(src))) == ""
    mark_module(out)
    with running_server(app, graceful_timeout=1.0) as server:
        env = {**os.environ, "BELAY_BASE_URL": server.base_url}
        report = run_node_tests([out / "progress.test.js"], env=env)
    assert "test_progress_client_break_on_finish_action_lets_it_run_to_the_end" in report
    assert "fail 0" in report
    # what the Node suite saw, checked on the server side too
    assert controller.rows["p8"] == 3
    assert controller.rows["p7"] == 1
    assert controller.log.sessions["p7"] == ["generator closed", "cleanup"]
