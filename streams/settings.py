"""Per-stream options and the error payload contract."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ErrorPayload:
    """What an error becomes on the wire: an HTTP status and a JSON body.

    Before the first byte the stream answers ``status`` with ``body``; after it,
    ``event_data`` is the data of an ``event: error`` frame. ``type`` names the
    error's class for typed clients (an ``APIException`` subclass), else None.
    ``headers`` go with the status answer only (an event carries none).
    """

    status: int
    body: bytes
    type: str | None = None
    headers: tuple[tuple[bytes, bytes], ...] = ()

    @property
    def event_data(self) -> bytes:
        """``{"status": <int>, "type": <name or null>, "body": <body>}`` as JSON bytes."""
        # json.dumps of the name: a class name is ASCII-safe and needs no orjson here.
        kind = b"null" if self.type is None else json.dumps(self.type).encode()
        return b'{"status":%d,"type":%s,"body":%s}' % (self.status, kind, self.body)


@dataclass(frozen=True, slots=True)
class StreamSettings:
    """Timing and buffering of one stream.

    - ``ping_interval``: seconds of silence before a ``: ping`` comment (> 0).
    - ``send_timeout``: seconds one write may take before the peer is taken for
      dead and the stream is closed (None: no limit).
    - ``max_pending``: how many items the generator may run ahead of what the
      server has accepted for the socket.
    - ``close_timeout``: how long the generator's ``aclose()`` may take.
    - ``open_timeout``: how long the response waits for the first item before
      sending its 200 headers anyway. Errors before the headers are plain HTTP
      errors; a generator that raises later reports ``event: error``.
    """

    ping_interval: float = 15.0
    send_timeout: float | None = 30.0
    max_pending: int = 32
    close_timeout: float = 5.0
    open_timeout: float = 0.5

    def __post_init__(self) -> None:
        if not _positive(self.ping_interval):
            raise ValueError(
                f"ping_interval must be a finite number > 0, got {self.ping_interval!r}"
            )
        if self.send_timeout is not None and not _positive(self.send_timeout):
            raise ValueError(f"send_timeout must be > 0 or None, got {self.send_timeout!r}")
        if isinstance(self.max_pending, bool) or not isinstance(self.max_pending, int):
            raise TypeError(f"max_pending must be an int, got {self.max_pending!r}")
        if self.max_pending < 1:
            raise ValueError(f"max_pending must be >= 1, got {self.max_pending}")
        if not _positive(self.close_timeout):
            raise ValueError(f"close_timeout must be > 0, got {self.close_timeout!r}")
        if not _positive(self.open_timeout):
            raise ValueError(f"open_timeout must be > 0, got {self.open_timeout!r}")


def _positive(value: float) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < math.inf
