"""What the dev server tells the developer: one line per event."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from devserver.changes import SyntaxProblem
from devserver.failures import display_path


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
