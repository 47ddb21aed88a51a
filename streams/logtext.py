"""Logging exceptions without letting their text forge log lines.

An exception message often carries request data (``ValueError(f"bad {value}")``).
Written raw, a CR or LF in it starts what looks like a new log record, and
other control characters can rewrite a terminal. ``log_exception`` logs the
traceback with the structure a reader expects (one line per frame) while every
part that comes from the exception's text (its message and notes, also in
chained exceptions) has its control characters escaped.

The escaping does not depend on the handler's formatter: the record keeps
``exc_info`` (for error trackers that read the exception object) and carries
the escaped traceback as ``exc_text``, which ``logging.Formatter`` prints as
it is.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Iterator

# C0 controls, DEL, C1 controls and the Unicode line/paragraph separators.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escape_control(text: str) -> str:
    """``text`` with every control character written as an escape (``\\n``, ``\\x1b``)."""
    return _CONTROL.sub(_escape_one, text)


def _escape_one(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def format_exception_text(exc: BaseException) -> str:
    """The traceback of ``exc`` (and its causes), exception texts escaped, no final newline."""
    summary = traceback.TracebackException.from_exception(exc)
    return "".join(_chain(summary, set())).rstrip("\n")


def _chain(summary: traceback.TracebackException, seen: set[int]) -> Iterator[str]:
    seen.add(id(summary))
    cause, context = summary.__cause__, summary.__context__
    if cause is not None and id(cause) not in seen:
        yield from _chain(cause, seen)
        yield "\nThe above exception was the direct cause of the following exception:\n\n"
    elif context is not None and not summary.__suppress_context__ and id(context) not in seen:
        yield from _chain(context, seen)
        yield "\nDuring handling of the above exception, another exception occurred:\n\n"
    if summary.stack:
        yield "Traceback (most recent call last):\n"
        yield from summary.stack.format()
    # Notes are written by us: format_exception_only splits them at newlines,
    # which would leave an injected line indistinguishable from a real one.
    notes, summary.__notes__ = summary.__notes__, None
    for part in summary.format_exception_only():
        # Each part is one logical line (the message, a syntax error's caret
        # line) ending in one newline; anything inside it is escaped.
        yield escape_control(part.removesuffix("\n")) + "\n"
    for note in notes or ():
        yield escape_control(str(note)) + "\n"
    for member in summary.exceptions or ():
        yield from _chain(member, seen)


def log_exception(
    logger: logging.Logger, message: str, exc: BaseException, *, level: int = logging.ERROR
) -> None:
    """Log ``message`` (escaped) with ``exc``'s traceback, escaped as described above."""
    if not logger.isEnabledFor(level):
        return
    path, line, function, _ = logger.findCaller(stacklevel=2)
    record = logger.makeRecord(
        logger.name,
        level,
        path,
        line,
        escape_control(message),
        (),
        (type(exc), exc, exc.__traceback__),
        function,
    )
    record.exc_text = format_exception_text(exc)
    logger.handle(record)
