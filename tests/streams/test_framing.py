from __future__ import annotations

import orjson
import pytest

from streams.framing import (
    END_FRAME,
    EVENT_END,
    EVENT_ERROR,
    PING_COMMENT,
    PING_FRAME,
    frame_comment,
    frame_data,
    frame_error,
    frame_event,
)
from streams.settings import ErrorPayload


def test_frame_data_single_line() -> None:
    assert frame_data(b'{"n":1}') == b'data: {"n":1}\n\n'


def test_frame_data_with_id_puts_id_first() -> None:
    assert frame_data(b"{}", event_id="42") == b"data: {}\nid: 42\n\n"


@pytest.mark.parametrize("data", [b"a\nb\r\nc\rd", b"a\r\nb\nc\rd"])
def test_frame_data_splits_every_kind_of_line_break(data: bytes) -> None:
    assert frame_data(data) == b"data: a\ndata: b\ndata: c\ndata: d\n\n"


def test_frame_data_keeps_trailing_empty_line() -> None:
    assert frame_data(b"a\n") == b"data: a\ndata: \n\n"


def test_frame_data_empty_payload_is_still_a_message() -> None:
    assert frame_data(b"") == b"data: \n\n"


@pytest.mark.parametrize("bad", ["a\nb", "a\rb", "a\0b"])
def test_frame_data_rejects_unsendable_id(bad: str) -> None:
    with pytest.raises(ValueError, match="CR, LF or NUL"):
        frame_data(b"{}", event_id=bad)


def test_frame_event_names_the_event() -> None:
    assert frame_event("error", b'{"detail":"x"}') == b'event: error\ndata: {"detail":"x"}\n\n'


def test_frame_event_rejects_line_break_in_name() -> None:
    with pytest.raises(ValueError, match="event name"):
        frame_event("a\nb", b"{}")


def test_frame_comment_prefixes_each_line() -> None:
    assert frame_comment("ping") == b": ping\n\n"
    assert frame_comment("a\nb") == b": a\n: b\n\n"


def test_wire_names_are_the_pinned_ones() -> None:
    assert (EVENT_END, EVENT_ERROR, PING_COMMENT) == ("end", "error", ": ping")
    assert PING_FRAME == b": ping\n"
    assert END_FRAME == b"event: end\ndata: {}\n\n"
    assert frame_error(b'{"detail":"boom"}') == b'event: error\ndata: {"detail":"boom"}\n\n'


def test_error_payload_event_data_wraps_status_type_and_body() -> None:
    typed = ErrorPayload(409, b'{"detail":"room is full","capacity":3}', type="RoomFull")
    assert orjson.loads(typed.event_data) == {
        "status": 409,
        "type": "RoomFull",
        "body": {"detail": "room is full", "capacity": 3},
    }
    plain = ErrorPayload(500, b'{"detail":"Internal Server Error"}')
    assert (
        plain.event_data == b'{"status":500,"type":null,"body":{"detail":"Internal Server Error"}}'
    )
