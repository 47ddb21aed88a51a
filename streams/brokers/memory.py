"""``memory://``: channels inside one process (the default broker).

Each key keeps a bounded history (a deque of ``history`` entries) and its top
offset. The epoch is drawn once per broker, so a restarted process (or a
rebuilt app) numbers its events under a new epoch and clients that resume
from an old position get a ``Reset``, never a silent gap. A key whose last
publish is older than its ``ttl`` loses its history (its top offset stays, so
offsets never repeat within one epoch).
"""

from __future__ import annotations

import secrets
import time
from collections import deque
from dataclasses import dataclass, field

from streams.brokers.base import Broker, LogRead, Subscriber, Topic
from streams.positions import Delivery


@dataclass(slots=True)
class _KeyLog:
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
        self._logs: dict[tuple[str, str], _KeyLog] = {}
        self._topics: dict[tuple[str, str], Topic] = {}

    async def publish(
        self, channel: str, key: str, data: bytes, *, history: int, ttl: float
    ) -> tuple[str, int]:
        log = self._logs.get((channel, key))
        if log is None or log.entries.maxlen != history:
            old = log
            log = _KeyLog(deque(old.entries if old else (), maxlen=history), ttl)
            log.top = old.top if old else 0
            self._logs[channel, key] = log
        now = time.monotonic()
        log.expire(now)
        log.top += 1
        log.entries.append((log.top, data))
        log.touched, log.ttl = now, ttl
        delivery = Delivery.build(self.epoch, log.top, data)
        topic = self._topics.get((channel, key))
        if topic is not None:
            topic.offer(delivery)
        return self.epoch, log.top

    async def read(self, channel: str, key: str, *, after: int, limit: int) -> LogRead:
        log = self._logs.get((channel, key))
        if log is None:
            return LogRead(self.epoch, 0, [])
        log.expire(time.monotonic())
        entries = log.entries
        if not entries or limit <= 0 or after >= log.top:
            return LogRead(self.epoch, log.top, [])
        start = max(0, after + 1 - entries[0][0])
        page = [entries[i] for i in range(start, min(len(entries), start + limit))]
        return LogRead(self.epoch, log.top, page)

    async def attach(self, channel: str, key: str, subscriber: Subscriber) -> None:
        topic = self._topics.get((channel, key))
        if topic is None:
            topic = self._topics[channel, key] = Topic()
        topic.subscribers.add(subscriber)

    def detach(self, channel: str, key: str, subscriber: Subscriber) -> None:
        topic = self._topics.get((channel, key))
        if topic is not None:
            topic.subscribers.discard(subscriber)
            if not topic.subscribers:
                del self._topics[channel, key]

    def topic(self, channel: str, key: str) -> Topic | None:
        return self._topics.get((channel, key))

    async def aclose(self) -> None:
        """Nothing to release: the history lives as long as the broker object."""
