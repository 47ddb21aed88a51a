"""The ``MODULE:ATTR`` target: parsing, locating without importing, importing.

The supervisor only ever *locates* modules (``PathFinder`` walks ``sys.path``
without executing any package ``__init__``); the app process imports them.
Either way the current directory comes first on ``sys.path``, as uvicorn and
hypercorn do, so ``belay dev shop:app`` works from the app's folder.
"""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass
from importlib.machinery import PathFinder
from pathlib import Path


class TargetError(Exception):
    """A ``MODULE:ATTR`` that cannot be used; the message is one line for the console."""


@dataclass(frozen=True)
class Target:
    """An app named as ``module:attr`` (``attr`` may be dotted)."""

    module: str
    attr: str

    @classmethod
    def parse(cls, text: str) -> Target:
        """Parse ``module:attr``; raise :class:`TargetError` when malformed."""
        module, sep, attr = text.partition(":")
        if not sep or not module or not attr:
            raise TargetError(f"expected MODULE:ATTR (e.g. shop.app:app), got {text!r}")
        return cls(module=module, attr=attr)

    def __str__(self) -> str:
        return f"{self.module}:{self.attr}"


def put_cwd_first() -> None:
    """Put the current directory first on ``sys.path`` (once)."""
    cwd = os.getcwd()
    if not sys.path or sys.path[0] not in ("", cwd):
        sys.path.insert(0, cwd)


def locate_module(name: str) -> Path | None:
    """The file (or package ``__init__``) of ``name``, found without importing anything."""
    put_cwd_first()
    search: list[str] | None = None
    spec = None
    parts = name.split(".")
    for index in range(len(parts)):
        spec = PathFinder.find_spec(".".join(parts[: index + 1]), search)
        if spec is None:
            return None
        locations = spec.submodule_search_locations
        search = list(locations) if locations is not None else None
        if search is None and index < len(parts) - 1:
            return None
    if spec is None or spec.origin is None or spec.origin in ("built-in", "frozen"):
        return None
    return Path(spec.origin).resolve()


def default_watch_dir(module: str) -> Path:
    """What to watch when no ``--watch`` is given: the top-level package, else the file's dir."""
    top = module.split(".")[0]
    origin = locate_module(top)
    if origin is None:
        raise TargetError(f"module {top!r} not found on sys.path (current directory first)")
    return origin.parent


def resolve_watch_arg(arg: str) -> Path:
    """A ``--watch`` argument: an existing directory, or a package/module name to locate."""
    path = Path(arg)
    if path.is_dir():
        return path.resolve()
    origin = locate_module(arg)
    if origin is None:
        raise TargetError(f"--watch {arg!r} is neither a directory nor an importable package")
    return origin.parent


def import_target(target: Target) -> object:
    """Import ``target.module`` and return ``target.attr`` from it.

    A missing module or attribute raises :class:`TargetError`; any other exception
    raised while importing the user's code propagates unchanged.
    """
    put_cwd_first()
    try:
        module = importlib.import_module(target.module)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if missing and (target.module == missing or target.module.startswith(missing + ".")):
            raise TargetError(f"module {missing!r} not found (importing {target})") from None
        raise
    value: object = module
    for part in target.attr.split("."):
        try:
            value = getattr(value, part)
        except AttributeError:
            raise TargetError(
                f"attribute {target.attr!r} not found in module {target.module!r}"
            ) from None
    return value
