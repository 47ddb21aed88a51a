"""An app with every kind of route for schemathesis to fuzz from its OpenAPI document.

Render with path and query page parameters; sideeffects (full state, ``reload=``,
sync, with a body, returning a value); passthroughs with list, enum, optional
and bounded query parameters, bodies of every type row of the codegen fixture
(echoed back, so serialisation is checked too), typed errors sharing a status
with the framework's; streams (tracked, failing with a typed error or an
unexpected one, resuming from ``Last-Event-ID``), inherited actions. Streams
are bounded by their parameters' declared limits, so every fuzzed request ends.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator
from typing import Annotated

from pydantic import BaseModel, Field

import streams
from rpc import APIException, ControllerBase, RenderBase, RPCApp, passthrough, sideeffect
from tests.codegen.fixture_app import Catalog, Color, Item, Page, Tick

Small = Annotated[int, Field(ge=0, le=20)]


class Shelf(enum.Enum):
    TOP = "top"
    BOTTOM = "bottom"


class StoreState(RenderBase):
    store: str
    items: list[Item]
    title: str
    page: int


class Rename(BaseModel):
    title: Annotated[str, Field(max_length=50)]


class SoldOut(APIException):
    status_code = 409
    detail = "sold out"
    left: int = 0


class Forbidden(APIException):
    """Shares 403 with the framework's cross-site refusal."""

    status_code = 403
    detail = "forbidden"
    reason: str


class Counting(ControllerBase):
    """A base controller: its action is served by every subclass."""

    @passthrough
    async def hello(self, name: str = "world") -> str:
        return f"hello {name}"


class StoreController(Counting):
    """A store page."""

    url = "/stores/{store}"

    def __init__(self) -> None:
        self.items: dict[str, list[Item]] = {}
        self.titles: dict[str, str] = {}

    async def render(self, store: str, page: Small = 0) -> StoreState:
        return StoreState(
            store=store,
            items=self.items.get(store, [])[:20],
            title=self.titles.get(store, "untitled"),
            page=page,
        )

    @sideeffect
    async def add(self, payload: Item, store: str) -> int:
        """Add an item; returns how many the store has."""
        self.items.setdefault(store, []).append(payload)
        return len(self.items[store])

    @sideeffect(reload=(StoreState.title,), broadcast=True)  # live viewers get the title
    def rename(self, store: str, payload: Rename) -> None:
        self.titles[store] = payload.title

    @sideeffect(reload=())
    async def touch(self) -> None:
        return None

    @passthrough(exception_models=[SoldOut, Forbidden])
    async def find(
        self,
        ids: list[int],
        color: Color = Color.RED,
        shelf: Shelf | None = None,
        limit: Small | None = None,
    ) -> Page[Item]:
        if 0 in ids:
            raise SoldOut(left=len(ids))
        if -1 in ids:
            raise Forbidden(reason="negative")
        items = [
            Item(name=f"{color.value} {shelf.value if shelf else ''}", quantity=i) for i in ids
        ]
        return Page[Item](items=items[:limit], total=len(ids))

    @passthrough
    async def echo(self, sample: Catalog) -> Catalog:
        return sample

    @passthrough
    async def maybe(self, payload: Item | None = None) -> Item | None:
        return payload

    @passthrough(exception_models=[SoldOut])
    async def ticks(self, limit: Small, fail_at: Small | None = None) -> AsyncIterator[Tick]:
        for n in range(limit):
            if n == fail_at:
                raise SoldOut(left=n)
            yield Tick(n=n)

    @passthrough
    async def resumable(
        self, limit: Small, last_event_id: streams.LastEventId = None
    ) -> AsyncIterator[Tick]:
        start = int(last_event_id) + 1 if last_event_id and last_event_id.isdigit() else 0
        for n in range(min(start, limit), limit):
            yield streams.tracked(str(n), Tick(n=n))

    @passthrough
    async def broken(self, limit: Small) -> AsyncIterator[Tick]:
        """Fails with an unexpected error after ``limit + 1`` items (after the headers)."""
        for n in range(limit + 1):
            yield Tick(n=n)
        raise RuntimeError("broken on purpose")


class PlainState(RenderBase):
    ok: bool


class PlainController(ControllerBase):
    """A page without path parameters."""

    url = "/plain"

    async def render(self) -> PlainState:
        return PlainState(ok=True)

    @passthrough
    async def version(self) -> dict[str, int]:
        return {"major": 1}


def build_app(**options: object) -> RPCApp:
    """A fresh app (fresh controller state)."""
    return RPCApp(controllers=[StoreController(), PlainController()], **options)  # type: ignore[arg-type]
