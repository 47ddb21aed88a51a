"""``createServerState(..., { live: true })`` under Node against a real hypercorn.

The generated client of ``tests/e2e/live_apps.py`` and ``ts/live.test.ts`` are
compiled with ``tsc --strict`` and run with ``node --test``: another client's
sideeffect, a ``broadcast()`` from a background task on the server, and a
dropped connection (the resumed stream starts with the full state).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from codegen import generate_client
from rpc.description import describe_app
from tests.codegen.node import TS_TESTS, mark_module, run_node_tests, run_tsc
from tests.e2e.live_apps import build_live_app
from tests.support.server import running_server


@pytest.mark.e2e
def test_live_client_state_follows_broadcasts_under_node(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    app, board, _ = build_live_app()
    generate_client(describe_app(app), src / "generated")
    shutil.copyfile(TS_TESTS / "live.test.ts", src / "live.test.ts")
    mark_module(src)
    assert run_tsc(sorted(src.rglob("*.ts")), out_dir=out, extra=("--rootDir", str(src))) == ""
    mark_module(out)
    with running_server(app, graceful_timeout=1.0) as server:
        env = {**os.environ, "BELAY_BASE_URL": server.base_url}
        report = run_node_tests([out / "live.test.js"], env=env)
    assert "test_live_state_follows_other_clients_broadcasts_and_drops" in report
    assert "fail 0" in report
    assert board.store.counts["ts"] == 105
