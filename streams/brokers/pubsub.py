"""One Pub/Sub connection per worker, read by one task, subscribed once per key.

``PubSubFeed`` turns Redis Pub/Sub messages (``"<epoch> <offset> <json>"``)
into ``Delivery`` objects, framed once and offered to the key's ``Topic``. An
offset that skips ahead is filled from the log first; a lost connection is
reopened with backoff, every key subscribed again and refilled from its log;
a key whose log cannot bridge the gap makes its subscribers read the log
themselves, which ends in ``Reset``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
from redis.exceptions import RedisError

from streams.brokers.base import CATCH_UP, LogRead, Subscriber, Topic
from streams.positions import Delivery

logger = logging.getLogger("belay.streams")

IDLE_PING = 5.0  # seconds of Pub/Sub silence before a PING checks the connection
DEAD_AFTER = 15.0  # seconds without any Pub/Sub reply before the connection counts as lost
BACKOFF_FIRST, BACKOFF_MAX = 0.05, 2.0  # seconds between reconnect attempts
REFILL_PAGE = 500

ReadLog = Callable[[str, str, int, int], Awaitable[LogRead]]


@dataclass(slots=True)
class _Live:
    """One subscribed key of this worker."""

    channel: str
    key: str
    topic: Topic = field(default_factory=Topic)
    confirmed: anyio.Event = field(default_factory=anyio.Event)


class PubSubFeed:
    """Live delivery for one broker: ``connect()`` opens a Pub/Sub client, ``read`` the log.

    ``connect`` must return a redis-py client without silent retries, so that a
    lost connection surfaces here and every key gets refilled.
    """

    def __init__(self, connect: Callable[[], Any], read: ReadLog) -> None:
        self._connect = connect
        self._read_log = read
        self._lives: dict[bytes, _Live] = {}
        self._lock = asyncio.Lock()
        self._pubsub: Any = None
        self._chores: set[asyncio.Task[None]] = set()
        self._heard = False  # the last connection worked (so the next failure is news)

    async def attach(
        self, channel: str, key: str, live_name: bytes, subscriber: Subscriber
    ) -> None:
        """Add ``subscriber`` to the key's topic; return once Redis confirmed the subscription."""
        live = self._lives.get(live_name)
        # Counted before the first await, so that ``detach`` after a cancellation finds it.
        if live is None:
            live = self._lives[live_name] = _Live(channel, key)
            live.topic.subscribers.add(subscriber)
            await self._subscribe(live_name)
        live.topic.subscribers.add(subscriber)
        await live.confirmed.wait()

    async def _subscribe(self, live_name: bytes) -> None:
        async with self._lock:
            if self._pubsub is None:
                return  # the reconnecting reader subscribes every key it finds
            await self._command(self._pubsub, "subscribe", live_name)

    async def _command(self, pubsub: Any, name: str, live_name: bytes) -> None:
        """SUBSCRIBE or UNSUBSCRIBE one key from outside the reader; a failure reconnects.

        redis-py answers a failed Pub/Sub command by reconnecting the same
        connection and subscribing again only the keys it already confirmed,
        with no refill, and the reader (maybe busy in a log read) never sees
        the error. So any failure, a cancellation mid-send included, drops the
        connection: the reader reconnects, subscribes every key and refills.
        """
        try:
            await getattr(pubsub, name)(live_name)
        except (RedisError, OSError) as exc:
            logger.debug("channel %s failed (%r); reconnecting Pub/Sub", name, exc)
            self._lose(pubsub)
        except BaseException:
            self._lose(pubsub)
            raise

    def _lose(self, pubsub: Any) -> None:
        """Retire ``pubsub``: the reader stops using it and reconnects (closed in a chore)."""
        if self._pubsub is not pubsub:
            return  # the reader has moved on already
        self._pubsub = None
        # Closing wakes a reader blocked on the socket; one busy elsewhere sees
        # ``self._pubsub`` changed before its next read.
        with contextlib.suppress(RuntimeError):  # the loop is closing: the reader is going too
            task = asyncio.get_running_loop().create_task(_close(pubsub))
            self._chores.add(task)
            task.add_done_callback(self._chores.discard)

    def detach(self, live_name: bytes, subscriber: Subscriber) -> None:
        """Remove ``subscriber``; the last one out unsubscribes the key."""
        live = self._lives.get(live_name)
        if live is None or subscriber not in live.topic.subscribers:
            return
        live.topic.subscribers.discard(subscriber)
        if not live.topic.subscribers:
            del self._lives[live_name]
            with contextlib.suppress(RuntimeError):  # the loop is closing: nothing to tell Redis
                task = asyncio.get_running_loop().create_task(self._unsubscribe(live_name))
                self._chores.add(task)
                task.add_done_callback(self._chores.discard)

    async def _unsubscribe(self, live_name: bytes) -> None:
        async with self._lock:
            if live_name in self._lives or self._pubsub is None:
                return  # subscribed again meanwhile, or the reconnect will not resubscribe it
            await self._command(self._pubsub, "unsubscribe", live_name)

    def close(self) -> None:
        """Let go of every subscriber (they attach again, to a restarted feed)."""
        lives, self._lives = self._lives, {}
        for live in lives.values():
            for subscriber in live.topic.subscribers:
                subscriber.detach()
            live.confirmed.set()  # an attach still waiting returns, and finds it detached

    def topic(self, live_name: bytes) -> Topic | None:
        """The key's topic on this worker, if anything subscribes to it."""
        live = self._lives.get(live_name)
        return None if live is None else live.topic

    async def run(self) -> None:
        """The Pub/Sub task: (re)connect, subscribe every key, deliver, refill after a loss."""
        delay = BACKOFF_FIRST
        first = True
        while True:
            try:
                await self._listen(refill=not first)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # Warn once per outage; the retries that follow are debug noise.
                log = logger.warning if self._heard or first else logger.debug
                log("channel broker lost Redis Pub/Sub (%r); reconnecting", exc)
            first = False
            await self._drop_pubsub()
            await asyncio.sleep(delay)
            delay = BACKOFF_FIRST if self._heard else min(delay * 2, BACKOFF_MAX)
            self._heard = False

    async def _drop_pubsub(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            await _close(pubsub)

    async def _listen(self, *, refill: bool) -> None:
        client = self._connect()
        pubsub = client.pubsub()
        try:
            async with self._lock:
                await pubsub.ping()  # connects
                self._pubsub = pubsub
                if self._lives:
                    await pubsub.subscribe(*self._lives)
            self._heard = True
            await self._read_messages(pubsub, refill=refill)
        finally:
            if self._pubsub is pubsub:
                self._pubsub = None
            await _close(pubsub)
            with contextlib.suppress(RedisError, OSError):
                await client.aclose()

    async def _read_messages(self, pubsub: Any, *, refill: bool) -> None:
        loop = asyncio.get_running_loop()
        heard = loop.time()
        pinged = False
        while True:
            if self._pubsub is not pubsub:
                raise ConnectionError("a Pub/Sub command failed outside the reader")
            message = await pubsub.get_message(timeout=IDLE_PING)
            now = loop.time()
            if message is None:
                if now - heard > DEAD_AFTER:
                    raise ConnectionError(f"no reply from Redis Pub/Sub for {DEAD_AFTER}s")
                if not pinged:
                    pinged = True
                    async with self._lock:
                        if self._pubsub is pubsub:  # else retired: a ping would reconnect it
                            await pubsub.ping()
                continue
            heard, pinged = now, False
            kind = _text(message["type"])
            if kind == "message":
                await self._deliver(message["channel"], message["data"])
            elif kind == "subscribe":
                await self._confirmed(message["channel"], refill=refill)

    async def _confirmed(self, live_name: bytes, *, refill: bool) -> None:
        live = self._lives.get(live_name)
        if live is None:
            return
        if live.topic.epoch is None:
            read = await self._read_log(live.channel, live.key, 0, 0)
            epoch, top = read.epoch, read.top
            if live.topic.epoch is None:
                live.topic.epoch, live.topic.last = epoch, top
        elif refill:
            await self._refill(live)
        live.confirmed.set()

    async def _deliver(self, live_name: bytes, payload: bytes) -> None:
        live = self._lives.get(live_name)
        if live is None:
            return
        epoch_bytes, offset_bytes, data = payload.split(b" ", 2)
        epoch, offset = epoch_bytes.decode(), int(offset_bytes)
        topic = live.topic
        if topic.epoch == epoch:
            if offset <= topic.last:
                return  # delivered already (by a refill)
            if offset > topic.last + 1:
                await self._refill(live)  # Pub/Sub skipped something: the log has it
                if topic.epoch == epoch and offset <= topic.last:
                    return
        topic.offer(Delivery.build(epoch, offset, data))

    async def _refill(self, live: _Live) -> None:
        """Hand this worker's subscribers of one key what its log holds past ``topic.last``."""
        topic = live.topic
        while True:
            read = await self._read_log(live.channel, live.key, topic.last, REFILL_PAGE)
            entries = read.entries
            same = read.epoch == topic.epoch
            if same and topic.last == read.top:
                return
            if not (same and topic.last < read.top and entries and entries[0][0] == topic.last + 1):
                # The log cannot bridge the gap (or Redis lost events it had
                # broadcast): each subscriber reads the log itself and resets.
                topic.epoch, topic.last = read.epoch, read.top
                topic.offer(CATCH_UP)
                return
            for offset, data in entries:
                topic.offer(Delivery.build(read.epoch, offset, data))
            if topic.last >= read.top:
                return


async def _close(pubsub: Any) -> None:
    with contextlib.suppress(RedisError, OSError):
        await pubsub.aclose()


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
