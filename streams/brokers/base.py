"""What every broker offers a ``Channel``, and the per-worker fan-out they share.

A broker keeps, per channel key, a bounded log and the key's top position, and
hands live events to this worker's subscribers through one ``Topic`` per key.
Topics only speed things up (one frame per event, one log read per gap for all
subscribers); correctness rests on each ``Subscriber``'s own check of offsets
in ``Channel.subscribe``, which falls back to the log whenever it sees a gap.
"""

from __future__ import annotations

import gc
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass

from streams.positions import Delivery
from streams.wakeup import Wakeup, running_asyncio_loop

DEFAULT_MAX_LAG = 1024  # events a subscriber may fall behind before it reads the log instead
MIN_WAKE_SLICE = 32  # subscribers woken per loop turn, whatever the collector's threshold


@dataclass(frozen=True, slots=True)
class LogRead:
    """A page of a key's log: its epoch, its top offset, entries after the asked offset."""

    epoch: str
    top: int
    entries: list[tuple[int, bytes]]


class CatchUp:
    """Queue marker: this subscriber missed events and must read them from the log."""

    __slots__ = ()


CATCH_UP = CatchUp()


class Detached:
    """Queue marker: the broker closed under this subscriber; attach again and read the log."""

    __slots__ = ()


DETACHED = Detached()


class Subscriber:
    """One subscription's bounded queue of live deliveries.

    ``enqueue`` never blocks (publishers must not wait on a slow reader): past
    ``max_lag`` queued events it drops and remembers that it did, and the
    subscription then reads what it missed from the log at its own pace.
    """

    __slots__ = ("_max_lag", "_queue", "_reader", "detached", "overflowed")

    def __init__(self, max_lag: int = DEFAULT_MAX_LAG) -> None:
        self._queue: deque[Delivery | CatchUp] = deque()
        self._max_lag = max_lag
        self._reader = Wakeup()  # a cheap wait: one publish wakes every subscriber
        self.overflowed = False
        self.detached = False

    def enqueue(self, item: Delivery | CatchUp) -> None:
        """Queue ``item`` (or, when full, note that the log must be read); ``wake()`` wakes.

        Two steps, so that ``Topic.offer`` can queue an event everywhere at once
        and wake the readers a slice at a time.
        """
        if len(self._queue) >= self._max_lag:
            self.overflowed = True
        else:
            self._queue.append(item)

    def wake(self) -> None:
        """Return the reader from its wait, if it waits."""
        self._reader.wake()

    def detach(self) -> None:
        """The broker let go of this subscriber: ``next()`` answers ``DETACHED`` from now on."""
        self.detached = True
        self._queue.clear()
        self._reader.wake()

    async def next(self) -> Delivery | CatchUp | Detached:
        """The next queued item; ``CATCH_UP`` once the queue ran over and has drained."""
        news = self.poll()
        while news is None:
            await self._reader.wait()
            news = self.poll()
        return news

    def poll(self) -> Delivery | CatchUp | Detached | None:
        """What ``next()`` would return now, or None if it would wait.

        With ``wait()`` it makes the loop of ``next()`` without a coroutine per
        item: one event wakes every subscriber, and whatever each wait leaves
        alive until the next event is work for the garbage collector.
        """
        if self._queue:
            return self._queue.popleft()
        if self.detached:
            return DETACHED
        if self.overflowed:
            self.overflowed = False
            return CATCH_UP
        return None

    def wait(self) -> Awaitable[object]:
        """Await this while ``poll()`` returns None: it completes on news (or at once)."""
        return self._reader.wait()

    def take_run(self, epoch: str, after: int, limit: int) -> list[Delivery]:
        """Pop the queued deliveries that continue ``after`` without a gap (duplicates dropped).

        Stops at a gap, another epoch, a marker, or ``limit`` deliveries.
        """
        queue, run = self._queue, list[Delivery]()
        while queue and len(run) < limit:
            item = queue[0]
            if type(item) is not Delivery or item.epoch != epoch or item.offset > after + 1:
                break
            queue.popleft()
            if item.offset == after + 1:
                run.append(item)
                after = item.offset
        return run

    @property
    def queued(self) -> int:
        """How many live items wait in this subscriber's queue."""
        return len(self._queue)


class Topic:
    """This worker's subscribers of one channel key and the last offset handed to them."""

    __slots__ = ("epoch", "last", "subscribers")

    def __init__(self) -> None:
        self.subscribers: set[Subscriber] = set()
        self.epoch: str | None = None
        self.last = 0

    def offer(self, item: Delivery | CatchUp) -> None:
        """Hand ``item`` to every subscriber (the same object: framed once).

        Every queue gets the item at once (so events keep their order); the
        readers are woken a slice at a time (``wake_in_slices``).
        """
        if isinstance(item, Delivery):
            self.epoch, self.last = item.epoch, item.offset
        subscribers = list(self.subscribers)
        for subscriber in subscribers:
            subscriber.enqueue(item)
        wake_in_slices(subscribers)


def wake_in_slices(subscribers: Sequence[Subscriber]) -> None:
    """Wake ``subscribers``, one slice per turn of the asyncio loop (all at once elsewhere).

    Each woken reader holds a few new objects (the loop's handle for its task,
    the handle of the writer it wakes in turn) until it has run. Waking 10,000
    at once piles them up past the collector's young-generation threshold many
    times over, and each collection this triggers scans, and promotes towards
    the old generation, everything the woken streams have allocated since the
    last one: measured, most of a 10,000-subscriber fan-out's time, and the
    full collections that made its p99. A slice small against the threshold
    lets each slice's readers run (and free their handles) before the next
    slice is woken: the same work, with no collection (``bench/bench_channels.py``).
    """
    loop = running_asyncio_loop()
    size = wake_slice()
    if loop is None or len(subscribers) <= size:
        for subscriber in subscribers:
            subscriber.wake()
        return

    def wake_from(start: int) -> None:
        end = min(start + size, len(subscribers))
        for index in range(start, end):
            subscribers[index].wake()
        if end < len(subscribers):
            loop.call_soon(wake_from, end)

    wake_from(0)


def wake_slice() -> int:
    """How many readers to wake per loop turn: a quarter of the young-generation threshold."""
    threshold = gc.get_threshold()[0]
    if threshold <= 0 or not gc.isenabled():
        return 1 << 62  # no automatic collection to stay clear of
    return max(MIN_WAKE_SLICE, threshold // 4)


class Broker(ABC):
    """Log, positions and live delivery of channel events; one per app (per worker)."""

    @abstractmethod
    async def publish(
        self, channel: str, key: str, data: bytes, *, history: int, ttl: float
    ) -> tuple[str, int]:
        """Append ``data`` (one line of JSON) to the key's log and broadcast it.

        Returns the new event's ``(epoch, offset)``.
        """

    @abstractmethod
    async def read(self, channel: str, key: str, *, after: int, limit: int) -> LogRead:
        """The key's epoch and top, and up to ``limit`` logged entries after offset ``after``."""

    @abstractmethod
    async def attach(self, channel: str, key: str, subscriber: Subscriber) -> None:
        """Start handing the key's live events to ``subscriber``.

        Returns once delivery is established, so that a log read that follows
        cannot miss an event published in between.
        """

    @abstractmethod
    def detach(self, channel: str, key: str, subscriber: Subscriber) -> None:
        """Stop handing the key's events to ``subscriber`` (idempotent)."""

    @abstractmethod
    async def aclose(self) -> None:
        """Release connections and tasks; the broker starts again on its next use."""

    @abstractmethod
    def topic(self, channel: str, key: str) -> Topic | None:
        """This worker's ``Topic`` for a key, if anything subscribes to it (for metrics, tests)."""

    def subscriber_count(self, channel: str, key: str) -> int:
        """How many subscriptions of this worker watch the key."""
        topic = self.topic(channel, key)
        return 0 if topic is None else len(topic.subscribers)

    def close_nowait(self) -> None:  # noqa: B027 (optional hook: nothing to do by default)
        """Best-effort release without awaiting (the owning app was dropped)."""

    async def position(self, channel: str, key: str) -> tuple[str, int]:
        """The key's current ``(epoch, top offset)``; ``top`` is 0 before any publish."""
        read = await self.read(channel, key, after=0, limit=0)
        return read.epoch, read.top
