"""File changes: where they come from, and which of them deserve a reload.

The reload logic takes any :class:`ChangeSource`; :class:`WatchfilesSource` is
the real one (watchfiles via :mod:`devserver.notifier`, editor-sized debounce), tests pass
a list. :class:`ChangeFilter` keeps only ``.py`` files whose bytes really
changed, checks their syntax with ``compile()`` before anything is reloaded,
and holds changes back while any watched file is broken.
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import importlib.util
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import watchfiles

from devserver.notifier import FileNotifier


class ChangeKind(enum.Enum):
    """What happened to a file (watchfiles never reports reads or opens)."""

    ADDED = "added"
    MODIFIED = "modified"
    DELETED = "deleted"


@dataclass(frozen=True)
class FileChange:
    """One change of one file."""

    kind: ChangeKind
    path: Path


class ChangeSource(Protocol):
    """An async stream of change batches (one batch per editor save, roughly)."""

    def __aiter__(self) -> AsyncIterator[frozenset[FileChange]]: ...


_KINDS = {
    watchfiles.Change.added: ChangeKind.ADDED,
    watchfiles.Change.modified: ChangeKind.MODIFIED,
    watchfiles.Change.deleted: ChangeKind.DELETED,
}


# Never watched for .py changes: environments, dependencies, VCS data, caches and
# build output (build/ and dist/ hold copies of the sources a build step made).
SKIPPED_DIRS = frozenset(
    {
        "__pycache__",
        ".git",
        ".hg",
        ".venv",
        "venv",
        "node_modules",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".tox",
        "build",
        "dist",
    }
)


def in_skipped_dir(path: Path, roots: Sequence[Path]) -> bool:
    """True when ``path`` lies in a :data:`SKIPPED_DIRS` folder below its watched root.

    Only the part below the root counts: a project that itself lives in a
    folder called ``build`` is still watched.
    """
    for root in roots:
        if path.is_relative_to(root):
            return any(part in SKIPPED_DIRS for part in path.relative_to(root).parts[:-1])
    return False


class WatchfilesSource:
    """Changes of ``.py`` files under ``roots``, from :class:`FileNotifier`.

    The notifier is created here, not on first iteration (see
    :mod:`devserver.notifier` for why). Editors finish a save (truncate +
    write, or write + rename) within a few ms, hence the short debounce.
    """

    def __init__(
        self,
        roots: Sequence[Path],
        *,
        stop_event: asyncio.Event | None = None,
        debounce_ms: int = 40,
        step_ms: int = 5,
    ) -> None:
        self._notifier = FileNotifier(
            roots, stop_event=stop_event, debounce_ms=debounce_ms, step_ms=step_ms
        )
        self._roots = [Path(root) for root in roots]
        self._filter = watchfiles.PythonFilter()

    async def __aiter__(self) -> AsyncIterator[frozenset[FileChange]]:
        try:
            while (raw := await self._notifier.next_batch()) is not None:
                batch = frozenset(
                    FileChange(_KINDS[watchfiles.Change(kind)], Path(path))
                    for kind, path in raw
                    if self._filter(watchfiles.Change(kind), path)
                    and not in_skipped_dir(Path(path), self._roots)
                )
                if batch:
                    yield batch
        finally:
            self._notifier.close()


def merge_watch_paths(paths: Iterable[Path]) -> list[Path]:
    """Drop duplicates and any path inside another one, so each tree is watched once."""
    unique = sorted({Path(path).resolve() for path in paths}, key=lambda p: (len(p.parts), p))
    merged: list[Path] = []
    for path in unique:
        if not any(path == kept or path.is_relative_to(kept) for kept in merged):
            merged.append(path)
    return sorted(merged)


@dataclass(frozen=True)
class SyntaxProblem:
    """A saved file that does not compile."""

    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass(frozen=True)
class ChangeDecision:
    """What to do about one batch.

    ``reload`` is empty when nothing relevant changed or when a file is broken
    (``blocked``); ``new_problems`` are syntax errors not reported before.
    """

    reload: tuple[Path, ...]
    new_problems: tuple[SyntaxProblem, ...] = ()
    blocked: bool = False


def read_file_bytes(path: Path) -> bytes | None:
    """The file's bytes, or None when it vanished or cannot be read."""
    try:
        return path.read_bytes()
    except OSError:
        return None


def digest(content: bytes) -> str:
    """A content hash for identical-rewrite detection."""
    return hashlib.blake2b(content, digest_size=16).hexdigest()


def drop_stale_bytecode(path: Path) -> None:
    """Delete ``path``'s cached ``.pyc``, if any.

    A ``.pyc`` is trusted when the source's mtime (whole seconds) and size match,
    so two same-size saves within one second would load the old code.
    """
    try:
        Path(importlib.util.cache_from_source(str(path))).unlink(missing_ok=True)
    except (OSError, NotImplementedError, ValueError):
        return


def check_syntax(path: Path, content: bytes) -> SyntaxProblem | None:
    """Compile ``content`` without running it; the problem if it does not compile."""
    try:
        compile(content, str(path), "exec", dont_inherit=True)
    except SyntaxError as exc:
        return SyntaxProblem(path=path, line=exc.lineno or 0, message=exc.msg)
    except ValueError as exc:  # e.g. null bytes in the source
        return SyntaxProblem(path=path, line=0, message=str(exc))
    return None


@dataclass
class ChangeFilter:
    """Turns raw change batches into reload decisions (pure logic, injectable reads)."""

    read: Callable[[Path], bytes | None] = read_file_bytes
    hashes: dict[Path, str] = field(default_factory=dict)
    broken: dict[Path, SyntaxProblem] = field(default_factory=dict)
    pending: set[Path] = field(default_factory=set)

    def remember(self, paths: Iterable[Path]) -> None:
        """Record the current content of ``paths`` as the baseline."""
        for path in paths:
            content = self.read(path)
            if content is not None:
                self.hashes[path] = digest(content)

    def decide(self, batch: Iterable[FileChange]) -> ChangeDecision:
        """Update state from ``batch`` and say what to reload now."""
        problems: list[SyntaxProblem] = []
        for change in sorted(batch, key=lambda c: (str(c.path), c.kind.value)):
            if change.path.suffix != ".py":
                continue
            problem = self._take(change)
            if problem is not None:
                problems.append(problem)
        if self.broken:
            return ChangeDecision(reload=(), new_problems=tuple(problems), blocked=True)
        ready = tuple(sorted(self.pending))
        self.pending.clear()
        return ChangeDecision(reload=ready, new_problems=tuple(problems))

    def _take(self, change: FileChange) -> SyntaxProblem | None:
        path = change.path
        content = None if change.kind is ChangeKind.DELETED else self.read(path)
        if content is None:
            if self.hashes.pop(path, None) is not None:
                self.pending.add(path)
            self.broken.pop(path, None)
            return None
        fingerprint = digest(content)
        if self.hashes.get(path) == fingerprint:
            return None
        self.hashes[path] = fingerprint
        self.pending.add(path)
        problem = check_syntax(path, content)
        if problem is None:
            self.broken.pop(path, None)
        else:
            self.broken[path] = problem
        return problem
