"""``redis://``, ``rediss://``, ``unix://``: channels shared by workers through Redis >= 7.

Per worker: one command connection pool (each publish and each log read is
one script call, see ``scripts.py``) and one ``PubSubFeed`` (one Pub/Sub
connection, subscribed once per key however many streams watch it). Open
streams stay open through a lost connection (they keep pinging); the feed
reconnects with backoff and refills every key from its log.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from streams.brokers import scripts
from streams.brokers.base import Broker, LogRead, Subscriber, Topic

CONNECT_TIMEOUT = 5.0  # seconds to open a connection
COMMAND_TIMEOUT = 5.0  # seconds a command (a script call) may take
META_TTL_FACTOR = 10  # the meta hash lives this many log ttls past the last publish
READ_META_TTL_MS = 86_400_000  # a key first seen by a read keeps its epoch a day


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
        self._feed: Any = None
        self._reader: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
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
        from redis.asyncio.retry import Retry
        from redis.backoff import ExponentialBackoff
        from redis.exceptions import ConnectionError as RedisConnectionError

        from streams.brokers.pubsub import PubSubFeed

        self._forget()
        self._loop = loop
        # Retry what never reached Redis, not a timeout: a script that timed out
        # may still run, and a publish sent again would be logged twice.
        retry = Retry(
            ExponentialBackoff(cap=1.0, base=0.05), 3, supported_errors=(RedisConnectionError,)
        )
        self._client = self._redis(retry)
        self._publish = self._client.register_script(scripts.PUBLISH)
        self._read = self._client.register_script(scripts.READ)
        self._feed = PubSubFeed(self._pubsub_client, self._read_page)
        self._reader = loop.create_task(self._feed.run(), name="belay-channels-pubsub")

    def _redis(self, retry: Any) -> Any:
        from redis.asyncio import Redis

        # Unix sockets take no keepalive option; TCP ones need it to notice dead peers.
        tcp = {} if self.url.startswith("unix:") else {"socket_keepalive": True}
        return Redis.from_url(
            self.url,
            socket_timeout=COMMAND_TIMEOUT,
            socket_connect_timeout=CONNECT_TIMEOUT,
            retry=retry,
            **tcp,
        )

    def _pubsub_client(self) -> Any:
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        # No silent retries: a loss must surface in the feed, which refills every key.
        return self._redis(Retry(NoBackoff(), 0))

    def _forget(self) -> None:
        if self._feed is not None:
            self._feed.close()  # open subscriptions attach again, to the next client
        if self._reader is not None:
            self._reader.cancel()
        self._client = self._reader = self._feed = None

    async def publish(
        self, channel: str, key: str, data: bytes, *, history: int, ttl: float
    ) -> tuple[str, int]:
        self._start()
        meta, log, live = self._names(channel, key)
        log_ms = max(1, int(ttl * 1000))
        epoch, top = await self._publish(
            keys=[meta, log], args=[log_ms * META_TTL_FACTOR, data, history, log_ms, live]
        )
        return _text(epoch), int(top)

    async def read(self, channel: str, key: str, *, after: int, limit: int) -> LogRead:
        self._start()
        meta, log, _ = self._names(channel, key)
        epoch, top, raw = await self._read(keys=[meta, log], args=[READ_META_TTL_MS, after, limit])
        entries = [(_offset(entry_id), _data(fields)) for entry_id, fields in raw]
        return LogRead(_text(epoch), int(top), entries)

    async def _read_page(self, channel: str, key: str, after: int, limit: int) -> LogRead:
        return await self.read(channel, key, after=after, limit=limit)

    async def attach(self, channel: str, key: str, subscriber: Subscriber) -> None:
        self._start()
        await self._feed.attach(channel, key, self._names(channel, key)[2], subscriber)

    def detach(self, channel: str, key: str, subscriber: Subscriber) -> None:
        if self._feed is not None:
            self._feed.detach(self._names(channel, key)[2], subscriber)

    def topic(self, channel: str, key: str) -> Topic | None:
        if self._feed is None:
            return None
        topic: Topic | None = self._feed.topic(self._names(channel, key)[2])
        return topic

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


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _offset(entry_id: object) -> int:
    return int(_text(entry_id).partition("-")[0])


def _data(fields: Any) -> bytes:
    # XRANGE field/value pairs: a flat list under RESP2, a map under RESP3.
    value = fields.get(b"d", fields.get("d")) if isinstance(fields, dict) else fields[1]
    return value if isinstance(value, bytes) else str(value).encode()
