"""Positions, ``Reset`` and ``Delivery`` framing: pure functions, plain asserts."""

from __future__ import annotations

import orjson
import pytest

from streams import Reset
from streams.positions import Delivery, DeliveryRun, format_position, parse_position
from streams.tracking import frame_items, tracked


def test_positions_round_trip() -> None:
    assert parse_position(format_position("6b13abc", 42)) == ("6b13abc", 42)
    assert parse_position("e-0") == ("e", 0)


@pytest.mark.parametrize(
    "text", [None, "", "7", "-1", "e-", "e--1", "e-01", "e-1.5", "e f-1", "é-1", "e-" + "9" * 30]
)
def test_positions_refuse_junk_without_raising(text: str | None) -> None:
    assert parse_position(text) is None


def test_reset_frames_as_a_reset_event_with_its_position_as_id() -> None:
    frame = Reset("e1-7").frame()
    assert frame == b'event: reset\ndata: {"position":"e1-7"}\nid: e1-7\n\n'
    assert orjson.loads(frame.split(b"data: ")[1].split(b"\n")[0]) == {"position": "e1-7"}


def test_reset_refuses_a_position_that_would_break_the_frame() -> None:
    with pytest.raises(ValueError, match="CR, LF or NUL"):
        Reset("e\n1").frame()


def test_delivery_is_framed_once_and_sent_as_is() -> None:
    delivery = Delivery.build("e1", 3, b'{"n":1}')
    assert delivery.frame == b'data: {"n":1}\nid: e1-3\n\n'
    assert delivery.position == "e1-3"
    calls: list[object] = []

    def encode(item: object) -> bytes:
        calls.append(item)
        return orjson.dumps(item)

    chunk, error = frame_items([delivery, Reset("e1-3"), tracked(9, {"x": 1})], encode)
    assert error is None
    assert chunk == delivery.frame + Reset("e1-3").frame() + b'data: {"x":1}\nid: 9\n\n'
    assert calls == [{"x": 1}]  # the delivery and the reset were not encoded again


def test_delivery_refuses_multi_line_data() -> None:
    with pytest.raises(ValueError, match="one line"):
        Delivery.build("e1", 1, b"{\n}")


def test_delivery_run_frames_its_events_in_order() -> None:
    first, second = Delivery.build("e1", 1, b"1"), Delivery.build("e1", 2, b"2")
    chunk, error = frame_items([DeliveryRun((first, second))], orjson.dumps)
    assert error is None
    assert chunk == b"data: 1\nid: e1-1\n\ndata: 2\nid: e1-2\n\n"
