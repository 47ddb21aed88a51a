"""The import direction: devserver > codegen > rpc > streams; nothing imports devserver.

``rpcmeta`` (the plain-data app description) is stdlib-only and imports none of
the others; rpc writes it, codegen reads only it.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.interpreter import fresh_python

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("streams", "rpcmeta", "rpc", "codegen", "devserver")
# What each package may import of ours (itself included).
ALLOWED = {
    "streams": {"streams"},
    "rpcmeta": {"rpcmeta"},
    "rpc": {"rpc", "rpcmeta", "streams"},
    "codegen": {"codegen", "rpcmeta"},
    "devserver": {"devserver", "codegen", "rpc", "rpcmeta", "streams"},
}
# What importing a module must not load, directly or through anything it imports.
NOT_LOADED = {
    "streams": {"rpc", "rpcmeta", "codegen", "devserver"},
    "rpcmeta": {"rpc", "streams", "codegen", "devserver", "pydantic", "starlette", "anyio"},
    "codegen": {"rpc", "streams", "devserver", "pydantic", "starlette", "anyio"},
    "rpc": {"codegen", "devserver"},
    "rpc.description": {"codegen", "devserver"},
    "rpc.openapi": {"codegen", "devserver"},
}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found & set(PACKAGES)


@pytest.mark.parametrize("package", PACKAGES)
def test_layers_import_direction(package: str) -> None:
    modules = sorted((ROOT / package).rglob("*.py"))
    assert modules, f"{package}/ has no modules"
    violations = [
        f"{module.relative_to(ROOT)} imports {sorted(imported_packages(module) - ALLOWED[package])}"
        for module in modules
        if imported_packages(module) - ALLOWED[package]
    ]
    assert violations == []


def test_layers_checker_sees_imports(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import rpc.app\nfrom devserver import cli\nfrom . import local\n")
    assert imported_packages(sample) == {"rpc", "devserver"}


# rpc/slicing is experimental: loaded only when an app asks for
# experimental_render_reload=True, and pure code analysis (no server machinery).
SLICING = "rpc.slicing"
SLICING_LOADER = ROOT / "rpc" / "assembly.py"
SLICING_MAY_IMPORT = {"rpc.slicing", "rpc.dependencies"}
SLICING_MUST_NOT_IMPORT = {"starlette", "anyio", "hypercorn", "streams"}


def imported_modules(path: Path) -> list[tuple[str, bool]]:
    """Every absolute import in ``path`` as (module, at module level)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    top_level = {id(node) for node in tree.body}
    found: list[tuple[str, bool]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((alias.name, id(node) in top_level) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, id(node) in top_level))
    return found


def _is_slicing(module: str) -> bool:
    return module == SLICING or module.startswith(SLICING + ".")


def test_layers_only_assembly_imports_slicing_and_only_lazily() -> None:
    outside = [
        path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if not path.is_relative_to(ROOT / "rpc" / "slicing")
    ]
    violations = [
        f"{path.relative_to(ROOT)} imports {module}" + (" at module level" if top_level else "")
        for path in outside
        for module, top_level in imported_modules(path)
        if _is_slicing(module) and (path != SLICING_LOADER or top_level)
    ]
    assert violations == []
    assert any(_is_slicing(m) for m, _ in imported_modules(SLICING_LOADER)), "rule checks nothing"


def test_layers_slicing_imports_no_server_machinery() -> None:
    modules = sorted((ROOT / "rpc" / "slicing").rglob("*.py"))
    assert modules
    violations = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in modules
        for module, _ in imported_modules(path)
        if module.split(".")[0] in SLICING_MUST_NOT_IMPORT
        or (
            module.split(".")[0] == "rpc"
            and not any(module == m or module.startswith(m + ".") for m in SLICING_MAY_IMPORT)
        )
    ]
    assert violations == []


def test_layers_import_rpc_does_not_load_slicing() -> None:
    code = (
        "import sys, rpc\n"
        "print(','.join(sorted(m for m in sys.modules if m.startswith('rpc.slicing'))))\n"
    )
    assert fresh_python(code).strip() == ""


def test_layers_slicing_checker_sees_lazy_imports(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import rpc.app\n\ndef f() -> None:\n    from rpc.slicing import x\n")
    assert imported_modules(sample) == [("rpc.app", True), ("rpc.slicing", False)]


def loaded_packages(code: str) -> set[str]:
    """Top-level packages in ``sys.modules`` after a fresh interpreter runs ``code``."""
    probe = f"{code}\nimport sys\nprint(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    return set(fresh_python(probe).split())


@pytest.mark.parametrize("module", sorted(NOT_LOADED))
def test_layers_indirect_imports(module: str) -> None:
    loaded = loaded_packages(f"import {module}")
    assert module.split(".")[0] in loaded
    assert loaded & NOT_LOADED[module] == set()


def test_layers_codegen_renders_a_dump_without_rpc(tmp_path: Path) -> None:
    """The seam is plain data: a process given a dump writes the client with no app code."""
    dump = tmp_path / "app.json"
    dump.write_text(
        subprocess.run(
            [
                sys.executable,
                "-c",
                "from rpc.description import describe_app\n"
                "from rpcmeta import dump_description\n"
                "from tests.codegen.fixture_app import build_app\n"
                "print(dump_description(describe_app(build_app())))",
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=60,
            check=True,
        ).stdout
    )
    out = tmp_path / "client"
    loaded = loaded_packages(
        "from pathlib import Path\n"
        "from codegen import generate_client\n"
        "from rpcmeta import load_description\n"
        f"generate_client(load_description(Path({str(dump)!r}).read_text()), Path({str(out)!r}))"
    )
    assert loaded & {"rpc", "tests", "pydantic", "starlette", "anyio"} == set()
    golden = ROOT / "tests" / "codegen" / "golden"
    assert (out / "controllers.ts").read_text() == (golden / "controllers.ts").read_text()


# The OpenAPI document is a pure function of the plain-data description, like codegen's
# output: its builder reads rpcmeta facts and the stream protocol's wire names, no app.
OPENAPI_BUILDER = ("document.py", "operations.py", "parameters.py", "framework.py")
OPENAPI_BUILDER_MAY_IMPORT = ("rpcmeta", "streams.framing", "streams.positions", "rpc.openapi")


def test_layers_openapi_document_reads_only_the_description() -> None:
    paths = [ROOT / "rpc" / "openapi" / name for name in OPENAPI_BUILDER]
    imports = [(path, module) for path in paths for module, _ in imported_modules(path)]
    ours = [(p, m) for p, m in imports if m.split(".")[0] in PACKAGES]
    assert ours, "rule checks nothing"
    violations = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path, module in ours
        if not any(module == m or module.startswith(m + ".") for m in OPENAPI_BUILDER_MAY_IMPORT)
    ]
    assert violations == []


def test_layers_import_rpc_does_not_load_openapi() -> None:
    code = "import sys, rpc\nprint(sorted(m for m in sys.modules if m.startswith('rpc.openapi')))"
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        cwd=ROOT,
    )
    assert result.stdout.strip() == "[]"
