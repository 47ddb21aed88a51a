"""The one SSE parser of the test suite: wire bytes to frames (field -> value).

A frame is a dict of its fields; repeated ``data`` lines are joined with LF as
the SSE spec says, and a comment line (a ping) is kept whole under ``comment``.
Parsing is strict about what Belay writes (``name: value`` lines, frames ended
by a blank line), so a framing change shows up as a test failure here.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator

Frame = dict[str, str]


def parse_frame(block: bytes) -> Frame:
    """One frame (without its terminating blank line) as field -> value."""
    frame: Frame = {}
    for line in block.decode().split("\n"):
        if line.startswith(":"):
            name, value = "comment", line
        else:
            name, _, value = line.partition(": ")
        frame[name] = frame[name] + "\n" + value if name in frame else value
    return frame


def split_frames(buffer: bytes) -> tuple[list[Frame], bytes]:
    """The complete frames at the start of ``buffer``, and the incomplete rest.

    A ping is written as a lone comment line (no blank line after it, which
    clients that fire an event per blank line would turn into an empty event),
    so comment lines at the start of a block are frames of their own.
    """
    *whole, rest = buffer.split(b"\n\n")
    frames: list[Frame] = []
    for block in whole:
        lines = block.split(b"\n")
        while len(lines) > 1 and lines[0].startswith(b":"):
            frames.append(parse_frame(lines.pop(0)))
        if lines != [b""]:
            frames.append(parse_frame(b"\n".join(lines)))
    while rest.startswith(b":") and b"\n" in rest:  # complete pings before an unfinished frame
        line, rest = rest.split(b"\n", 1)
        frames.append(parse_frame(line))
    return frames, rest


def parse_frames(body: bytes) -> list[Frame]:
    """Every frame of a whole SSE body; an unterminated tail is an error, not a frame."""
    frames, rest = split_frames(body)
    if rest:
        raise ValueError(f"SSE body ends inside a frame: {rest!r}")
    return frames


async def iter_frames(chunks: AsyncIterator[bytes]) -> AsyncGenerator[Frame, None]:
    """Each frame as soon as it is complete, from a body arriving in chunks (e.g. httpx's).

    Close it (``contextlib.aclosing``) when leaving early: it closes ``chunks`` too,
    so no generator is left for the garbage collector (trio warns about those).
    """
    buffer = b""
    try:
        async for chunk in chunks:
            frames, buffer = split_frames(buffer + chunk)
            for frame in frames:
                yield frame
    finally:
        close = getattr(chunks, "aclose", None)
        if close is not None:
            await close()
