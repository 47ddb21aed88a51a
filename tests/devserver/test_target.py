"""MODULE:ATTR handling: parsing, locating without importing, importing with clear errors."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from devserver.target import (
    Target,
    TargetError,
    default_watch_dir,
    import_target,
    locate_module,
    resolve_watch_arg,
)
from tests.devserver.userpkg import user_package

EXPLODING = "raise RuntimeError('executed user code')\n"


def test_target_parse() -> None:
    assert Target.parse("shop.app:app.inner") == Target("shop.app", "app.inner")
    for bad in ("shop", ":app", "shop:", ""):
        with pytest.raises(TargetError, match="expected MODULE:ATTR"):
            Target.parse(bad)


def test_target_locate_never_executes_user_code(tmp_path: Path) -> None:
    files = {"__init__.py": EXPLODING, "sub/__init__.py": EXPLODING, "sub/leaf.py": EXPLODING}
    with user_package(tmp_path, files) as pkg:
        leaf = locate_module(f"{pkg}.sub.leaf")
        assert leaf == (tmp_path / pkg / "sub" / "leaf.py").resolve()
        assert default_watch_dir(f"{pkg}.sub.leaf") == (tmp_path / pkg).resolve()
        assert resolve_watch_arg(f"{pkg}.sub") == (tmp_path / pkg / "sub").resolve()
        assert locate_module(f"{pkg}.missing") is None
        assert not [name for name in sys.modules if name.startswith(pkg)]


def test_target_watch_arg_directory_or_error(tmp_path: Path) -> None:
    assert resolve_watch_arg(str(tmp_path)) == tmp_path.resolve()
    with pytest.raises(TargetError, match="neither a directory nor an importable package"):
        resolve_watch_arg("no_such_package_anywhere")


def test_target_import_errors_name_what_is_missing(tmp_path: Path) -> None:
    files = {"app.py": "import no_such_dependency_xyz\n", "ok.py": "app = object()\n"}
    with user_package(tmp_path, files) as pkg:
        with pytest.raises(TargetError, match=f"module '{pkg}.nope' not found"):
            import_target(Target(f"{pkg}.nope", "app"))
        with pytest.raises(
            TargetError, match=f"attribute 'missing' not found in module '{pkg}.ok'"
        ):
            import_target(Target(f"{pkg}.ok", "missing"))
        with pytest.raises(ModuleNotFoundError, match="no_such_dependency_xyz"):
            import_target(Target(f"{pkg}.app", "app"))  # the user's own import error
        assert import_target(Target(f"{pkg}.ok", "app")) is sys.modules[f"{pkg}.ok"].app
