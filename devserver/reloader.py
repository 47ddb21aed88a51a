"""In-place reload of the user's modules inside the app process.

Given changed files, :class:`ModuleReloader` finds the loaded modules they
belong to, checks that every one of them compiles (nothing is reloaded when
one does not), then reloads them and every module that imports them,
dependencies first. An exception while re-running a module leaves the process
half-reloaded, so the outcome then asks for a restart.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, MutableMapping, Sequence
from dataclasses import KW_ONLY, dataclass
from pathlib import Path
from types import ModuleType

from devserver.changes import check_syntax, drop_stale_bytecode, read_file_bytes
from devserver.console import describe_error, format_details
from devserver.graph import ImportGraph, ModuleSource, imported_names


@dataclass(frozen=True)
class ReloadOutcome:
    """What a reload did: the modules reloaded, or the error and whether to restart."""

    modules: tuple[str, ...]
    _: KW_ONLY
    error: str = ""
    details: str = ""
    needs_restart: bool = False

    @property
    def ok(self) -> bool:
        """True when every planned module was reloaded."""
        return not self.error


ENVIRONMENT_DIRS = frozenset({"site-packages", "dist-packages", ".venv", "venv", ".tox", ".nox"})


def is_installed(path: Path) -> bool:
    """True for files of installed packages, also when a venv lives inside a watched dir."""
    return bool(ENVIRONMENT_DIRS.intersection(path.parts)) or path.is_relative_to(sys.prefix)


class ModuleReloader:
    """Reloads the user's modules: those whose files live under ``roots``."""

    def __init__(
        self,
        roots: Sequence[Path],
        *,
        modules: MutableMapping[str, ModuleType] | None = None,
        reload_module: Callable[[ModuleType], object] = importlib.reload,
    ) -> None:
        self.roots = [Path(root).resolve() for root in roots]
        self._modules = sys.modules if modules is None else modules
        self._reload = reload_module
        self._imports_cache: dict[tuple[Path, int, int], set[str]] = {}
        self._files: dict[str, Path | None] = {}

    def user_modules(self) -> dict[str, Path]:
        """Loaded user modules (import order) and their source files."""
        found: dict[str, Path] = {}
        for name, module in list(self._modules.items()):
            filename = getattr(module, "__file__", None)
            if name == "__main__" or not isinstance(filename, str):
                continue
            path = self._user_file(filename)
            if path is not None:
                found[name] = path
        return found

    def _user_file(self, filename: str) -> Path | None:
        # Resolving ~1000 third-party paths on every save costs tens of ms: memoise.
        if filename not in self._files:
            path = Path(filename).resolve() if filename.endswith(".py") else None
            if path is not None and (
                is_installed(path) or not any(path.is_relative_to(r) for r in self.roots)
            ):
                path = None
            self._files[filename] = path
        return self._files[filename]

    def graph(self, modules: dict[str, Path] | None = None) -> ImportGraph:
        """The current import graph of the loaded user modules."""
        modules = self.user_modules() if modules is None else modules
        imports = {name: self._imports(name, path) for name, path in modules.items()}
        return ImportGraph(imports, list(modules))

    def reload(self, paths: Sequence[Path]) -> ReloadOutcome:
        """Reload what ``paths`` affect; see the module docstring."""
        by_name = self.user_modules()
        changed = self._changed_modules(paths, by_name)
        for name in changed:
            content = read_file_bytes(by_name[name])
            problem = None if content is None else check_syntax(by_name[name], content)
            if problem is not None:
                return ReloadOutcome((), error=f"{problem} (SyntaxError)", needs_restart=False)
        order = self.graph(by_name).reload_order(changed)
        importlib.invalidate_caches()
        for name in changed:
            drop_stale_bytecode(by_name[name])
        for name in order:
            try:
                self._reload(self._modules[name])
            except Exception as exc:
                return ReloadOutcome(
                    tuple(order),
                    error=describe_error(exc, self.roots),
                    details=format_details(exc, self.roots),
                    needs_restart=True,
                )
        return ReloadOutcome(tuple(order))

    def _changed_modules(
        self, paths: Sequence[Path], modules: dict[str, Path] | None = None
    ) -> list[str]:
        wanted = {Path(path).resolve() for path in paths}
        modules = self.user_modules() if modules is None else modules
        return [name for name, path in modules.items() if path in wanted]

    def _imports(self, name: str, path: Path) -> set[str]:
        try:
            stat = path.stat()
        except OSError:
            return set()
        key = (path, stat.st_mtime_ns, stat.st_size)
        cached = self._imports_cache.get(key)
        if cached is None:
            source = read_file_bytes(path) or b""
            is_package = path.name == "__init__.py"
            cached = imported_names(ModuleSource(name, source, is_package=is_package))
            self._imports_cache[key] = cached
        return cached
