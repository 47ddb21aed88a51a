"""Sans-IO Server-Sent Events framing: events in, bytes out.

Every wire name of the stream protocol lives here (``EVENT_END``, ``EVENT_ERROR``,
``PING_COMMENT``), so the TypeScript runtime has one place to mirror.
"""

from __future__ import annotations

import re

EVENT_END = "end"
"""Event name of the frame that marks a clean end of the stream."""

EVENT_ERROR = "error"
"""Event name of the frame that carries the error JSON of a failed stream."""

EVENT_STATE = "state"
"""Event name of the frame that carries a streaming sideeffect's page state (sent by ``rpc``)."""

PING_COMMENT = ": ping"
"""The comment line sent to keep an idle connection alive."""

END_DATA = b"{}"
"""The data of the ``end`` frame (an empty JSON object, so every data line is JSON)."""

_LINE_BREAK = re.compile(rb"\r\n|\r|\n")
_FORBIDDEN_IN_ID = ("\r", "\n", "\0")


def check_event_id(event_id: str) -> str:
    """Return ``event_id`` unchanged, or raise ``ValueError`` if it cannot be an SSE id.

    A CR or LF would end the ``id:`` line early and a NUL makes browsers ignore
    the id, so such ids are refused rather than silently rewritten.
    """
    if any(char in event_id for char in _FORBIDDEN_IN_ID):
        raise ValueError(f"SSE event id must not contain CR, LF or NUL: {event_id!r}")
    return event_id


def _data_lines(data: bytes) -> bytes:
    if b"\n" not in data and b"\r" not in data:
        return b"data: " + data + b"\n"
    return b"".join(b"data: " + line + b"\n" for line in _LINE_BREAK.split(data))


def frame_data(data: bytes, *, event_id: str | None = None) -> bytes:
    """Frame one message: ``data:`` line(s), then an optional ``id:`` line, a blank line.

    Data containing line breaks is split into one ``data:`` line per line, as the
    SSE spec requires (the client joins them back with ``\\n``). The ``id:`` line
    comes last: some clients adopt an id as soon as they read its line, and a
    connection lost before the data would make them resume past an unseen event.
    """
    if event_id is None:
        return _data_lines(data) + b"\n"
    return _data_lines(data) + b"id: " + check_event_id(event_id).encode() + b"\n\n"


def frame_event(event: str, data: bytes) -> bytes:
    """Frame a named event (``event: <name>`` then the data lines)."""
    if any(char in event for char in _FORBIDDEN_IN_ID):
        raise ValueError(f"SSE event name must not contain CR, LF or NUL: {event!r}")
    return b"event: " + event.encode() + b"\n" + _data_lines(data) + b"\n"


def frame_comment(text: str) -> bytes:
    """Frame a comment (ignored by clients): one ``: <line>`` per line of ``text``."""
    lines = _LINE_BREAK.split(text.encode())
    return b"".join(b": " + line + b"\n" for line in lines) + b"\n"


PING_FRAME = PING_COMMENT.encode() + b"\n"
"""The bytes of one keep-alive ping: a lone comment line, no blank line after it.

Conforming parsers ignore it either way; without the blank line, clients that
dispatch an empty event for every blank line (fetch-event-source, httpx-sse)
see nothing. Pings are only sent between frames, so it never splits one.
"""

END_FRAME = frame_event(EVENT_END, END_DATA)
"""The bytes of the clean-end frame."""


def frame_error(body: bytes) -> bytes:
    """Frame the ``error`` event carrying an error's JSON body."""
    return frame_event(EVENT_ERROR, body)
