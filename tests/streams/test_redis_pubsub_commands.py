"""A Pub/Sub command that fails outside the feed's reader, against a real redis-server.

When SUBSCRIBE or UNSUBSCRIBE fails, redis-py reconnects the same Pub/Sub
connection on its own and subscribes again only the keys it already knew,
with nothing refilled, and the error never reaches the feed's reader. Here
the reader is held in a log read (the first read of a newly confirmed key)
while the connection is killed and the command fails on it, so the reader
cannot notice the loss by itself: only the feed's handling of the failed
command can make it reconnect, subscribe every key and refill.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio
import pytest
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from streams.brokers.base import LogRead, Subscriber
from streams.brokers.pubsub import PubSubFeed
from streams.brokers.redis import RedisBroker
from streams.positions import Delivery
from tests.support.redis import RedisServer

pytestmark = pytest.mark.anyio

T = TypeVar("T")
WATCHDOG = 30.0  # seconds for the whole scenario (a hang watchdog, not a target)
CHANNEL = "notes"


@pytest.fixture
def anyio_backend() -> str:
    # asyncio only: the Redis broker is built on redis-py's asyncio client.
    return "asyncio"


class NoticedRetry(Retry):
    """redis-py's no-retry policy (what the feed requires), reporting each failure it passes on."""

    def __init__(self, notice: Callable[[Exception], None]) -> None:
        super().__init__(NoBackoff(), 0)
        self.notice = notice

    async def call_with_retry(
        self,
        do: Callable[[], Awaitable[T]],
        fail: Callable[[Exception], Any] | Callable[[Exception, int], Any],
        is_retryable: Callable[[Exception], bool] | None = None,
        with_failure_count: bool = False,
    ) -> T:
        try:
            return await super().call_with_retry(do, fail, is_retryable, with_failure_count)
        except Exception as exc:
            self.notice(exc)
            raise


def live(key: str) -> bytes:
    """The Pub/Sub channel ``RedisBroker`` publishes a key's events on (default prefix)."""
    return f"belay:{CHANNEL}:live:{key}".encode()


def subscribers_in_redis(server: RedisServer, key: str) -> int:
    """PUBSUB NUMSUB for one key's live channel, from the raw RESP reply."""
    reply = server.command("PUBSUB", "NUMSUB", live(key).decode())
    return int(reply.rsplit(b":", 1)[1].strip())


async def next_delivery(subscriber: Subscriber) -> Delivery:
    item = await subscriber.next()
    assert isinstance(item, Delivery), item
    return item


@pytest.mark.parametrize("command", ["subscribe", "unsubscribe"])
async def test_pubsub_command_failing_while_the_reader_reads_the_log_reconnects_and_refills(
    redis_server: RedisServer, command: str
) -> None:
    url = redis_server.url()
    broker = RedisBroker(url)  # the log: publishes and reads, on its own connections
    failed, holding, release = anyio.Event(), anyio.Event(), anyio.Event()

    def notice(exc: Exception) -> None:
        failed.set()

    def connect() -> Redis:
        return Redis.from_url(url, retry=NoticedRetry(notice))

    async def read(channel: str, key: str, after: int, limit: int) -> LogRead:
        if key == "b" and not release.is_set():
            holding.set()
            await release.wait()
        return await broker.read(channel, key, after=after, limit=limit)

    feed = PubSubFeed(connect, read)
    subscribers = {key: Subscriber() for key in "abcd"}
    attached: dict[str, anyio.Event] = {key: anyio.Event() for key in "bc"}

    async def attach(key: str) -> None:
        await feed.attach(CHANNEL, key, live(key), subscribers[key])
        attached[key].set()

    try:
        with anyio.fail_after(WATCHDOG):
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(feed.run)
                await feed.attach(CHANNEL, "a", live("a"), subscribers["a"])
                await feed.attach(CHANNEL, "d", live("d"), subscribers["d"])
                tasks.start_soon(attach, "b")
                await holding.wait()  # the reader is in b's first log read
                assert redis_server.command("CLIENT", "KILL", "TYPE", "pubsub") == b":1\r\n"
                epoch, _ = await broker.publish(CHANNEL, "a", b'{"n":1}', history=100, ttl=60)
                if command == "subscribe":
                    tasks.start_soon(attach, "c")  # a new key: its SUBSCRIBE fails
                else:
                    feed.detach(live("d"), subscribers["d"])  # its UNSUBSCRIBE fails
                await failed.wait()
                release.set()

                # The event published while the connection was down arrives by a refill.
                missed = await next_delivery(subscribers["a"])
                assert (missed.epoch, missed.offset, missed.data) == (epoch, 1, b'{"n":1}')
                await attached["b"].wait()
                if command == "subscribe":
                    await attached["c"].wait()  # confirmed by Redis, not left waiting
                    await broker.publish(CHANNEL, "c", b'{"n":7}', history=100, ttl=60)
                    assert (await next_delivery(subscribers["c"])).data == b'{"n":7}'
                else:
                    assert subscribers_in_redis(redis_server, "d") == 0
                await broker.publish(CHANNEL, "a", b'{"n":2}', history=100, ttl=60)
                assert (await next_delivery(subscribers["a"])).offset == 2
                assert subscribers_in_redis(redis_server, "a") == 1
                tasks.cancel_scope.cancel()
    finally:
        feed.close()
        await broker.aclose()
