"""openapi-typescript (npm) turns the document into types that compile under ``tsc --strict``.

A usage file reads request and response types by path, and ``@ts-expect-error``
lines prove the types are precise (a wrong enum value, a missing field, a wrong
event name do not compile), so a document that lost its types would fail.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from rpc.openapi import openapi_document
from tests.codegen.fixture_app import build_app as build_fixture_app
from tests.codegen.node import ROOT, mark_module, require_tools, run_tsc
from tests.openapi.fuzz_app import build_app

OPENAPI_TYPESCRIPT = ROOT / "node_modules" / ".bin" / "openapi-typescript"

USAGE = """\
import type { components, paths } from "./api.js";

type Api = "/internal/api/StoreController";
type Find = paths[`${Api}/find`]["post"];
export const query: Find["parameters"]["query"] = { ids: [1, 2], color: "navy", limit: 3 };
export const found: Find["responses"][200]["content"]["application/json"] = {
  passthrough: { items: [{ name: "x", quantity: 1 }], total: 1 },
};
export const soldOut: Find["responses"][409]["content"]["application/json"] = {
  detail: "sold out",
  left: 2,
};
type Add = paths[`${Api}/add`]["post"];
// openapi-typescript types a field with a default as always present (true of answers)
export const body: NonNullable<Add["requestBody"]>["content"]["application/json"] = {
  name: "pen",
  quantity: 1,
};
export const added: Add["responses"][200]["content"]["application/json"] = {
  sideeffect: { store: "a", items: [], title: "t", page: 0 },
  passthrough: 1,
};
type Rename = paths[`${Api}/rename`]["post"];
export const renamed: Rename["responses"][200]["content"]["application/json"] = {
  sideeffect: { title: "t" },
  passthrough: null,
};
type Ticks = paths[`${Api}/ticks`]["post"];
type TickEvent = Ticks["responses"][200]["content"]["text/event-stream"];
export const end: TickEvent = { event: "end", data: "{}" };
export const item: TickEvent = { data: '{"n":1}' };
export const color: components["schemas"]["Color"] = "navy";
export const invalid: components["schemas"]["BelayValidationError"] = {
  detail: [{ loc: ["query", "ids", 0], msg: "bad", type: "int_parsing" }],
};
type Render = paths[`${Api}/render`]["get"];
export const state: Render["responses"][200]["content"]["application/json"] = {
  store: "a",
  items: [],
  title: "t",
  page: 0,
};
export const page: Render["parameters"]["header"] = { "X-Belay-Page": "/stores/a" };

// @ts-expect-error: not a Color value
export const badColor: components["schemas"]["Color"] = "blue";
// @ts-expect-error: a sideeffect answer carries its state
export const noState: Add["responses"][200]["content"]["application/json"] = { passthrough: 1 };
type Renamed = Rename["responses"][200]["content"]["application/json"]["sideeffect"];
// @ts-expect-error: reload=(title,) sends only the title
export const extra: Renamed = { title: "t", page: 1 };
// @ts-expect-error: no such event
export const badEvent: TickEvent = { event: "state", data: "{}" };
"""


def generate_types(document: dict[str, object], out: Path) -> str:
    """``openapi-typescript`` over the document; its output on failure."""
    require_tools()
    source = out.with_suffix(".json")
    source.write_text(json.dumps(document))
    done = subprocess.run(
        [str(OPENAPI_TYPESCRIPT), str(source), "--output", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return "" if done.returncode == 0 else done.stdout + done.stderr


def test_typescript_types_from_the_document_compile_strict(tmp_path: Path) -> None:
    assert generate_types(openapi_document(build_app()), tmp_path / "api.ts") == ""
    (tmp_path / "usage.ts").write_text(USAGE)
    mark_module(tmp_path)
    assert run_tsc([tmp_path / "api.ts", tmp_path / "usage.ts"], out_dir=None) == ""


def test_typescript_types_of_the_codegen_fixture_compile_strict(tmp_path: Path) -> None:
    assert generate_types(openapi_document(build_fixture_app()), tmp_path / "api.ts") == ""
    mark_module(tmp_path)
    assert run_tsc([tmp_path / "api.ts"], out_dir=None) == ""
