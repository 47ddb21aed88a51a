"""Helpers that write a small user package to disk and clean up sys.modules after."""

from __future__ import annotations

import importlib
import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def write(path: Path, text: str) -> None:
    """Write ``text``; bump the mtime so a same-size rewrite is never mistaken as unchanged."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


@contextmanager
def user_package(root: Path, files: dict[str, str]) -> Iterator[str]:
    """Write ``files`` into a uniquely named package under ``root``; yield its name."""
    name = f"userpkg_{uuid.uuid4().hex[:8]}"
    for relative, text in {"__init__.py": "", **files}.items():
        write(root / name / relative, text.replace("PKG", name))
    sys.path.insert(0, str(root))
    importlib.invalidate_caches()
    try:
        yield name
    finally:
        sys.path.remove(str(root))
        for module in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
            del sys.modules[module]
