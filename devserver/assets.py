"""``belay dev --reload-on``: frontend files whose change reloads the browsers.

A bundler (esbuild, Vite, tsc) writes its output into a folder; when any file
matching a ``--reload-on`` folder or glob changes, browsers get a reload
message (no Python is reloaded). Patterns are relative to the current
directory, shell-style (``*`` also crosses folders): ``static/``,
``frontend/dist/*.js``.
"""

from __future__ import annotations

import asyncio
import fnmatch
import glob
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from devserver.notifier import FileNotifier


@dataclass(frozen=True)
class ReloadPattern:
    """One ``--reload-on`` value: the folder watched and what must match in it."""

    base: Path
    pattern: str  # "" matches every file under ``base``

    @classmethod
    def parse(cls, value: str, *, cwd: Path) -> ReloadPattern:
        """A file, a folder (every file in it, also before it exists) or a glob."""
        if not glob.has_magic(value):
            path = (cwd / value).resolve()
            if path.is_file():
                return cls(path.parent, path.name)
            return cls(path, "")
        parts = Path(value).parts
        fixed = _takewhile_plain(parts)
        base = (cwd / Path(*fixed)).resolve() if fixed else cwd.resolve()
        return cls(base, "/".join(parts[len(fixed) :]))

    @property
    def watched(self) -> Path:
        """The folder to watch: ``base``, or its nearest existing parent (a build makes it)."""
        folder = self.base
        while not folder.is_dir() and folder != folder.parent:
            folder = folder.parent
        return folder

    def matches(self, path: Path) -> bool:
        """True when the changed ``path`` is one of this pattern's files."""
        if not path.is_relative_to(self.base):
            return False
        if not self.pattern:
            return True
        return fnmatch.fnmatch(path.relative_to(self.base).as_posix(), self.pattern)


def _takewhile_plain(parts: Sequence[str]) -> list[str]:
    plain: list[str] = []
    for part in parts:
        if glob.has_magic(part):
            break
        plain.append(part)
    return plain


def project_path(path: Path, cwd: Path) -> str:
    """``path`` relative to the project (``cwd``); just its name when outside it.

    Sent to browsers, which must not learn where the project lives on disk.
    """
    if path.is_relative_to(cwd):
        return path.relative_to(cwd).as_posix()
    return path.name


class AssetWatch:
    """Yields the project-relative paths of changed files matching the patterns, per batch.

    The debounce is longer than for ``.py`` saves: a bundler writes several
    files (code, source maps, CSS) one after another.
    """

    def __init__(
        self,
        patterns: Sequence[ReloadPattern],
        *,
        cwd: Path,
        stop_event: asyncio.Event,
        debounce_ms: int = 400,
        step_ms: int = 50,
    ) -> None:
        self.patterns = tuple(patterns)
        self.cwd = cwd.resolve()
        folders = sorted({str(p.watched) for p in self.patterns})
        # Created here, not on first iteration: a bundler's output written
        # before iteration starts counts (see devserver.notifier).
        self._notifier = FileNotifier(
            folders, stop_event=stop_event, debounce_ms=debounce_ms, step_ms=step_ms
        )

    async def __aiter__(self) -> AsyncIterator[tuple[str, ...]]:
        try:
            while (raw := await self._notifier.next_batch()) is not None:
                changed = {Path(path) for _, path in raw}
                hits = sorted(
                    project_path(p, self.cwd)
                    for p in changed
                    if any(pattern.matches(p) for pattern in self.patterns)
                )
                if hits:
                    yield tuple(hits)
        finally:
            self._notifier.close()
