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


def loaded_packages(code: str) -> set[str]:
    """Top-level packages in ``sys.modules`` after a fresh interpreter runs ``code``."""
    probe = f"{code}\nimport sys\nprint(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=True,
    )
    return set(done.stdout.split())


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
