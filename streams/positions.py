"""Channel positions (``"<epoch>-<offset>"``) and the two stream items they travel in.

A position names one event of one channel key: the *epoch* is a token that
changes whenever the key's history is lost, the *offset* counts the key's
events from 1 (0: before the first). ``Delivery`` is a channel event already
framed for the wire (framed once per worker, shared by every subscriber),
``DeliveryRun`` several consecutive ones;
``Reset`` tells a client that continuity could not be proven, so it must
reload its state and continue from ``position``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import orjson

from streams.framing import check_event_id

EVENT_RESET = "reset"
"""Event name of the frame that tells a client to reload its state (data ``{"position"}``)."""

_EPOCH = re.compile(r"[0-9A-Za-z]{1,64}")
_OFFSET = re.compile(r"0|[1-9][0-9]{0,17}")


def format_position(epoch: str, offset: int) -> str:
    """The wire form of a position: ``"<epoch>-<offset>"``."""
    return f"{epoch}-{offset}"


def parse_position(text: str | None) -> tuple[str, int] | None:
    """``(epoch, offset)`` from ``"<epoch>-<offset>"``, or None for anything else.

    Never raises: a ``Last-Event-ID`` header is client input, and junk in it
    must lead to a ``Reset``, not an error.
    """
    if not text or len(text) > 90:
        return None
    epoch, dash, offset = text.rpartition("-")
    if not dash or not _EPOCH.fullmatch(epoch) or not _OFFSET.fullmatch(offset):
        return None
    return epoch, int(offset)


def check_epoch(epoch: str) -> str:
    """Return ``epoch`` unchanged, or raise ``ValueError`` if it cannot be part of a position."""
    if not _EPOCH.fullmatch(epoch):
        raise ValueError(f"an epoch is 1-64 ASCII letters or digits, got {epoch!r}")
    return epoch


@dataclass(frozen=True, slots=True)
class Reset:
    """A stream item: continuity is lost; reload state, then continue after ``position``.

    Framed as ``event: reset`` with data ``{"position": "<epoch>-<offset>"}`` and
    the same position as its ``id:``, so a reconnect resumes from there. Any
    stream may yield one.
    """

    position: str

    def frame(self) -> bytes:
        """The SSE bytes of this marker."""
        position = check_event_id(self.position)
        data = orjson.dumps({"position": position})
        # The id line last, as in every frame (see ``streams.framing.frame_data``).
        head = b"event: " + EVENT_RESET.encode() + b"\ndata: " + data
        return head + b"\nid: " + position.encode() + b"\n\n"


@dataclass(frozen=True, slots=True)
class Delivery:
    """One channel event as it goes out: its position and its finished SSE frame.

    ``data`` is the event's JSON, encoded once by the publisher; ``frame`` adds
    the ``id:`` line (last, as ``frame_data`` does), built once per worker and
    shared by every subscriber.
    """

    epoch: str
    offset: int
    data: bytes
    frame: bytes

    @classmethod
    def build(cls, epoch: str, offset: int, data: bytes) -> Delivery:
        """Frame ``data`` as the event at ``(epoch, offset)``."""
        event_id = format_position(epoch, offset).encode()
        if b"\n" in data or b"\r" in data:
            raise ValueError("channel event data must be one line of JSON")
        return cls(epoch, offset, data, b"data: " + data + b"\nid: " + event_id + b"\n\n")

    @property
    def position(self) -> str:
        """This event's position, ``"<epoch>-<offset>"``."""
        return format_position(self.epoch, self.offset)


@dataclass(frozen=True, slots=True)
class DeliveryRun:
    """Consecutive channel events that were ready together, sent as one item.

    A subscription that finds several events waiting hands them on at once:
    the stream writes their frames in one go, and the per-item cost of the
    generators in between is paid once per run, not once per event.
    """

    deliveries: tuple[Delivery, ...]

    @property
    def frame(self) -> bytes:
        """The frames of every event of the run, in order."""
        return b"".join(delivery.frame for delivery in self.deliveries)
