"""The generated client type-checks: tsc --strict (plus common extra flags), zero diagnostics."""

from __future__ import annotations

import shutil
from pathlib import Path

from codegen import generate_client
from rpc import ControllerBase, RenderBase, RPCApp, sideeffect
from rpc.description import describe_app
from tests.codegen.fixture_app import build_app
from tests.codegen.node import TS_TESTS, mark_module, run_tsc


class Bare(RenderBase):
    ok: bool


class Mixin(ControllerBase):
    """A base with no actions."""


class Toucher(Mixin):
    """A generic base whose sideeffect reloads one field of a state it does not know."""

    @sideeffect(reload=("ok",))
    async def touch(self) -> None: ...


class Lonely(Toucher):
    url = "/lonely"

    async def render(self) -> Bare:
        return Bare(ok=True)

    @sideeffect(reload=())
    async def hush(self) -> None: ...


def generated_project(tmp_path: Path) -> list[Path]:
    src = tmp_path / "src"
    generate_client(describe_app(build_app()), src / "generated")
    # no errors or body models (empty modules), a generic base with reload, reload=()
    generate_client(describe_app(RPCApp(controllers=[Lonely()])), src / "minimal")
    shutil.copyfile(TS_TESTS / "usage.ts", src / "usage.ts")
    mark_module(src)
    return sorted(src.rglob("*.ts"))


def test_tsc_strict_generated_client_and_usage_have_zero_diagnostics(tmp_path: Path) -> None:
    assert run_tsc(generated_project(tmp_path), out_dir=None) == ""


def test_tsc_generated_client_checks_for_a_browser_only_project(tmp_path: Path) -> None:
    sources = [p for p in generated_project(tmp_path) if p.name != "usage.ts"]
    output = run_tsc(sources, out_dir=None, extra=("--lib", "es2020,dom"), node_types=False)
    assert output == ""


def test_tsc_generated_client_is_erasable_for_type_stripping_and_bundlers(tmp_path: Path) -> None:
    # create-vite's react-ts template and Node's type stripping accept only
    # syntax that erases to JavaScript: no `enum`, no parameter properties, and
    # type-only imports marked as such.
    flags = ("--erasableSyntaxOnly", "--verbatimModuleSyntax", "--isolatedModules")
    assert run_tsc(generated_project(tmp_path), out_dir=None, extra=flags) == ""
