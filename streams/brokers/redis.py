"""``redis://``, ``rediss://``, ``unix://``: channels shared by workers through Redis >= 7.

Per worker: one command connection pool (publishes and log reads, each one
script call) and one Pub/Sub connection, read by one task, subscribed once per
key however many streams watch it. That task frames each live event once and
hands it to the key's ``Topic``; a skipped offset is filled from the log. When
the Pub/Sub connection is lost it reconnects with backoff, subscribes again and
refills every key from its log, so open streams miss nothing (they keep pinging
meanwhile); a key whose log no longer covers the gap makes its subscribers read
the log themselves, which ends in ``Reset``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

import anyio

from streams.brokers import scripts
from streams.brokers.base import CATCH_UP, Broker, LogRead, Subscriber, Topic
from streams.positions import Delivery

logger = logging.getLogger("streams.channels")

CONNECT_TIMEOUT = 5.0  # seconds to open a connection
COMMAND_TIMEOUT = 5.0  # seconds a command (a script call) may take
IDLE_PING = 5.0  # seconds of Pub/Sub silence before a PING checks the connection
DEAD_AFTER = 15.0  # seconds without any Pub/Sub reply before the connection counts as lost
BACKOFF_FIRST, BACKOFF_MAX = 0.05, 2.0  # seconds between reconnect attempts
META_TTL_FACTOR = 10  # the meta hash lives this many log ttls past the last publish
REFILL_PAGE = 500


@dataclass(slots=True)
class _Live:
    """One subscribed key of this worker."""

    channel: str
    key: str
    topic: Topic = field(default_factory=Topic)
    confirmed: anyio.Event = field(default_factory=anyio.Event)


class RedisBroker(Broker):
    """Channel events shared through one Redis server (not Redis Cluster).

    ``url`` is any redis-py URL (``redis://host:6379/0``, ``rediss://...``,
    ``unix:///run/redis.sock``; ``?protocol=3`` selects RESP3). Connections
    open on first use, in the event loop of that use.
    """

    def __init__(self, url: str, *, prefix: str = "belay") -> None:
        try:
            import redis.asyncio  # noqa: F401
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise RuntimeError(
                f"broker {url!r} needs the redis package: pip install 'belay-rpc[redis]'"
            ) from exc
        self.url = url
        self.prefix = prefix
        self._client: Any = None
        self._reader: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pubsub: Any = None
        self._lock = asyncio.Lock()
        self._lives: dict[bytes, _Live] = {}
        self._publish: Any = None
        self._read: Any = None
        self._chores: set[asyncio.Task[None]] = set()

    def _names(self, channel: str, key: str) -> tuple[str, str, bytes]:
        base = f"{self.prefix}:{channel}"
        return f"{base}:meta:{key}", f"{base}:log:{key}", f"{base}:live:{key}".encode()

    def _start(self) -> None:
        loop = asyncio.get_running_loop()
        if self._client is not None and self._loop is loop:
            return
        from redis.asyncio import Redis
        from redis.asyncio.retry import Retry
        from redis.backoff import ExponentialBackoff

        self._forget()
        self._loop = loop
        self._lock = asyncio.Lock()
        self._client = Redis.from_url(
            self.url,
            socket_timeout=COMMAND_TIMEOUT,
            socket_connect_timeout=CONNECT_TIMEOUT,
            retry=Retry(ExponentialBackoff(cap=1.0, base=0.05), 3),
            **self._tcp_options(),
        )
        self._publish = self._client.register_script(scripts.PUBLISH)
        self._read = self._client.register_script(scripts.READ)
        self._reader = loop.create_task(self._run(), name="belay-channels-pubsub")

    def _tcp_options(self) -> dict[str, Any]:
        # Unix sockets take no keepalive option; TCP ones need it to notice dead peers.
        return {} if self.url.startswith("unix:") else {"socket_keepalive": True}

    def _forget(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
        self._client = self._reader = self._pubsub = None
        self._lives = {}

    def _ttls(self, ttl: float) -> tuple[int, int]:
        log_ms = max(1, int(ttl * 1000))
        return log_ms, log_ms * META_TTL_FACTOR

    async def publish(
        self, channel: str, key: str, data: bytes, *, history: int, ttl: float
    ) -> tuple[str, int]:
        self._start()
        meta, log, live = self._names(channel, key)
        log_ms, meta_ms = self._ttls(ttl)
        epoch, top = await self._publish(
            keys=[meta, log], args=[meta_ms, data, history, log_ms, live]
        )
        return _text(epoch), int(top)

    async def read(self, channel: str, key: str, *, after: int, limit: int) -> LogRead:
        self._start()
        meta, log, _ = self._names(channel, key)
        # A read never shortens a key's life; an unknown key gets the default meta ttl.
        epoch, top, raw = await self._read(keys=[meta, log], args=[86_400_000, after, limit])
        entries = [
            (int(_text(entry_id).partition("-")[0]), _data(fields)) for entry_id, fields in raw
        ]
        return LogRead(_text(epoch), int(top), entries)

    async def attach(self, channel: str, key: str, subscriber: Subscriber) -> None:
        self._start()
        _, _, live_name = self._names(channel, key)
        live = self._lives.get(live_name)
        if live is None:
            live = self._lives[live_name] = _Live(channel, key)
            async with self._lock:
                if self._pubsub is not None:
                    await self._pubsub.subscribe(live_name)
        live.topic.subscribers.add(subscriber)
        await live.confirmed.wait()

    def detach(self, channel: str, key: str, subscriber: Subscriber) -> None:
        _, _, live_name = self._names(channel, key)
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
            with contextlib.suppress(Exception):  # a lost connection drops it anyway
                await self._pubsub.unsubscribe(live_name)

    def topic(self, channel: str, key: str) -> Topic | None:
        live = self._lives.get(self._names(channel, key)[2])
        return None if live is None else live.topic

    async def aclose(self) -> None:
        reader, client = self._reader, self._client
        self._forget()
        if reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await reader
        if client is not None:
            await client.aclose()

    def close_nowait(self) -> None:
        loop = self._loop
        if loop is None or loop.is_closed() or self._client is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop stopped meanwhile
            loop.call_soon_threadsafe(self._spawn_close)

    def _spawn_close(self) -> None:
        task = asyncio.get_running_loop().create_task(self.aclose())
        self._chores.add(task)
        task.add_done_callback(self._chores.discard)

    async def _run(self) -> None:
        """The Pub/Sub task: (re)connect, subscribe every key, deliver, refill after a loss."""
        delay = BACKOFF_FIRST
        first = True
        while True:
            try:
                await self._listen(refill=not first)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("channel broker lost Redis Pub/Sub (%r); reconnecting", exc)
            else:
                delay = BACKOFF_FIRST
            first = False
            await self._drop_pubsub()
            await asyncio.sleep(delay)
            delay = min(delay * 2, BACKOFF_MAX)

    async def _drop_pubsub(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            with contextlib.suppress(Exception):
                await pubsub.aclose()

    async def _listen(self, *, refill: bool) -> None:
        from redis.asyncio import Redis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        # A connection of its own, with no silent retries: a loss must surface
        # here so every key is refilled from its log.
        client = Redis.from_url(
            self.url,
            socket_timeout=COMMAND_TIMEOUT,
            socket_connect_timeout=CONNECT_TIMEOUT,
            retry=Retry(NoBackoff(), 0),
            **self._tcp_options(),
        )
        pubsub = client.pubsub()
        try:
            async with self._lock:
                await pubsub.ping()  # connects
                self._pubsub = pubsub
                if self._lives:
                    await pubsub.subscribe(*self._lives)
            await self._read_messages(pubsub, refill=refill)
        finally:
            if self._pubsub is pubsub:
                self._pubsub = None
            with contextlib.suppress(Exception):
                await pubsub.aclose()
            with contextlib.suppress(Exception):
                await client.aclose()

    async def _read_messages(self, pubsub: Any, *, refill: bool) -> None:
        loop = asyncio.get_running_loop()
        heard = loop.time()
        pinged = False
        while True:
            message = await pubsub.get_message(timeout=IDLE_PING)
            now = loop.time()
            if message is None:
                if now - heard > DEAD_AFTER:
                    raise ConnectionError(f"no reply from Redis Pub/Sub for {DEAD_AFTER}s")
                if not pinged:
                    pinged = True
                    async with self._lock:
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
            epoch, top = await self.position(live.channel, live.key)
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
            read = await self.read(live.channel, live.key, after=topic.last, limit=REFILL_PAGE)
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


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _offset(entry_id: object) -> int:
    return int(_text(entry_id).partition("-")[0])


def _data(fields: Any) -> bytes:
    # XRANGE field/value pairs: a flat list under RESP2, a map under RESP3.
    value = fields.get(b"d", fields.get("d")) if isinstance(fields, dict) else fields[1]
    return value if isinstance(value, bytes) else str(value).encode()
