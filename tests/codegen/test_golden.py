"""Golden files: the fixture app's generated TS, byte for byte.

Update on purpose only: ``BELAY_UPDATE_GOLDEN=1 pytest tests/codegen/test_golden.py``,
then review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from codegen import render_files
from rpc.description import describe_app
from tests.codegen.fixture_app import build_app

GOLDEN = Path(__file__).resolve().parent / "golden"
GENERATED = ("index.ts", "models.ts", "errors.ts", "controllers.ts")


@pytest.mark.parametrize("name", GENERATED)
def test_golden_fixture_output(name: str) -> None:
    output = render_files(describe_app(build_app()))[name]
    golden = GOLDEN / name
    if os.environ.get("BELAY_UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(exist_ok=True)
        golden.write_bytes(output)
    assert golden.exists(), f"{golden} missing: run with BELAY_UPDATE_GOLDEN=1 once"
    assert output.decode() == golden.read_text(), f"{name} differs from its golden file"


def test_golden_output_is_stable_across_parses() -> None:
    assert render_files(describe_app(build_app())) == render_files(describe_app(build_app()))
