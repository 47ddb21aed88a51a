"""``memory://``: channels inside one process (the default broker).

Each key keeps a bounded history (a deque of ``history`` entries) and its top
offset. The epoch is drawn once per broker, so a restarted process (or a
rebuilt app) numbers its events under a new epoch and clients that resume
from an old position get a ``Reset``, never a silent gap. A key whose last
publish is older than its ``ttl`` loses its history (its top offset stays, so
offsets never repeat within one epoch).

A key nobody watches is forgotten altogether once its ``ttl`` has passed, so
keys that come and go (one per room, per user) do not pile up. Its offsets
would then start again from 1, so a forgotten key comes back under another
epoch: each key's epoch is the broker's token plus a generation counter of the
key's hash slot, bumped whenever a key of that slot is forgotten (a watched
key that has no log yet keeps the epoch it was watched under).
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field

from streams.brokers.base import Broker, LogRead, Subscriber, Topic
from streams.positions import Delivery

SLOTS = 4096  # generation counters shared by the keys that hash alike (a fixed cost)
SWEEP_STEP = 2  # expired keys looked at per publish: more than one, so they cannot pile up


@dataclass(slots=True)
class _KeyLog:
    epoch: str
    entries: deque[tuple[int, bytes]]
    ttl: float
    top: int = 0
    touched: float = field(default_factory=time.monotonic)

    def expire(self, now: float) -> None:
        if self.entries and now - self.touched > self.ttl:
            self.entries.clear()


class MemoryBroker(Broker):
    """Channel events for the subscribers of this one process."""

    def __init__(self) -> None:
        self.epoch = secrets.token_hex(6)
        # Per channel, least recently published key first (one channel has one ttl).
        self._logs: dict[str, OrderedDict[str, _KeyLog]] = {}
        self._topics: dict[tuple[str, str], Topic] = {}
        self._generations = [0] * SLOTS
        # The epoch a watched key without a log was read under, kept while it is watched.
        self._pinned: dict[tuple[str, str], str] = {}

    @property
    def key_count(self) -> int:
        """How many keys this broker keeps a log or offsets for (forgotten ones excluded)."""
        return sum(len(logs) for logs in self._logs.values())

    async def publish(
        self, channel: str, key: str, data: bytes, *, history: int, ttl: float
    ) -> tuple[str, int]:
        logs = self._logs.get(channel)
        if logs is None:
            logs = self._logs[channel] = OrderedDict()
        now = time.monotonic()
        log = logs.get(key)
        if log is None or log.entries.maxlen != history:
            old = log
            epoch = old.epoch if old else self._fresh_epoch(channel, key)
            self._pinned.pop((channel, key), None)  # the log holds it from now on
            log = _KeyLog(epoch, deque(old.entries if old else (), maxlen=history), ttl)
            log.top = old.top if old else 0
            logs[key] = log
        log.expire(now)
        log.top += 1
        log.entries.append((log.top, data))
        log.touched, log.ttl = now, ttl
        logs.move_to_end(key)
        self._sweep(channel, logs, now)
        delivery = Delivery.build(log.epoch, log.top, data)
        topic = self._topics.get((channel, key))
        if topic is not None:
            topic.offer(delivery)
        return log.epoch, log.top

    async def read(self, channel: str, key: str, *, after: int, limit: int) -> LogRead:
        logs = self._logs.get(channel)
        log = None if logs is None else logs.get(key)
        if log is None:
            return LogRead(self._fresh_epoch(channel, key), 0, [])
        log.expire(time.monotonic())
        entries = log.entries
        if not entries or limit <= 0 or after >= log.top:
            return LogRead(log.epoch, log.top, [])
        start = max(0, after + 1 - entries[0][0])
        page = [entries[i] for i in range(start, min(len(entries), start + limit))]
        return LogRead(log.epoch, log.top, page)

    def _fresh_epoch(self, channel: str, key: str) -> str:
        """The epoch a key that has no log starts under."""
        pinned = self._pinned.get((channel, key))
        if pinned is not None:
            return pinned
        return f"{self.epoch}{self._generations[hash((channel, key)) % SLOTS]:x}"

    def _sweep(self, channel: str, logs: OrderedDict[str, _KeyLog], now: float) -> None:
        """Forget a few keys whose ttl has passed (a watched one only loses its history)."""
        for _ in range(SWEEP_STEP):  # never empty: the key just published is in it
            key, log = next(iter(logs.items()))
            if now - log.touched <= log.ttl:
                return
            del logs[key]
            if (channel, key) in self._topics:
                # Its subscribers stand at its offsets: keep them, count its ttl again.
                log.entries.clear()
                log.touched = now
                logs[key] = log
            else:
                self._generations[hash((channel, key)) % SLOTS] += 1

    async def attach(self, channel: str, key: str, subscriber: Subscriber) -> None:
        topic = self._topics.get((channel, key))
        if topic is None:
            topic = self._topics[channel, key] = Topic()
            logs = self._logs.get(channel)
            if logs is None or key not in logs:
                # Its subscribers read this epoch next: a neighbour forgotten
                # before its first publish must not change it under them.
                self._pinned[channel, key] = self._fresh_epoch(channel, key)
        topic.subscribers.add(subscriber)

    def detach(self, channel: str, key: str, subscriber: Subscriber) -> None:
        topic = self._topics.get((channel, key))
        if topic is not None:
            topic.subscribers.discard(subscriber)
            if not topic.subscribers:
                del self._topics[channel, key]
                self._pinned.pop((channel, key), None)

    def topic(self, channel: str, key: str) -> Topic | None:
        return self._topics.get((channel, key))

    async def aclose(self) -> None:
        """Nothing to release: the history lives as long as the broker object."""
