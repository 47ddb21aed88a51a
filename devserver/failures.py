"""Exceptions from user code, told as ``file:line: Type: message`` for the console."""

from __future__ import annotations

import os
import traceback
from collections.abc import Sequence
from pathlib import Path


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
