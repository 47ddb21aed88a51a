"""ModuleReloader on real modules in tmp_path, imported into this process."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

from devserver.reloader import ModuleReloader
from tests.devserver.userpkg import user_package, write

FILES = {
    "base.py": "VALUE = 'one'\n",
    "child.py": "from PKG.base import VALUE\nDOUBLE = VALUE * 2\n",
    "app.py": "from PKG import child\nRESULT = child.DOUBLE\n",
    "other.py": "OTHER = 1\n",
}


def test_reloader_reloads_dependents_in_order(tmp_path: Path) -> None:
    with user_package(tmp_path, FILES) as pkg:
        app = importlib.import_module(f"{pkg}.app")
        importlib.import_module(f"{pkg}.other")
        reloader = ModuleReloader([tmp_path / pkg])
        write(tmp_path / pkg / "base.py", "VALUE = 'two'\n")
        outcome = reloader.reload([tmp_path / pkg / "base.py"])
        assert outcome.ok
        assert outcome.modules == (f"{pkg}.base", f"{pkg}.child", f"{pkg}.app")
        assert app.RESULT == "twotwo"


def test_reloader_same_second_same_size_edits_take_effect(tmp_path: Path) -> None:
    with user_package(tmp_path, FILES) as pkg:
        base = importlib.import_module(f"{pkg}.base")
        reloader = ModuleReloader([tmp_path / pkg])
        for value in ("aa", "bb", "cc"):
            (tmp_path / pkg / "base.py").write_text(f"VALUE = '{value}'\n")
            assert reloader.reload([tmp_path / pkg / "base.py"]).ok
            assert value == base.VALUE


def test_reloader_syntax_error_reloads_nothing(tmp_path: Path) -> None:
    with user_package(tmp_path, FILES) as pkg:
        app = importlib.import_module(f"{pkg}.app")
        reloader = ModuleReloader([tmp_path / pkg])
        write(tmp_path / pkg / "base.py", "VALUE = 'three'\n")
        write(tmp_path / pkg / "child.py", "DOUBLE = (\n")
        outcome = reloader.reload([tmp_path / pkg / "base.py", tmp_path / pkg / "child.py"])
        assert not outcome.ok
        assert not outcome.needs_restart
        assert "child.py:1" in outcome.error
        assert sys.modules[f"{pkg}.base"].VALUE == "one"
        assert app.RESULT == "oneone"


def test_reloader_module_level_error_asks_for_restart(tmp_path: Path) -> None:
    with user_package(tmp_path, FILES) as pkg:
        importlib.import_module(f"{pkg}.app")
        reloader = ModuleReloader([tmp_path / pkg])
        write(
            tmp_path / pkg / "child.py",
            "from PKG.base import VALUE\nDOUBLE = MISSING\n".replace("PKG", pkg),
        )
        outcome = reloader.reload([tmp_path / pkg / "child.py"])
        assert outcome.needs_restart
        assert outcome.error.endswith("child.py:2: NameError: name 'MISSING' is not defined")
        assert "Traceback" in outcome.details


def test_reloader_registry_refusing_redefinition_asks_for_restart(tmp_path: Path) -> None:
    files = {
        "registry.py": (
            "TABLES = set()\n"
            "def define(name):\n"
            "    if name in TABLES:\n"
            "        raise RuntimeError(f'Table {name!r} is already defined')\n"
            "    TABLES.add(name)\n"
        ),
        "models.py": "from PKG.registry import define\ndefine('users')\nCOLUMNS = 1\n",
    }
    with user_package(tmp_path, files) as pkg:
        importlib.import_module(f"{pkg}.models")
        reloader = ModuleReloader([tmp_path / pkg])
        write(tmp_path / pkg / "models.py", files["models.py"].replace("PKG", pkg) + "X = 2\n")
        outcome = reloader.reload([tmp_path / pkg / "models.py"])
        assert outcome.needs_restart
        assert "already defined" in outcome.error


def test_reloader_ignores_files_of_unloaded_modules(tmp_path: Path) -> None:
    with user_package(tmp_path, FILES) as pkg:
        importlib.import_module(f"{pkg}.base")
        reloader = ModuleReloader([tmp_path / pkg])
        write(tmp_path / pkg / "new.py", "NEW = 1\n")
        outcome = reloader.reload([tmp_path / pkg / "new.py"])
        assert outcome.ok
        assert outcome.modules == ()


def test_reloader_ignores_installed_packages_inside_a_watched_dir(tmp_path: Path) -> None:
    venv_file = tmp_path / ".venv" / "lib" / "site-packages" / "dep" / "__init__.py"
    own_file = tmp_path / "main.py"
    for path in (venv_file, own_file):
        write(path, "X = 1\n")
    modules = {
        "dep": ModuleType("dep"),
        "main": ModuleType("main"),
        "json": sys.modules["json"],
    }
    modules["dep"].__file__ = str(venv_file)
    modules["main"].__file__ = str(own_file)
    reloader = ModuleReloader([tmp_path], modules=modules)
    assert reloader.user_modules() == {"main": own_file.resolve()}
