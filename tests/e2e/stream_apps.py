"""Streaming controllers for the streams tests, served through a real ``RPCApp``.

``build_stream_app()`` returns a fresh app and the ``StreamCounters`` its
streams report to. Every streaming action takes a ``yield`` dependency
(``lease``; async unless a sync one is asked for) that hands it a token, so the
tests can count, per stream, that the generator started, that its ``finally``
ran, and that the dependency's cleanup ran after that ``finally``
(``early_cleanups`` counts the violations).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import anyio
from pydantic import BaseModel, ConfigDict, Field

from rpc import APIException, ControllerBase, Depends, RPCApp, passthrough
from streams import LastEventId, tracked

PREFIX = "/internal/api/StreamController"
FIRST_WAIT_LIMIT = 30.0  # seconds ``gathered`` waits for its peers before giving up


class Tick(BaseModel):
    n: int


class Profile(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    user_name: str = Field(alias="userName")
    is_admin: bool = Field(alias="isAdmin")


class StreamPage(BaseModel):
    title: str


class RoomFull(APIException):
    status_code = 409
    detail = "room is full"
    capacity: int = 10


class Forbidden(APIException):
    status_code = 403
    detail = "not allowed"


@dataclass
class StreamCounters:
    """What the streams did, counted from inside the generators and the dependency."""

    opened: int = 0  # generator bodies started
    finalised: int = 0  # generator ``finally`` blocks run
    cleaned: int = 0  # ``lease`` cleanups run
    early_cleanups: int = 0  # cleanups that ran before their generator's ``finally``
    pulled: int = 0  # items produced by ``firehose``
    peak_live: int = 0
    tokens: int = 0
    _running: set[int] = field(default_factory=set)

    @property
    def live(self) -> int:
        """Generators started and not yet finalised."""
        return self.opened - self.finalised

    def started(self, token: int) -> None:
        self.opened += 1
        self._running.add(token)
        self.peak_live = max(self.peak_live, self.live)

    def finished(self, token: int) -> None:
        self.finalised += 1
        self._running.discard(token)

    def snapshot(self) -> dict[str, int]:
        return {
            "opened": self.opened,
            "finalised": self.finalised,
            "cleaned": self.cleaned,
            "early_cleanups": self.early_cleanups,
        }


def build_stream_app(
    *, sync_dependency: bool = False, **options: Any
) -> tuple[RPCApp, StreamCounters]:
    """A fresh RPCApp serving ``StreamController`` (``options`` go to ``RPCApp``).

    ``sync_dependency`` makes ``lease`` a sync generator (run in worker threads)
    instead of an async one.
    """
    counters = StreamCounters()

    def take_token() -> int:
        counters.tokens += 1
        return counters.tokens

    def return_token(token: int) -> None:
        counters.cleaned += 1
        if token in counters._running:
            counters.early_cleanups += 1

    def sync_lease() -> Iterator[int]:  # enter and exit run in a worker thread
        token = take_token()
        try:
            yield token
        finally:
            return_token(token)

    async def async_lease() -> AsyncIterator[int]:
        token = take_token()
        try:
            yield token
        finally:
            return_token(token)

    lease: Callable[[], object] = sync_lease if sync_dependency else async_lease

    def deny() -> None:
        raise Forbidden

    class StreamController(ControllerBase):
        url = "/streams"

        async def render(self) -> StreamPage:
            return StreamPage(title="streams")

        @passthrough
        async def ticks(self, limit: int, token: int = Depends(lease)) -> AsyncIterator[Tick]:
            """``limit`` ticks, then a clean end."""
            counters.started(token)
            try:
                for n in range(limit):
                    yield Tick(n=n)
            finally:
                counters.finished(token)

        @passthrough
        async def gathered(
            self, limit: int, expect: int, token: int = Depends(lease)
        ) -> AsyncIterator[Tick]:
            """One tick, then (once ``expect`` streams are live at once) the rest."""
            counters.started(token)
            try:
                yield Tick(n=0)
                with anyio.move_on_after(FIRST_WAIT_LIMIT):
                    while counters.peak_live < expect:  # noqa: ASYNC110 (a plain counter)
                        await anyio.sleep(0.01)
                for n in range(1, limit):
                    yield Tick(n=n)
            finally:
                counters.finished(token)

        @passthrough
        async def blocked(self, token: int = Depends(lease)) -> AsyncIterator[Tick]:
            """One tick, then blocked in an ``await`` forever."""
            counters.started(token)
            try:
                yield Tick(n=0)
                await anyio.sleep_forever()
            finally:
                counters.finished(token)

        @passthrough
        async def flowing(self, token: int = Depends(lease)) -> AsyncIterator[Tick]:
            """A tick every 10 ms, forever."""
            counters.started(token)
            try:
                n = 0
                while True:
                    yield Tick(n=n)
                    n += 1
                    await anyio.sleep(0.01)
            finally:
                counters.finished(token)

        @passthrough(send_timeout=0.1)
        async def firehose(self, token: int = Depends(lease)) -> AsyncIterator[Tick]:
            """Ticks as fast as they can be pulled, never awaiting (counted in ``pulled``)."""
            counters.started(token)
            try:
                n = 0
                while True:
                    counters.pulled += 1
                    yield Tick(n=n)
                    n += 1
            finally:
                counters.finished(token)

        @passthrough(exception_models=[RoomFull])
        async def fail_mid(self, kind: str, token: int = Depends(lease)) -> AsyncIterator[Tick]:
            """Two ticks, then ``RoomFull`` (kind=api) or a ``RuntimeError``."""
            counters.started(token)
            try:
                yield Tick(n=0)
                yield Tick(n=1)
                raise RoomFull(capacity=3) if kind == "api" else RuntimeError("boom")
            finally:
                counters.finished(token)

        @passthrough(exception_models=[RoomFull])
        async def fail_first(self, kind: str, token: int = Depends(lease)) -> AsyncIterator[Tick]:
            """Raises before its first item."""
            counters.started(token)
            try:
                if kind == "api":
                    raise RoomFull(capacity=5)
                raise RuntimeError("boom")
                yield Tick(n=0)  # makes this an async generator
            finally:
                counters.finished(token)

        @passthrough(exception_models=[Forbidden])
        async def guarded(self, allowed: None = Depends(deny)) -> AsyncIterator[Tick]:
            yield Tick(n=0)

        @passthrough
        async def wrong_type(self, token: int = Depends(lease)) -> AsyncIterator[Tick]:
            """One good tick, then a value that is not a Tick."""
            counters.started(token)
            try:
                yield Tick(n=0)
                yield "not a tick"  # type: ignore[misc]
                yield Tick(n=2)
            finally:
                counters.finished(token)

        @passthrough
        async def profiles(self) -> AsyncIterator[Profile]:
            yield Profile(userName="ada", isAdmin=True)

        @passthrough
        async def profile(self) -> Profile:
            return Profile(userName="ada", isAdmin=True)

        @passthrough(ping_interval=0.02)
        async def pauses(self, pause: float, count: int) -> AsyncIterator[Tick]:
            """``count`` ticks with ``pause`` seconds before each one after the first."""
            for n in range(count):
                if n:
                    await anyio.sleep(pause)
                yield Tick(n=n)

        @passthrough
        async def resumable(
            self, limit: int, last: LastEventId, token: int = Depends(lease)
        ) -> AsyncIterator[Tick]:
            """Tracked ticks ``0..limit-1``, resuming after ``Last-Event-ID``."""
            counters.started(token)
            try:
                start = int(last) + 1 if last is not None else 0
                for n in range(start, limit):
                    yield tracked(n, Tick(n=n))
                    await anyio.sleep(0.001)
            finally:
                counters.finished(token)

    return RPCApp([StreamController()], **options), counters
