"""What the dev server tells the developer: one line per event.

Exceptions from user code are told as ``file:line: Type: message`` (see
:func:`describe_error`), with the traceback trimmed to start in the user's code.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from devserver.changes import SyntaxProblem


def display_path(path: str | Path) -> str:
    """``path`` relative to the current directory when it is inside it."""
    resolved = Path(path)
    try:
        return os.path.relpath(resolved) if resolved.is_absolute() else str(resolved)
    except ValueError:
        return str(resolved)


def _is_under(filename: str, roots: Sequence[Path]) -> bool:
    path = Path(filename)
    return any(path.is_relative_to(root) for root in roots)


def error_location(exc: BaseException, roots: Sequence[Path] = ()) -> tuple[str, int]:
    """Where ``exc`` happened: the innermost frame in the user's code, else the innermost."""
    if isinstance(exc, SyntaxError) and exc.filename:
        return exc.filename, exc.lineno or 0
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "<unknown>", 0
    for frame in reversed(frames):
        if roots and _is_under(frame.filename, roots):
            return frame.filename, frame.lineno or 0
    return frames[-1].filename, frames[-1].lineno or 0


def describe_error(exc: BaseException, roots: Sequence[Path] = ()) -> str:
    """One line: ``shop/models.py:12: RuntimeError: table 'users' already defined``."""
    filename, line = error_location(exc, roots)
    message = exc.msg if isinstance(exc, SyntaxError) else str(exc)
    text = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return f"{display_path(filename)}:{line}: {text}"


def format_details(exc: BaseException, roots: Sequence[Path] = ()) -> str:
    """The traceback text, starting at the first frame of the user's code (when there is one).

    The frames before it are the dev server's and importlib's: noise to the reader.
    """
    summary = traceback.TracebackException.from_exception(exc)
    frames = list(summary.stack)
    first = next((i for i, f in enumerate(frames) if roots and _is_under(f.filename, roots)), 0)
    summary.stack = traceback.StackSummary.from_list(frames[first:])
    return "".join(summary.format())


@dataclass
class Console:
    """Formats dev server events as ``belay: ...`` lines on ``out``."""

    out: TextIO = field(default_factory=lambda: sys.stdout)

    def line(self, text: str) -> None:
        """Print one line, flushed (the console is often a pipe)."""
        print(f"belay: {text}", file=self.out, flush=True)

    def serving(self, url: str, target: str, *, ms: float, pid: int) -> None:
        """The app is up."""
        self.line(f"serving {target} on {url} (app process {pid}, started in {ms:.0f} ms)")

    def reloaded(self, modules: Sequence[str], ms: float) -> None:
        """An in-place reload finished."""
        self.line(f"reloaded {', '.join(modules)} in {ms:.1f} ms")

    def unused(self, paths: Sequence[Path]) -> None:
        """Saved files that no loaded module comes from."""
        names = ", ".join(display_path(path) for path in paths)
        self.line(f"{names} changed; the app does not import it, nothing to reload")

    def restarted(self, ms: float, pid: int) -> None:
        """A fresh app process took over."""
        self.line(f"restarted the app process in {ms:.0f} ms (pid {pid})")

    def syntax_error(self, problem: SyntaxProblem) -> None:
        """A saved file does not compile; the old code keeps serving."""
        where = f"{display_path(problem.path)}:{problem.line}"
        self.line(f"syntax error: {where}: {problem.message} (still serving the last good code)")

    def error(self, text: str, details: str = "") -> None:
        """An error with its ``file:line`` (and optionally the traceback)."""
        self.line(f"error: {text}")
        if details:
            print(details.rstrip(), file=self.out, flush=True)

    def codegen(self, files: Sequence[str], error: str) -> None:
        """The TS client was regenerated."""
        if error:
            self.line(f"codegen failed: {error}")
        elif files:
            self.line(f"codegen wrote {', '.join(display_path(f) for f in files)}")
