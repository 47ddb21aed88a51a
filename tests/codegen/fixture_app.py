"""A rich fixture app: every row of the type-mapping table, inheritance, errors, streams.

The same app is served to the generated client's node:test suite, so its
actions also behave: state changes, typed errors, streams that record their
``finally``, fail midway, or resume from ``Last-Event-ID``.
"""

from __future__ import annotations

import asyncio
import datetime
import decimal
import enum
import threading
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Generic, Literal, TypeVar

from pydantic import BaseModel, Field, computed_field

import streams
from rpc import APIException, ControllerBase, RenderBase, RPCApp, passthrough, sideeffect

T = TypeVar("T")


class Color(enum.StrEnum):
    """A colour; member names differ from values on purpose."""

    RED = "red"
    DARK_BLUE = "navy"


class Priority(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Address(BaseModel):
    street: str
    zip_code: str = Field(alias="zipCode", description="Postal code.")


class Scalars(BaseModel):
    """One field per scalar row of the table."""

    text: str
    whole: int
    ratio: float
    price: decimal.Decimal
    flag: bool
    nothing: None
    at: datetime.datetime
    day: datetime.date
    clock: datetime.time
    ident: uuid.UUID


class Collections(BaseModel):
    tags: list[str]
    pair: tuple[int, str]
    many: tuple[int, ...]
    unique: set[int]
    frozen: frozenset[str]
    scores: dict[str, float]
    nested: dict[str, list[Address]]


class Optionals(BaseModel):
    maybe: int | None
    defaulted: int = 3
    maybe_defaulted: str | None = None
    made: list[int] = Field(default_factory=list)


class Literals(BaseModel):
    mode: Literal["fast", "slow"]
    level: Literal[1, 2, 3]
    yes: Literal[True]
    red: Literal[Color.RED]
    either: int | str | Address


class Cat(BaseModel):
    kind: Literal["cat"] = "cat"
    meows: int


class Dog(BaseModel):
    kind: Literal["dog"] = "dog"
    barks: bool


class Owner(BaseModel):
    pet: Annotated[Cat | Dog, Field(discriminator="kind")]
    color: Color
    priority: Priority


class TreeNode(BaseModel):
    name: str
    children: list[TreeNode] = Field(default_factory=list)


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int


class Animal(BaseModel):
    name: str


class Pet(Animal):
    """A child model: only its own fields are emitted."""

    owner: str

    @computed_field  # type: ignore[prop-decorator]
    @property
    def label(self) -> str:
        return f"{self.name} ({self.owner})"


class Item(BaseModel):
    name: str
    quantity: int = 1


class ShopState(RenderBase):
    shop: str
    items: list[Item]
    title: str
    query: str


class Tick(BaseModel):
    n: int


class Catalog(BaseModel):
    scalars: Scalars | None = None
    collections: Collections | None = None
    optionals: Optionals | None = None
    literals: Literals | None = None
    owner: Owner | None = None
    tree: TreeNode | None = None
    pet: Pet | None = None


class RoomFull(APIException):
    status_code = 409
    detail = "room is full"
    capacity: int = 10


class NotAllowed(APIException):
    status_code = 403
    detail = "not allowed"
    reason: str


class Boom(Exception):
    """An unexpected error (a 500 / a mid-stream error event)."""


class StreamReport(BaseModel):
    closed: list[str]
    resumed_from: list[str | None]


class StreamLog:
    """What the streams did on the server, for the e2e tests to observe."""

    def __init__(self) -> None:
        self.closed: list[str] = []
        self.resumed_from: list[str | None] = []
        self.sent = 0
        self.lock = threading.Lock()

    def close(self, name: str) -> None:
        with self.lock:
            self.closed.append(name)


class BaseShop(ControllerBase):
    """Actions every shop has."""

    def __init__(self) -> None:
        self.items: dict[str, list[Item]] = {}
        self.titles: dict[str, str] = {}

    @sideeffect
    async def add_item(self, payload: Item, shop: str) -> None:
        """Add an item to a shop."""
        self.items.setdefault(shop, []).append(payload)

    @passthrough
    async def ping(self) -> str:
        return "pong"


class ShopController(BaseShop):
    url = "/shop/{shop}"

    def __init__(self, log: StreamLog) -> None:
        super().__init__()
        self.log = log

    async def render(self, shop: str, q: str = "") -> ShopState:
        return ShopState(
            shop=shop,
            items=self.items.get(shop, []),
            title=self.titles.get(shop, "untitled"),
            query=q,
        )

    @sideeffect(reload=(ShopState.title,))
    def set_title(self, shop: str, title: str) -> int:
        self.titles[shop] = title
        return len(title)

    @passthrough(exception_models=[RoomFull, NotAllowed])
    async def lookup(
        self, ids: list[int], color: Color = Color.RED, limit: int | None = None
    ) -> Page[Address]:
        if 0 in ids:
            raise RoomFull(capacity=3)
        if -1 in ids:
            raise NotAllowed(reason="negative")
        if -2 in ids:
            raise Boom("unexpected")
        items = [Address(street=f"{color.value} {i}", zipCode=str(i)) for i in ids]
        return Page[Address](items=items[:limit], total=len(ids))

    @passthrough
    async def catalog(self, sample: Catalog) -> Catalog:
        return sample

    @passthrough(exception_models=[RoomFull])
    async def ticks(self, limit: int, fail_at: int = -1) -> AsyncIterator[Tick]:
        try:
            for n in range(limit):
                if n == fail_at:
                    raise RoomFull(capacity=n)
                yield Tick(n=n)
                await asyncio.sleep(0)
        finally:
            self.log.close("ticks")

    @passthrough
    async def stream_log(self) -> StreamReport:
        """What the streams did so far (for the e2e tests)."""
        with self.log.lock:
            return StreamReport(closed=list(self.log.closed), resumed_from=self.log.resumed_from)

    @passthrough(exception_models=[NotAllowed])  # e.g. an auth check failing on a reconnect
    async def forever(self) -> AsyncIterator[Tick]:
        try:
            n = 0
            while True:
                yield Tick(n=n)
                n += 1
                await asyncio.sleep(0.01)
        finally:
            self.log.close("forever")

    @passthrough
    async def resumable(
        self, limit: int, slow: bool = False, last_event_id: streams.LastEventId = None
    ) -> AsyncIterator[Tick]:
        """Tracked ticks, resuming after ``Last-Event-ID`` (the e2e tests break the connection)."""
        with self.log.lock:
            self.log.resumed_from.append(last_event_id)
        start = 0 if last_event_id is None else int(last_event_id) + 1
        for n in range(start, limit):
            yield streams.tracked(n, Tick(n=n))
            with self.log.lock:
                self.log.sent += 1
            await asyncio.sleep(0.03 if slow else 0)


class CounterState(RenderBase):
    count: int
    room: str


class Increment(BaseModel):
    count: int


class CounterController(ControllerBase):
    url = "/rooms/{room}"

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    async def render(self, room: str, step: int = 1) -> CounterState:
        return CounterState(count=self.counts.get(room, 0), room=room)

    @sideeffect
    async def increment(self, payload: Increment, room: str) -> None:
        self.counts[room] = self.counts.get(room, 0) + payload.count

    @sideeffect(reload=(CounterState.count,), broadcast=True)
    def bump(self, room: str) -> None:
        self.counts[room] = self.counts.get(room, 0) + 1

    @passthrough(exception_models=[RoomFull])
    async def peek(self, room: str) -> CounterState:
        if room == "full":
            raise RoomFull()
        return CounterState(count=self.counts.get(room, 0), room=room)

    @passthrough
    async def ticks(self, limit: int) -> AsyncIterator[Tick]:
        for n in range(limit):
            yield Tick(n=n)

    @sideeffect(reload=(CounterState.count,), exception_models=[RoomFull])
    async def count_up(self, room: str, to: int) -> AsyncIterator[Tick]:
        """Count up one step per item; the room "full" refuses after its first step."""
        for n in range(1, to + 1):
            if room == "full" and n == 2:
                raise RoomFull()
            self.counts[room] = self.counts.get(room, 0) + 1
            yield Tick(n=n)


def build_app(log: StreamLog | None = None) -> RPCApp:
    """A fresh app (fresh controller state)."""
    return RPCApp(controllers=[ShopController(log or StreamLog()), CounterController()])
