"""Event ids: ``tracked(id, item)`` on the way out, ``LastEventId`` on the way back in."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Annotated, Final, Generic, TypeVar, cast, get_args, get_origin

from streams.framing import check_event_id, frame_data, frame_event
from streams.positions import Delivery, DeliveryRun, Reset

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class TrackedItem(Generic[T]):
    """An item sent with an SSE ``id:`` so a reconnecting client can resume after it."""

    id: str
    item: T


def tracked(id: str | int, item: T) -> T:
    """Wrap ``item`` so that it is sent with ``id: <id>``.

    Statically this returns the item's own type, so ``yield tracked(n, Tick(n=n))``
    type-checks in a generator annotated ``-> AsyncIterator[Tick]``; at run time
    it is a ``TrackedItem`` that the stream unwraps. Raises ``ValueError`` for
    an id containing CR, LF or NUL (it could not be sent), at the ``yield``,
    where the mistake is.
    """
    if isinstance(id, bool) or not isinstance(id, str | int):
        raise TypeError(f"tracked() id must be str or int, not {type(id).__name__}")
    return cast(T, TrackedItem(check_event_id(str(id)), item))


@dataclass(frozen=True, slots=True)
class NamedEvent:
    """A stream item sent as ``event: <event>`` with ``data`` (JSON bytes, already encoded).

    For protocol frames a producer adds to a user's items (such as the page
    state that ends a streaming sideeffect); the item encoder never sees it.
    """

    event: str
    data: bytes


class _LastEventIdMarker:
    __slots__ = ()

    def __repr__(self) -> str:
        return "streams.LastEventId"


LAST_EVENT_ID_MARKER: Final = _LastEventIdMarker()

LastEventId = Annotated[str | None, LAST_EVENT_ID_MARKER]
"""Annotate a parameter with this to receive the ``Last-Event-ID`` header (None if absent)."""


def is_last_event_id(annotation: object) -> bool:
    """True if ``annotation`` (from ``get_type_hints(include_extras=True)``) is ``LastEventId``."""
    if get_origin(annotation) is not Annotated:
        return False
    return any(extra is LAST_EVENT_ID_MARKER for extra in get_args(annotation)[1:])


def read_last_event_id(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    """The ``Last-Event-ID`` value from raw ASGI headers, or None when absent or empty."""
    for name, value in headers:
        if name.lower() == b"last-event-id":
            text = value.decode("utf-8", "replace")
            return text or None
    return None


def frame_items(
    items: list[object], encode: Callable[[object], bytes]
) -> tuple[bytes, Exception | None]:
    """Frame yielded items (``TrackedItem`` ones with their id) into one chunk.

    A channel's ``Delivery`` (or ``DeliveryRun``) is already framed (once per worker, shared by its
    subscribers) and a ``Reset`` frames itself: neither goes through ``encode``.
    A ``NamedEvent`` is framed as its event, without going through ``encode``.

    Stops at the first item ``encode`` fails on and returns that error with the
    frames before it, so they can still be sent ahead of the error.
    """
    parts: list[bytes] = []
    try:
        for item in items:
            if type(item) is Delivery:
                parts.append(item.frame)
            elif type(item) is TrackedItem:
                parts.append(frame_data(encode(item.item), event_id=item.id))
            elif type(item) is NamedEvent:
                parts.append(frame_event(item.event, item.data))
            elif type(item) is DeliveryRun:
                parts.append(item.frame)
            elif type(item) is Reset:
                parts.append(item.frame())
            else:
                parts.append(frame_data(encode(item)))
    except Exception as exc:
        return b"".join(parts), exc
    return b"".join(parts), None
