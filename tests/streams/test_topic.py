"""``Topic.offer``: every queue at once, the readers woken a slice per loop turn."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator

import anyio
import pytest

from streams.brokers.base import Subscriber, Topic, wake_slice
from streams.positions import Delivery

pytestmark = pytest.mark.anyio

WATCHDOG = 10.0  # seconds: a hang guard, 10x what a loaded machine needs


def delivery(offset: int) -> Delivery:
    return Delivery.build("e", offset, b'{"n":%d}' % offset)


@pytest.fixture
def young_threshold() -> Iterator[None]:
    """Collector thresholds as CPython ships them, restored afterwards."""
    saved = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    try:
        yield
    finally:
        gc.set_threshold(*saved)


def test_wake_slice_is_a_quarter_of_the_young_threshold(young_threshold: None) -> None:
    assert wake_slice() == 175
    gc.set_threshold(80, 10, 10)
    assert wake_slice() == 32  # never below MIN_WAKE_SLICE
    gc.disable()
    try:
        assert wake_slice() >= 1 << 30  # no automatic collection: everyone at once
    finally:
        gc.enable()


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_offer_wakes_one_slice_per_loop_turn(young_threshold: None) -> None:
    topic = Topic()
    subscribers = [Subscriber() for _ in range(400)]
    topic.subscribers.update(subscribers)
    waits = [asyncio.ensure_future(s.wait()) for s in subscribers]
    await asyncio.sleep(0)  # the waits are pending futures now
    topic.offer(delivery(1))
    # Every queue holds the event before anyone is woken: order never depends on the slices.
    assert all(s.queued == 1 for s in subscribers)
    done = [sum(w.done() for w in waits)]
    with anyio.fail_after(WATCHDOG):
        while done[-1] < len(waits):
            await asyncio.sleep(0)  # one loop turn
            done.append(sum(w.done() for w in waits))
    assert done == [175, 350, 400]
    assert all(s.poll() == delivery(1) for s in subscribers)


async def test_every_subscriber_reads_every_event_in_order() -> None:
    topic = Topic()
    subscribers = [Subscriber() for _ in range(500)]
    topic.subscribers.update(subscribers)
    seen: dict[int, list[int]] = {index: [] for index in range(len(subscribers))}

    async def read(index: int, subscriber: Subscriber) -> None:
        while len(seen[index]) < 3:
            news = await subscriber.next()
            assert isinstance(news, Delivery)
            seen[index].append(news.offset)

    with anyio.fail_after(WATCHDOG):
        async with anyio.create_task_group() as tasks:
            for index, subscriber in enumerate(subscribers):
                tasks.start_soon(read, index, subscriber)
            await anyio.wait_all_tasks_blocked()
            topic.offer(delivery(1))
            topic.offer(delivery(2))  # before the first is read: queued behind it
            await anyio.wait_all_tasks_blocked()
            topic.offer(delivery(3))
    assert all(offsets == [1, 2, 3] for offsets in seen.values())
