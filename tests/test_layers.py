"""The import direction: devserver > codegen > rpc > streams; nothing imports devserver."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("streams", "rpc", "codegen", "devserver")
# What each package may import of ours (itself included).
ALLOWED = {
    "streams": {"streams"},
    "rpc": {"rpc", "streams"},
    "codegen": {"codegen", "rpc", "streams"},
    "devserver": {"devserver", "codegen", "rpc", "streams"},
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
