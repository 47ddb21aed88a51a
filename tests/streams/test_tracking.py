from __future__ import annotations

from typing import Annotated, get_type_hints

import pytest

from streams import LastEventId, tracked
from streams.tracking import (
    NamedEvent,
    TrackedItem,
    frame_items,
    is_last_event_id,
    read_last_event_id,
)


def test_tracked_wraps_item_with_string_id() -> None:
    item = object()
    assert tracked(5, item) == TrackedItem("5", item)
    wrapped: object = tracked("a-1", item)
    assert isinstance(wrapped, TrackedItem)
    assert wrapped.id == "a-1"


@pytest.mark.parametrize("bad", ["x\ny", "x\r", "\0"])
def test_tracked_rejects_unsendable_id(bad: str) -> None:
    with pytest.raises(ValueError, match="CR, LF or NUL"):
        tracked(bad, 1)


@pytest.mark.parametrize("bad", [True, 1.5, None])
def test_tracked_rejects_non_str_int_id(bad: object) -> None:
    with pytest.raises(TypeError):
        tracked(bad, 1)  # type: ignore[arg-type]


def test_is_last_event_id_on_resolved_hints() -> None:
    async def action(last: LastEventId, other: str | None, tagged: Annotated[str, "x"]) -> None:
        return None

    hints = get_type_hints(action, include_extras=True)
    assert is_last_event_id(hints["last"])
    assert not is_last_event_id(hints["other"])
    assert not is_last_event_id(hints["tagged"])
    assert not is_last_event_id(str)


def test_read_last_event_id_from_raw_headers() -> None:
    assert read_last_event_id([(b"accept", b"*/*"), (b"last-event-id", b"17")]) == "17"
    assert read_last_event_id([(b"Last-Event-ID", b"a")]) == "a"
    assert read_last_event_id([(b"last-event-id", b"")]) is None
    assert read_last_event_id([]) is None


def test_frame_items_frames_a_named_event_without_the_encoder() -> None:
    encoded: list[object] = []

    def encode(item: object) -> bytes:
        encoded.append(item)
        return b"1"

    chunk, error = frame_items([1, NamedEvent("state", b'{"a":1}')], encode)
    assert error is None
    assert chunk == b'data: 1\n\nevent: state\ndata: {"a":1}\n\n'
    assert encoded == [1]
