"""Shared pieces of the channel tests: the item model, broker fixtures, collectors."""

from __future__ import annotations

import weakref
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import anyio
import orjson
import pytest
from pydantic import BaseModel

from streams import Channel, Reset
from streams.brokers import Broker, open_broker
from streams.positions import Delivery, DeliveryRun, parse_position
from tests.support.polling import poll_until
from tests.support.redis import RedisServer, require_redis, running_redis

WATCHDOG = 20.0  # seconds: a hang guard only, never a timing assertion


class Note(BaseModel):
    """The item every test channel carries."""

    n: int
    by: str = "test"


# The memory broker is anyio all through, so it runs on both backends; the Redis
# broker is built on redis-py's asyncio client, so it runs on asyncio only.
every_broker = pytest.mark.parametrize(
    ("anyio_backend", "broker_url"),
    [
        ("asyncio", "memory"),
        ("trio", "memory"),
        ("asyncio", "redis-resp2"),
        ("asyncio", "redis-resp3"),
    ],
    ids=["asyncio-memory", "trio-memory", "asyncio-redis-resp2", "asyncio-redis-resp3"],
    indirect=True,
)


@pytest.fixture
def broker_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """The broker a test marked ``@every_broker`` runs against (Redis on a fresh server)."""
    kind: str = request.param
    if kind == "memory":
        yield "memory://"
        return
    require_redis()
    with running_redis() as server:
        yield server.url(protocol=int(kind[-1]))


@pytest.fixture
async def broker(broker_url: str) -> AsyncIterator[Broker]:
    """An open broker for ``broker_url``, closed after the test."""
    opened = open_broker(broker_url)
    try:
        yield opened
    finally:
        await opened.aclose()


def make_channel(broker: Broker, *, history: int = 1000, name: str = "notes") -> Channel[Note]:
    """A ``Note`` channel bound to ``broker``."""
    channel: Channel[Note] = Channel(Note, name=name, history=history, ttl=600)
    channel.bind(broker)
    return channel


def note_of(item: Any) -> Note:
    """The ``Note`` a ``Delivery`` carries."""
    assert isinstance(item, Delivery), f"expected a Delivery, got {item!r}"
    return Note.model_validate(orjson.loads(item.data))


def offset_of(position: str) -> int:
    """The offset part of a position."""
    parsed = parse_position(position)
    assert parsed is not None, position
    return parsed[1]


def epoch_of(position: str) -> str:
    """The epoch part of a position."""
    parsed = parse_position(position)
    assert parsed is not None, position
    return parsed[0]


_LEFT_OVER: weakref.WeakKeyDictionary[Any, list[Delivery | Reset]] = weakref.WeakKeyDictionary()


async def take(stream: AsyncIterator[Any], count: int) -> list[Delivery | Reset]:
    """The next ``count`` events or resets of a subscription (under the watchdog).

    A ``DeliveryRun`` counts as its events; what a run brings past ``count`` is
    kept for the next call on the same stream.
    """
    items = _LEFT_OVER.pop(stream, [])
    with anyio.fail_after(WATCHDOG):
        while len(items) < count:
            item = await stream.__anext__()
            if isinstance(item, DeliveryRun):
                items.extend(item.deliveries)
            else:
                items.append(item)
    if len(items) > count:
        _LEFT_OVER[stream] = items[count:]
    return items[:count]


async def publish_and_take(channel: Channel[Note], stream: AsyncIterator[Any], n: int) -> Delivery:
    """Publish ``Note(n=n)`` to ``lobby``; the stream's next item, checked to be a Delivery."""
    await channel.publish("lobby", Note(n=n))
    [item] = await take(stream, 1)
    assert isinstance(item, Delivery), f"expected a Delivery, got {item!r}"
    return item


async def until(condition: Callable[[], bool], what: str) -> None:
    """Poll ``condition`` until it holds (under the watchdog)."""
    await poll_until(condition, within=WATCHDOG, what=what)


async def wait_attached(broker: Broker, channel: str, key: str, count: int = 1) -> None:
    """Poll until ``count`` subscribers of the key are attached on this worker."""
    await until(
        lambda: broker.subscriber_count(channel, key) >= count, f"{count} subscribers of {key}"
    )


def topic_last(broker: Broker, channel: str, key: str) -> int:
    """The last offset this worker handed to the key's subscribers (0 if none)."""
    topic = broker.topic(channel, key)
    return 0 if topic is None else topic.last


def assert_contiguous(items: list[Delivery | Reset], first: int) -> None:
    """Every item a Delivery, offsets ``first, first+1, ...`` in one epoch."""
    offsets = [item.offset for item in items if isinstance(item, Delivery)]
    assert len(offsets) == len(items), [i for i in items if not isinstance(i, Delivery)]
    assert offsets == list(range(first, first + len(items)))
    assert len({item.epoch for item in items if isinstance(item, Delivery)}) <= 1


__all__ = ["RedisServer"]
