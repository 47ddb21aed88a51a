"""``Channel``: a typed family of event streams, one per key, with resume by position."""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import aclosing
from typing import Any, Generic, TypeVar, cast

import orjson
from pydantic import TypeAdapter

from streams.brokers.base import CATCH_UP, DETACHED, Broker, Subscriber
from streams.positions import Delivery, DeliveryRun, Reset, format_position, parse_position

T = TypeVar("T")

PAGE = 200  # log entries read per round trip while a subscriber catches up
RUN = 256  # most events handed on as one DeliveryRun
MAX_KEY_LENGTH = 512
MAX_TTL = 1e9  # seconds (~31 years): finite, and small enough for a Redis expiry in ms
_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")


class ChannelNotBoundError(RuntimeError):
    """A channel was used before an app bound it to a broker."""


class ChannelKeyError(ValueError):
    """A channel key that cannot be used; an RPCApp answers it with 400 (keys are request input)."""


class _Cursor:
    """Where one subscriber stands: the last offset it was given, in which epoch."""

    __slots__ = ("epoch", "last")

    def __init__(self, epoch: str, last: int) -> None:
        self.epoch, self.last = epoch, last


class Channel(Generic[T]):
    """A typed channel: ``publish(key, item)`` reaches every ``subscribe(key)``.

    Args:
        model: the type of every item (a pydantic model or any type pydantic can dump).
        name: unique within the app; letters, digits, ``_ . -``.
        history: events kept per key for resume and catch-up (older ones are trimmed).
        ttl: seconds a key's log is kept after its last publish.

    Items are validated and encoded to JSON once per publish; each worker frames
    an event once and shares those bytes between its subscribers. Bind it with
    ``RPCApp(channels=[...])``; before that, using it raises ``ChannelNotBoundError``.
    """

    def __init__(self, model: Any, *, name: str, history: int = 1000, ttl: float = 3600.0) -> None:
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise ValueError(f"channel name must be 1-100 of [A-Za-z0-9_.-], got {name!r}")
        if isinstance(history, bool) or not isinstance(history, int) or history < 1:
            raise ValueError(f"channel {name!r}: history must be an int >= 1, got {history!r}")
        if isinstance(ttl, bool) or not isinstance(ttl, int | float) or not 0 < ttl <= MAX_TTL:
            raise ValueError(
                f"channel {name!r}: ttl must be a number of seconds in (0, {MAX_TTL:.0e}], "
                f"got {ttl!r}"
            )
        self.model = model
        self.name = name
        self.history = history
        self.ttl = float(ttl)
        self._adapter: TypeAdapter[Any] = TypeAdapter(model)
        self._broker: Broker | None = None
        self.encode: Callable[[object], bytes] = self._encode

    def __repr__(self) -> str:
        return f"Channel({getattr(self.model, '__name__', self.model)!r}, name={self.name!r})"

    def bind(self, broker: Broker) -> None:
        """Attach this channel to ``broker`` (done by ``RPCApp``; the latest binding wins)."""
        self._broker = broker

    @property
    def broker(self) -> Broker:
        """The broker this channel publishes through; raises if it is not bound yet."""
        if self._broker is None:
            raise ChannelNotBoundError(
                f"channel {self.name!r} is not bound to an app yet: "
                f"pass it to RPCApp(channels=[...]) before publishing or subscribing"
            )
        return self._broker

    async def publish(self, key: str, item: T) -> str:
        """Validate and send ``item`` to every subscriber of ``key``; returns its position."""
        broker = self.broker
        data = self.encode(item)
        epoch, offset = await broker.publish(
            self.name, _check_key(key), data, history=self.history, ttl=self.ttl
        )
        return format_position(epoch, offset)

    async def position(self, key: str) -> str:
        """The position of ``key``'s latest event (offset 0 before the first).

        Read it *before* loading the state a page shows, and subscribe from it:
        an event published in between is then delivered, not lost.
        """
        epoch, top = await self.broker.position(self.name, _check_key(key))
        return format_position(epoch, top)

    def subscribe(self, key: str, last_event_id: str | None = None) -> AsyncIterator[T]:
        """The events of ``key``: after ``last_event_id`` if given, else from now.

        Yields ``Delivery`` items (already framed, with their position as SSE id;
        a ``DeliveryRun`` when several consecutive events are ready at once)
        and ``Reset`` markers wherever continuity cannot be proven: an id from
        another epoch, one trimmed out of the history or ahead of the top, or
        junk. Typed as ``T`` so a generator can ``yield`` them unchanged.
        """
        return cast(AsyncIterator[T], self._subscription(_check_key(key), last_event_id))

    def _encode(self, item: object) -> bytes:
        adapter = self._adapter
        value = adapter.validate_python(item)
        return orjson.dumps(adapter.dump_python(value, mode="json", by_alias=True))

    async def _subscription(
        self, key: str, last_event_id: str | None
    ) -> AsyncIterator[Delivery | DeliveryRun | Reset]:
        # Each replay is closed with aclosing: a client leaving mid-replay closes this
        # generator, and an inner one left open would be finalised by the GC (trio warns).
        broker = self.broker
        subscriber = Subscriber()
        # Subscribe first, then read the log, then drain: the other order loses events.
        try:
            # Inside the try: a client that leaves while Redis has not confirmed yet
            # must still be detached, or its subscriber and the key stay forever.
            await broker.attach(self.name, key, subscriber)
            start = parse_position(last_event_id)
            if start is None:
                epoch, top = await broker.position(self.name, key)
                cursor = _Cursor(epoch, top)
                if last_event_id is not None:  # junk: nothing proves what the client has
                    yield Reset(format_position(epoch, top))
            else:
                cursor = _Cursor(*start)
                async with aclosing(self._catch_up(broker, key, cursor)) as replay:
                    async for item in replay:
                        yield item
            while True:
                news = subscriber.poll()
                while news is None:  # not subscriber.next(): no coroutine per event
                    await subscriber.wait()
                    news = subscriber.poll()
                if news is DETACHED:
                    # The broker was closed under this subscription (its app's
                    # registry drained while this stream opened): attach again,
                    # which starts it again, and read what was missed from the log.
                    broker.detach(self.name, key, subscriber)
                    broker, subscriber = self.broker, Subscriber()
                    await broker.attach(self.name, key, subscriber)
                    news = CATCH_UP
                if news is CATCH_UP or not isinstance(news, Delivery):
                    async with aclosing(self._catch_up(broker, key, cursor)) as replay:
                        async for item in replay:
                            yield item
                    continue
                if news.epoch != cursor.epoch or news.offset > cursor.last + 1:
                    async with aclosing(self._catch_up(broker, key, cursor)) as replay:
                        async for item in replay:
                            yield item
                if news.epoch == cursor.epoch and news.offset == cursor.last + 1:
                    cursor.last = news.offset
                    more = subscriber.take_run(cursor.epoch, cursor.last, RUN)
                    if more:
                        cursor.last = more[-1].offset
                        yield DeliveryRun((news, *more))
                    else:
                        # Not kept alive while parked: per subscriber, per event, it
                        # is one more object for the garbage collector to scan.
                        del more
                        yield news
        finally:
            broker.detach(self.name, key, subscriber)

    async def _catch_up(
        self, broker: Broker, key: str, cursor: _Cursor
    ) -> AsyncGenerator[Delivery | DeliveryRun | Reset, None]:
        """Replay the log after ``cursor``, or ``Reset`` where it cannot prove continuity."""
        while True:
            read = await broker.read(self.name, key, after=cursor.last, limit=PAGE)
            entries = read.entries
            covered = read.epoch == cursor.epoch and cursor.last <= read.top
            if covered and cursor.last < read.top:
                covered = bool(entries) and entries[0][0] == cursor.last + 1
            if not covered:
                cursor.epoch, cursor.last = read.epoch, read.top
                yield Reset(format_position(read.epoch, read.top))
                return
            run = []
            for offset, data in entries:
                if offset == cursor.last + 1:
                    cursor.last = offset
                    run.append(Delivery.build(read.epoch, offset, data))
            if run:
                yield run[0] if len(run) == 1 else DeliveryRun(tuple(run))
            if not entries or cursor.last >= read.top:
                return


def _check_key(key: str) -> str:
    if not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH:
        shown = repr(key) if len(repr(key)) <= 60 else f"{repr(key)[:50]}... ({len(key)} chars)"
        raise ChannelKeyError(
            f"a channel key is a non-empty str of <= {MAX_KEY_LENGTH} chars, got {shown}"
        )
    if not key.isascii():
        try:
            key.encode()
        except UnicodeEncodeError:  # a lone surrogate: no broker outside memory can name it
            raise ChannelKeyError(f"a channel key must be valid Unicode, got {key!r}") from None
    return key
