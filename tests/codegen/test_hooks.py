"""``react=True`` (``belay codegen --react``) adds react.ts; only that file imports React."""

from __future__ import annotations

from pathlib import Path

from codegen import generate_client
from rpc.description import describe_app
from tests.codegen.fixture_app import build_app


def test_hooks_react_file_is_written_only_on_request_and_alone_imports_react(
    tmp_path: Path,
) -> None:
    out = tmp_path / "generated"
    first = generate_client(describe_app(build_app()), out, react=True)
    assert out / "react.ts" in first.written
    text = (out / "react.ts").read_text()
    assert "export function useServerState" in text
    assert "export function useStream" in text
    assert "useSyncExternalStore" in text
    others = [p for p in out.rglob("*.ts") if p.name != "react.ts"]
    assert others
    assert not [p for p in others if 'from "react"' in p.read_text()]

    again = generate_client(describe_app(build_app()), out, react=True)
    assert again.written == []

    without = generate_client(describe_app(build_app()), out)
    assert without.removed == [out / "react.ts"]
    assert not (out / "react.ts").exists()
