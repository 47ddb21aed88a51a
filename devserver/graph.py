"""The import graph of the user's modules, from their ASTs.

An edge ``a -> b`` means module ``a`` imports module ``b`` (anywhere in its
source, also inside functions). Only explicit imports count: ``import
shop.child`` depends on ``shop.child``, not on the package ``shop``, so a
package ``__init__`` that re-exports its submodules does not put every
submodule into a cycle with it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import KW_ONLY, dataclass


@dataclass(frozen=True)
class ModuleSource:
    """What the graph needs to know about one module."""

    name: str
    source: bytes
    _: KW_ONLY
    is_package: bool


def _package_of(name: str, is_package: bool) -> str:
    return name if is_package else name.rpartition(".")[0]


def _resolve_relative(module: str | None, level: int, package: str) -> str | None:
    if level == 0:
        return module
    parts = package.split(".") if package else []
    if level - 1 > len(parts):
        return None
    base = ".".join(parts[: len(parts) - (level - 1)])
    if module:
        return f"{base}.{module}" if base else module
    return base or None


def imported_names(module: ModuleSource) -> set[str]:
    """Every module name ``module`` may import (candidates; not all exist)."""
    try:
        tree = ast.parse(module.source)
    except SyntaxError:
        return set()
    package = _package_of(module.name, module.is_package)
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _resolve_relative(node.module, node.level, package)
            if base is None:
                continue
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
    names.discard(module.name)
    return names


class ImportGraph:
    """Which user module imports which; answers "what to reload, in which order"."""

    def __init__(self, imports: Mapping[str, Iterable[str]], order: Sequence[str] = ()) -> None:
        known = set(imports)
        self._imports = {name: sorted(set(deps) & known) for name, deps in imports.items()}
        self._rank = {name: index for index, name in enumerate(order)}
        self._importers: dict[str, set[str]] = {name: set() for name in imports}
        for name, deps in self._imports.items():
            for dep in deps:
                self._importers[dep].add(name)

    @classmethod
    def from_sources(cls, modules: Sequence[ModuleSource]) -> ImportGraph:
        """Build from sources; ``modules`` order (e.g. import order) breaks ties."""
        return cls(
            {module.name: imported_names(module) for module in modules},
            [module.name for module in modules],
        )

    def dependents(self, changed: Iterable[str]) -> set[str]:
        """``changed`` plus every module that imports one of them, transitively."""
        seen: set[str] = set()
        todo = [name for name in changed if name in self._imports]
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            todo.extend(self._importers[name] - seen)
        return seen

    def reload_order(self, changed: Iterable[str]) -> list[str]:
        """The modules to reload for ``changed``, each after the modules it imports.

        A depth-first post-order over imports, restricted to the affected set;
        inside an import cycle the original import order decides.
        """
        affected = self.dependents(changed)
        ordered: list[str] = []
        done: set[str] = set()
        for root in self._sorted(affected):
            stack: list[tuple[str, list[str]]] = [(root, self._deps_in(root, affected))]
            if root in done:
                continue
            done.add(root)
            while stack:
                name, pending = stack[-1]
                if pending:
                    dep = pending.pop(0)
                    if dep not in done:
                        done.add(dep)
                        stack.append((dep, self._deps_in(dep, affected)))
                else:
                    stack.pop()
                    ordered.append(name)
        return ordered

    def _deps_in(self, name: str, affected: set[str]) -> list[str]:
        return self._sorted(set(self._imports[name]) & affected)

    def _sorted(self, names: Iterable[str]) -> list[str]:
        return sorted(names, key=lambda n: (self._rank.get(n, len(self._rank)), n))
