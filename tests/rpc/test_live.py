"""Live viewers' pieces without a server: coalescing, page keys, notifications, plans."""

from __future__ import annotations

import anyio
import pytest

from rpc.broadcast import decode_change, encode_change, page_key
from rpc.live import _next_change, is_shared
from streams.brokers.base import CATCH_UP, Subscriber
from streams.positions import Delivery
from tests.e2e.live_apps import Score, build_live_app

pytestmark = pytest.mark.anyio


def _change(offset: int, reload: frozenset[str] | None, epoch: str = "e1") -> Delivery:
    return Delivery.build(epoch, offset, encode_change(reload))


async def test_live_burst_of_changes_coalesces_into_one_union() -> None:
    subscriber = Subscriber()
    for offset, fields in enumerate(({"count"}, {"notes"}, {"count"}), start=1):
        subscriber.enqueue(_change(offset, frozenset(fields)))
    with anyio.fail_after(5):
        reload, last, exact = await _next_change(subscriber, None)
    assert reload == frozenset({"count", "notes"})
    assert last == ("e1", 3)
    assert exact
    assert subscriber.queued == 0


async def test_live_all_wins_over_fields_in_a_burst() -> None:
    subscriber = Subscriber()
    subscriber.enqueue(_change(1, frozenset({"count"})))
    subscriber.enqueue(_change(2, None))
    subscriber.enqueue(_change(3, frozenset({"notes"})))
    with anyio.fail_after(5):
        reload, _, _ = await _next_change(subscriber, None)
    assert reload is None


async def test_live_gap_epoch_change_or_overflow_means_everything() -> None:
    subscriber = Subscriber()
    subscriber.enqueue(_change(5, frozenset({"count"})))  # 3 and 4 were missed
    with anyio.fail_after(5):
        assert (await _next_change(subscriber, ("e1", 2)))[0] is None
        subscriber.enqueue(_change(1, frozenset({"count"}), epoch="e2"))
        assert (await _next_change(subscriber, ("e1", 5)))[0] is None
        subscriber.enqueue(CATCH_UP)
        reload, last, exact = await _next_change(subscriber, ("e2", 1))
    assert reload is None
    assert last == ("e2", 1)
    assert not exact  # an overflow: the position does not name the state


async def test_live_duplicate_notifications_change_nothing() -> None:
    subscriber = Subscriber()
    subscriber.enqueue(_change(2, frozenset({"count"})))
    with anyio.fail_after(5):
        reload, last, _ = await _next_change(subscriber, ("e1", 2))
    assert reload == frozenset()
    assert last == ("e1", 2)


def test_live_notifications_round_trip_and_junk_means_everything() -> None:
    assert decode_change(encode_change(frozenset({"b", "a"}))) == frozenset({"a", "b"})
    assert decode_change(encode_change(None)) is None
    assert decode_change(b"not json") is None
    assert decode_change(b'{"reload": [1]}') is None


def test_live_page_keys_follow_validated_values() -> None:
    assert page_key("C", {"room": "a", "step": 2}) == page_key("C", {"step": 2, "room": "a"})
    assert page_key("C", {"room": "a"}) != page_key("D", {"room": "a"})
    long_key = page_key("C", {"room": "x" * 1000})
    assert len(long_key) < 100
    assert long_key.startswith("C#")


def test_live_render_is_shared_only_without_request_or_dependencies() -> None:
    app, _, _ = build_live_app()
    plans = app._dispatcher.live.plans
    assert is_shared(plans["ScoreController"].full.plan)
    assert not is_shared(plans["BoardController"].full.plan)  # Depends(viewer_name)


def test_live_declaration_mistakes_fail_at_import_time() -> None:
    from rpc import ControllerBase, RPCApp, sideeffect
    from rpc.errors import DeclarationError

    with pytest.raises(TypeError, match="broadcast= takes True or False"):
        sideeffect(broadcast="yes")  # type: ignore[call-overload]

    class Taken(ControllerBase):
        url = "/t"

        async def render(self) -> Score:
            return Score(name="", points=0, level=0)

        @sideeffect
        async def live(self) -> None: ...

    with pytest.raises(DeclarationError, match="cannot be named 'live'"):
        RPCApp(controllers=[Taken()])


def test_live_path_and_broadcast_flag_are_in_the_description() -> None:
    from rpc.description import describe_app
    from rpcmeta import live_path

    app, _, _ = build_live_app()
    description = describe_app(app)
    board = next(c for c in description.controllers if c.id == "BoardController")
    assert live_path(description, board) == "/internal/api/BoardController/live"
    flags = {a.name: a.broadcast for a in board.actions}
    assert flags["bump"] is True
    assert flags["quiet"] is False


async def test_live_detached_subscriber_means_everything_and_stops_folding() -> None:
    subscriber = Subscriber()
    subscriber.enqueue(_change(1, frozenset({"count"})))
    subscriber.detach()  # the broker let go: queued news is dropped with it
    with anyio.fail_after(5):
        reload, last, exact = await _next_change(subscriber, ("e1", 0))
    assert reload is None
    assert last == ("e1", 0)
    assert not exact
    assert subscriber.detached
