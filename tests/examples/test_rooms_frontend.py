"""The demo page type-checks under ``tsc --strict`` against the client generated from the demo.

esbuild (which bundles the page) strips types without checking them; this is
the check that the page uses the generated client (``onStatus``, ``onReset``,
``RoomState.position`` ...) as typed.
"""

from __future__ import annotations

import subprocess

from tests.codegen.node import TSC, require_tools
from tests.e2e.demo_processes import DEMO, ROOT, generate_demo_client


def test_rooms_frontend_passes_tsc_strict() -> None:
    require_tools()
    generate_demo_client()
    done = subprocess.run(
        [str(TSC), "-p", str(DEMO / "frontend" / "tsconfig.json")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
