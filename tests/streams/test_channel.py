"""One conformance suite for ``Channel`` over every broker (memory, Redis RESP2 and RESP3)."""

from __future__ import annotations

import gc
import tracemalloc

import anyio
import pytest
from pydantic import ValidationError

from streams import Channel, Reset
from streams.brokers import Broker, MemoryBroker
from streams.brokers import memory as memory_broker
from streams.channel import ChannelKeyError, ChannelNotBoundError
from streams.positions import Delivery, format_position
from tests.streams.channels import (
    WATCHDOG,
    Note,
    assert_contiguous,
    epoch_of,
    every_broker,
    make_channel,
    note_of,
    offset_of,
    publish_and_take,
    take,
    topic_last,
    until,
    wait_attached,
)

pytestmark = pytest.mark.anyio


@every_broker
async def test_channel_position_before_publish_is_offset_zero_of_the_epoch_publish_keeps(
    broker: Broker,
) -> None:
    channel = make_channel(broker)
    before = await channel.position("lobby")
    assert offset_of(before) == 0
    first = await channel.publish("lobby", Note(n=1))
    assert first == format_position(epoch_of(before), 1)
    assert await channel.position("lobby") == first
    assert offset_of(await channel.position("other")) == 0


@every_broker
async def test_channel_subscribe_from_position_zero_gets_the_first_event(broker: Broker) -> None:
    channel = make_channel(broker)
    start = await channel.position("lobby")
    stream = channel.subscribe("lobby", last_event_id=start)
    item = await publish_and_take(channel, stream, 1)
    assert note_of(item).n == 1
    assert item.frame == f"data: {item.data.decode()}\nid: {item.position}\n\n".encode()
    await stream.aclose()  # type: ignore[attr-defined]


@every_broker
async def test_channel_concurrent_publishers_give_contiguous_ordered_offsets(
    broker: Broker,
) -> None:
    channel = make_channel(broker)
    stream = channel.subscribe("lobby", last_event_id=await channel.position("lobby"))
    publishers, each = 5, 40

    async def publish(by: str) -> None:
        for n in range(each):
            await channel.publish("lobby", Note(n=n, by=by))

    async with anyio.create_task_group() as tasks:
        for index in range(publishers):
            tasks.start_soon(publish, f"p{index}")
        items = await take(stream, publishers * each)
    assert_contiguous(items, 1)
    for index in range(publishers):
        mine = [note_of(i).n for i in items if note_of(i).by == f"p{index}"]
        assert mine == list(range(each))
    await stream.aclose()  # type: ignore[attr-defined]


@every_broker
async def test_channel_subscribe_without_id_starts_from_now(broker: Broker) -> None:
    channel = make_channel(broker)
    await channel.publish("lobby", Note(n=1))
    stream = channel.subscribe("lobby")
    first = stream.__anext__()
    with anyio.fail_after(WATCHDOG):
        async with anyio.create_task_group() as tasks:

            async def publish_once_attached() -> None:
                await wait_attached(broker, "notes", "lobby")
                # Redis: attached is not yet subscribed; keep publishing until seen.
                while not got:
                    await channel.publish("lobby", Note(n=2))
                    await anyio.sleep(0.01)

            got: list[object] = []
            tasks.start_soon(publish_once_attached)
            got.append(await first)
    item = got[0]
    assert isinstance(item, Delivery)
    assert item.offset >= 2
    assert note_of(item).n == 2
    await stream.aclose()  # type: ignore[attr-defined]


@every_broker
async def test_channel_resume_from_the_middle_replays_then_goes_live(broker: Broker) -> None:
    channel = make_channel(broker)
    positions = [await channel.publish("lobby", Note(n=n)) for n in range(1, 11)]
    stream = channel.subscribe("lobby", last_event_id=positions[3])
    replayed = await take(stream, 6)
    assert [note_of(i).n for i in replayed] == [5, 6, 7, 8, 9, 10]
    await channel.publish("lobby", Note(n=11))
    items = replayed + await take(stream, 1)
    assert_contiguous(items, 5)
    await stream.aclose()  # type: ignore[attr-defined]


@every_broker
async def test_channel_resume_while_publishing_has_no_gap_and_no_duplicate(
    broker: Broker,
) -> None:
    channel = make_channel(broker)
    start = await channel.position("lobby")
    for n in range(50):
        await channel.publish("lobby", Note(n=n))
    stream = channel.subscribe("lobby", last_event_id=start)

    async def publish_more() -> None:
        for n in range(50, 150):
            await channel.publish("lobby", Note(n=n))

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(publish_more)
        items = await take(stream, 150)
    assert_contiguous(items, 1)
    assert [note_of(i).n for i in items] == list(range(150))
    await stream.aclose()  # type: ignore[attr-defined]


@every_broker
async def test_channel_resume_after_trim_resets_then_continues(broker: Broker) -> None:
    channel = make_channel(broker, history=5)
    positions = [await channel.publish("lobby", Note(n=n)) for n in range(1, 21)]
    stream = channel.subscribe("lobby", last_event_id=positions[2])
    [reset] = await take(stream, 1)
    assert reset == Reset(positions[-1])
    item = await publish_and_take(channel, stream, 21)
    assert item.offset == 21
    await stream.aclose()  # type: ignore[attr-defined]


@every_broker
@pytest.mark.parametrize(
    "last_event_id",
    ["zz99zz-3", "garbage", "12", "-4", "a-b", "a--1", "a-01", "x" * 500, "é-1", "a-1-2"],
)
async def test_channel_foreign_or_junk_id_resets_to_the_top(
    broker: Broker, last_event_id: str
) -> None:
    channel = make_channel(broker)
    top = ""
    for n in range(3):
        top = await channel.publish("lobby", Note(n=n))
    stream = channel.subscribe("lobby", last_event_id=last_event_id)
    [reset] = await take(stream, 1)
    assert reset == Reset(top)
    item = await publish_and_take(channel, stream, 9)
    assert item.offset == offset_of(top) + 1
    await stream.aclose()  # type: ignore[attr-defined]


@every_broker
async def test_channel_resume_after_the_ttl_expired_resets(broker: Broker) -> None:
    channel: Channel[Note] = Channel(Note, name="brief", history=100, ttl=0.05)
    channel.bind(broker)
    positions = [await channel.publish("lobby", Note(n=n)) for n in range(3)]
    await anyio.sleep(0.3)  # waiting for the clock itself: the log's ttl must pass
    stream = channel.subscribe("lobby", last_event_id=positions[0])
    [reset] = await take(stream, 1)
    assert isinstance(reset, Reset)  # to the top, or to a new epoch if the meta expired too
    item = await publish_and_take(channel, stream, 9)
    assert item.offset == offset_of(reset.position) + 1
    await stream.aclose()  # type: ignore[attr-defined]


@every_broker
async def test_channel_position_ahead_of_the_top_resets(broker: Broker) -> None:
    channel = make_channel(broker)
    top = await channel.publish("lobby", Note(n=1))
    ahead = format_position(epoch_of(top), 50)
    stream = channel.subscribe("lobby", last_event_id=ahead)
    assert await take(stream, 1) == [Reset(top)]
    await stream.aclose()  # type: ignore[attr-defined]


@every_broker
async def test_channel_duplicate_deliveries_are_dropped(broker: Broker) -> None:
    channel = make_channel(broker)
    start = await channel.position("lobby")
    stream = channel.subscribe("lobby", last_event_id=start)
    first_position = await channel.publish("lobby", Note(n=1))
    [first] = await take(stream, 1)
    topic = broker.topic("notes", "lobby")
    assert topic is not None
    assert isinstance(first, Delivery)
    topic.offer(first)  # the same event handed over again, as a refill race would
    topic.offer(first)
    second = await publish_and_take(channel, stream, 2)
    assert second.offset == offset_of(first_position) + 1
    await stream.aclose()  # type: ignore[attr-defined]


@every_broker
async def test_channel_paused_consumer_stays_bounded_then_catches_up(broker: Broker) -> None:
    channel = make_channel(broker, history=5000)
    stream = channel.subscribe("lobby", last_event_id=await channel.position("lobby"))
    await channel.publish("lobby", Note(n=0))
    await take(stream, 1)  # attached; now it pauses
    for n in range(1, 3001):
        await channel.publish("lobby", Note(n=n))
    topic = broker.topic("notes", "lobby")
    assert topic is not None
    # Redis: the worker learns of each publish via Pub/Sub
    await until(lambda: topic_last(broker, "notes", "lobby") >= 3001, "offset 3001 here")
    [subscriber] = topic.subscribers
    assert subscriber.queued <= 1024  # the lag held in memory is bounded
    items = await take(stream, 3000)
    assert_contiguous(items, 2)
    assert [note_of(i).n for i in items] == list(range(1, 3001))
    await stream.aclose()  # type: ignore[attr-defined]


@every_broker
async def test_channel_consumer_that_falls_out_of_a_tiny_history_resets(broker: Broker) -> None:
    channel = make_channel(broker, history=3)
    stream = channel.subscribe("lobby", last_event_id=await channel.position("lobby"))
    await channel.publish("lobby", Note(n=0))
    await take(stream, 1)
    top = ""
    for n in range(1, 2001):
        top = await channel.publish("lobby", Note(n=n))
    topic = broker.topic("notes", "lobby")
    assert topic is not None
    await until(lambda: topic_last(broker, "notes", "lobby") >= offset_of(top), "the top offset")
    items = await take(stream, 1025)  # the bounded queue, then what it missed
    resets = [i for i in items if isinstance(i, Reset)]
    assert resets == [Reset(top)]
    deliveries = items[: items.index(resets[0])]
    assert_contiguous(deliveries, 2)
    await stream.aclose()  # type: ignore[attr-defined]


@every_broker
async def test_channel_publish_validates_items(broker: Broker) -> None:
    channel = make_channel(broker)
    with pytest.raises(ValidationError):
        await channel.publish("lobby", {"n": "not a number"})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="channel key"):
        await channel.publish("", Note(n=1))
    # The same keys work on every broker: one Redis cannot name is refused on all.
    with pytest.raises(ChannelKeyError, match="valid Unicode"):
        await channel.publish("room-\ud800", Note(n=1))
    for odd in ("a:b", "*", "a\nb", "\x00", "é", " ", "{tag}", "k" * 512):
        assert offset_of(await channel.publish(odd, Note(n=1))) == 1
    assert offset_of(await channel.position("lobby")) == 0


async def test_channel_used_before_binding_is_a_clear_error() -> None:
    channel: Channel[Note] = Channel(Note, name="loose")
    with pytest.raises(ChannelNotBoundError, match="RPCApp\\(channels="):
        await channel.publish("lobby", Note(n=1))
    with pytest.raises(ChannelNotBoundError, match="'loose'"):
        await channel.subscribe("lobby").__anext__()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"name": "a:b"}, "channel name"),
        ({"name": "ok", "history": 0}, "history"),
        ({"name": "ok", "ttl": -1}, "ttl"),
        ({"name": "ok", "ttl": float("nan")}, "ttl"),
        ({"name": "ok", "ttl": float("inf")}, "ttl"),
        ({"name": "ok", "ttl": 1e16}, "ttl"),  # past what a Redis expiry can hold
    ],
)
def test_channel_rejects_bad_options(options: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Channel(Note, **options)  # type: ignore[arg-type]


async def test_channel_memory_broker_forgets_expired_keys_nobody_watches() -> None:
    broker = MemoryBroker()
    rooms: Channel[Note] = Channel(Note, name="rooms", history=20, ttl=0.05)
    rooms.bind(broker)
    big = "x" * 10_000
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        old = {}
        for index in range(100):  # keys that come and go: one event each, then silence
            old[index] = await rooms.publish(f"room-{index}", Note(n=index, by=big))
        held = tracemalloc.get_traced_memory()[0] - baseline
        await anyio.sleep(0.2)  # waiting for the clock itself: their ttl must pass
        for n in range(100):  # one busy key keeps publishing
            await rooms.publish("busy", Note(n=n))
        gc.collect()
        left = tracemalloc.get_traced_memory()[0] - baseline
    finally:
        tracemalloc.stop()
    assert held > 1_000_000  # 100 events of 10 kB were held
    assert left < held / 4, (held, left)  # and their keys were let go
    # A forgotten key starts again from offset 1 under another epoch: a resume from
    # before is a Reset, never a silent skip of the new events.
    again = await rooms.publish("room-7", Note(n=1))
    assert epoch_of(again) != epoch_of(old[7])
    stream = rooms.subscribe("room-7", last_event_id=old[7])
    assert await take(stream, 1) == [Reset(again)]
    await stream.aclose()  # type: ignore[attr-defined]


async def test_channel_memory_broker_watched_new_key_survives_a_forgotten_neighbour() -> None:
    broker = MemoryBroker()
    rooms: Channel[Note] = Channel(Note, name="rooms", history=20, ttl=0.05)
    rooms.bind(broker)
    slot = hash(("rooms", "lobby")) % memory_broker.SLOTS
    neighbour = next(
        key
        for key in (f"room-{index}" for index in range(1_000_000))
        if hash(("rooms", key)) % memory_broker.SLOTS == slot
    )
    stream = rooms.subscribe("lobby", last_event_id=await rooms.position("lobby"))
    got: list[object] = []

    async def first_item() -> None:
        got.append(await stream.__anext__())

    with anyio.fail_after(WATCHDOG):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(first_item)
            await wait_attached(broker, "rooms", "lobby")  # watched before its first event
            await rooms.publish(neighbour, Note(n=0))
            await anyio.sleep(0.2)  # waiting for the clock itself: the neighbour's ttl must pass
            await rooms.publish("other", Note(n=0))  # sweeps: the neighbour is forgotten
            await rooms.publish("lobby", Note(n=1))
    [item] = got
    assert isinstance(item, Delivery), item  # continuity is provable: no Reset
    assert (item.offset, note_of(item).n) == (1, 1)
    await stream.aclose()  # type: ignore[attr-defined]
