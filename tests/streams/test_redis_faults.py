"""The Redis broker against a real redis-server that misbehaves: killed Pub/Sub, restarts."""

from __future__ import annotations

import os
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest
from redis.exceptions import RedisError

from streams import Channel, Reset
from streams.brokers import open_broker
from streams.brokers import redis as redis_broker
from streams.positions import Delivery
from tests.streams.channels import (
    Note,
    assert_contiguous,
    epoch_of,
    make_channel,
    note_of,
    offset_of,
    take,
    until,
)
from tests.support.redis import RedisServer, require_redis, running_redis

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    # asyncio only: the Redis broker is built on redis-py's asyncio client.
    return "asyncio"


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def protocol(request: pytest.FixtureRequest) -> int:
    value: int = request.param
    return value


async def _items_until(stream: AsyncIterator[Any], offset: int) -> list[Delivery | Reset]:
    """Items up to the one that reaches ``offset`` (a Delivery at it, or a Reset to it)."""
    items: list[Delivery | Reset] = []
    while not items or _reached(items[-1]) < offset:
        items += await take(stream, 1)
    return items


def _reached(item: Delivery | Reset) -> int:
    return item.offset if isinstance(item, Delivery) else offset_of(item.position)


@asynccontextmanager
async def lobby_subscription(url: str) -> AsyncIterator[tuple[Channel[Note], AsyncIterator[Any]]]:
    """A Note channel on a Redis broker at ``url`` and a subscription to ``lobby`` from now."""
    broker = open_broker(url)
    channel = make_channel(broker)
    stream = channel.subscribe("lobby", last_event_id=await channel.position("lobby"))
    try:
        yield channel, stream
    finally:
        await stream.aclose()  # type: ignore[attr-defined]
        await broker.aclose()


async def test_redis_killed_pubsub_connection_loses_nothing(
    redis_server: RedisServer, protocol: int
) -> None:
    async with lobby_subscription(redis_server.url(protocol=protocol)) as (channel, stream):
        for n in range(50):
            await channel.publish("lobby", Note(n=n))
        items = await take(stream, 50)
        assert redis_server.command("CLIENT", "KILL", "TYPE", "pubsub") == b":1\r\n"
        for n in range(50, 100):  # published while the Pub/Sub connection is gone
            await channel.publish("lobby", Note(n=n))
        items += await take(stream, 50)
        assert_contiguous(items, 1)


async def test_redis_restart_without_persistence_gives_a_new_epoch_and_reset(
    redis_server: RedisServer, protocol: int
) -> None:
    async with lobby_subscription(redis_server.url(protocol=protocol)) as (channel, stream):
        old = ""
        for n in range(3):
            old = await channel.publish("lobby", Note(n=n))
        await take(stream, 3)
        redis_server.restart()
        new = ""
        for n in range(4):
            new = await channel.publish("lobby", Note(n=n))
        assert epoch_of(new) != epoch_of(old)
        assert offset_of(new) == 4  # offsets start again from 1 in the new epoch
        items = await _items_until(stream, 4)
        reset = items[0]
        assert isinstance(reset, Reset)
        assert epoch_of(reset.position) == epoch_of(new)
        assert_contiguous(items[1:], offset_of(reset.position) + 1)
        latest = await channel.publish("lobby", Note(n=5))
        assert_contiguous(items[1:] + await take(stream, 1), offset_of(reset.position) + 1)
        resumed = channel.subscribe("lobby", last_event_id=old)
        assert await take(resumed, 1) == [Reset(latest)]
        await resumed.aclose()  # type: ignore[attr-defined]


async def test_redis_restart_with_aof_keeps_the_epoch_and_resumes_cleanly(protocol: int) -> None:
    require_redis()
    with running_redis(aof=True) as server:
        async with lobby_subscription(server.url(protocol=protocol)) as (channel, stream):
            positions = [await channel.publish("lobby", Note(n=n)) for n in range(3)]
            items = await take(stream, 3)
            server.restart()
            positions += [await channel.publish("lobby", Note(n=n)) for n in range(3, 6)]
            assert {epoch_of(p) for p in positions} == {epoch_of(positions[0])}
            items += await take(stream, 3)
            assert_contiguous(items, 1)
            resumed = channel.subscribe("lobby", last_event_id=positions[1])
            assert_contiguous(await take(resumed, 4), 3)
            await resumed.aclose()  # type: ignore[attr-defined]


async def test_redis_counts_one_script_call_per_publish_and_none_per_delivery(
    redis_server: RedisServer,
) -> None:
    broker = open_broker(redis_server.url())
    channel = make_channel(broker)
    streams = [
        channel.subscribe("lobby", last_event_id=await channel.position("lobby")) for _ in range(20)
    ]
    try:
        for stream in streams:  # attach all, so later deliveries come from Pub/Sub only
            await channel.publish("lobby", Note(n=0))
            await take(stream, 1)
        for stream in streams:
            await take(stream, len(streams) - 1)
        before = _command_calls(redis_server)
        for n in range(1, 101):
            await channel.publish("lobby", Note(n=n))
        for stream in streams:
            await take(stream, 100)
        calls = {k: v - before.get(k, 0) for k, v in _command_calls(redis_server).items()}
        calls = {k: v for k, v in calls.items() if v}
        # One EVALSHA per publish (the rest run inside it); 2,000 deliveries cost nothing.
        # INFO: the script's (its server's run id) and this test's own first one.
        inside = {"hget": 200, "hincrby": 100, "xadd": 100, "pexpire": 200, "publish": 100}
        inside["info"] = 100 + 1
        assert calls == {"evalsha": 100, **inside}
    finally:
        for stream in streams:
            await stream.aclose()  # type: ignore[attr-defined]
        await broker.aclose()


def _command_calls(server: RedisServer) -> dict[str, int]:
    """``INFO commandstats`` as ``{command: calls}``."""
    reply = server.command("INFO", "commandstats").decode()
    calls: dict[str, int] = {}
    for line in reply.splitlines():
        if line.startswith("cmdstat_"):
            name, _, stats = line[len("cmdstat_") :].partition(":")
            calls[name] = int(stats.split(",")[0].partition("=")[2])
    return calls


async def test_redis_subscription_cancelled_while_redis_is_down_leaves_no_subscriber(
    redis_server: RedisServer, protocol: int
) -> None:
    broker = open_broker(redis_server.url(protocol=protocol))
    channel = make_channel(broker)
    try:
        await channel.position("lobby")  # the broker is up and running
        redis_server.stop()
        stream = channel.subscribe("lobby")

        async def first_item() -> None:
            await stream.__anext__()

        async with anyio.create_task_group() as tasks:
            # The subscription waits for Redis to confirm it; the client leaves meanwhile.
            tasks.start_soon(first_item)
            await until(lambda: broker.subscriber_count("notes", "lobby") == 1, "attached")
            tasks.cancel_scope.cancel()
        await stream.aclose()  # type: ignore[attr-defined]
        assert broker.subscriber_count("notes", "lobby") == 0
        assert broker.topic("notes", "lobby") is None  # nor is the key kept subscribed
    finally:
        await broker.aclose()


async def test_redis_publish_that_times_out_is_never_logged_twice(
    redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A Redis busy past the command timeout (a slow command, a fork) runs the
    # script late; sending it again on another connection would log the event twice.
    monkeypatch.setattr(redis_broker, "COMMAND_TIMEOUT", 0.5)
    broker = open_broker(redis_server.url())
    channel = make_channel(broker)
    process = redis_server.process
    assert process is not None
    try:
        await channel.publish("lobby", Note(n=0))  # connected, the script loaded
        outcome: list[object] = []

        async def publish() -> None:
            try:
                outcome.append(await channel.publish("lobby", Note(n=1)))
            except RedisError as exc:  # a timeout is an honest "maybe"
                outcome.append(exc)

        os.kill(process.pid, signal.SIGSTOP)
        try:
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(publish)
                await anyio.sleep(1.0)  # waiting for the clock itself: the timeout must pass
                os.kill(process.pid, signal.SIGCONT)
        finally:
            os.kill(process.pid, signal.SIGCONT)
        read = await broker.read("notes", "lobby", after=0, limit=10)
        assert [offset for offset, _ in read.entries] == [1, 2], outcome
        assert read.top == 2
    finally:
        await broker.aclose()


async def test_redis_subscription_outlives_a_broker_close(
    redis_server: RedisServer, protocol: int
) -> None:
    # A stream opened while its app's registry drains (a client reconnecting at
    # once) sees the broker closed under it; it must not sit "live" and deaf.
    broker = open_broker(redis_server.url(protocol=protocol))
    channel = make_channel(broker)
    stream = channel.subscribe("lobby", last_event_id=await channel.position("lobby"))
    try:
        await channel.publish("lobby", Note(n=1))
        items = await take(stream, 1)
        await broker.aclose()
        for n in range(2, 5):  # the broker starts again on this use
            await channel.publish("lobby", Note(n=n))
        items += await take(stream, 3)
        assert_contiguous(items, 1)
        assert [note_of(item).n for item in items] == [1, 2, 3, 4]
        assert broker.subscriber_count("notes", "lobby") == 1
    finally:
        await stream.aclose()  # type: ignore[attr-defined]
        await broker.aclose()


async def test_redis_restart_from_an_older_snapshot_resets_instead_of_reusing_offsets(
    redis_server: RedisServer, protocol: int
) -> None:
    # Redis without AOF restarts from its last RDB snapshot (after a crash, or a
    # failover to a lagging replica): offsets after it would be handed out again,
    # and a client holding one of them would silently skip the new events.
    broker = open_broker(redis_server.url(protocol=protocol))
    channel = make_channel(broker)
    try:
        for n in range(1, 4):
            await channel.publish("lobby", Note(n=n))
        assert redis_server.command("SAVE") == b"+OK\r\n"
        seen = ""
        for n in range(4, 6):
            seen = await channel.publish("lobby", Note(n=n))
        redis_server.restart()  # no save points: the snapshot taken at offset 3 comes back
        newer = [await channel.publish("lobby", Note(n=n)) for n in (40, 50)]
        assert epoch_of(newer[0]) != epoch_of(seen)
        stream = channel.subscribe("lobby", last_event_id=seen)
        try:
            assert await take(stream, 1) == [Reset(newer[-1])]
        finally:
            await stream.aclose()  # type: ignore[attr-defined]
    finally:
        await broker.aclose()
