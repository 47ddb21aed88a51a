"""Apps for the live page state tests: per-viewer renders, shared renders, slices, failures."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

import anyio
from pydantic import BaseModel
from starlette.requests import Request

from rpc import APIException, ControllerBase, Depends, RenderBase, RPCApp, passthrough, sideeffect
from streams.registry import StreamRegistry

PREFIX = "/internal/api"


class ViewerBroken(APIException):
    status_code = 409
    detail = "this viewer's render is broken"


def viewer_name(request: Request) -> str:
    """Who is looking: a header, so each viewer's render differs."""
    return request.headers.get("x-viewer", "anonymous")


class Board(RenderBase):
    room: str
    count: int
    notes: list[str]
    viewer: str
    secret: str  # per viewer: must never reach another viewer


class Note(BaseModel):
    text: str


class RoomStore:
    """Rooms' data, shared by every app built over it (as a database would be)."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.notes: dict[str, list[str]] = {}
        self.broken: set[str] = set()


class BoardController(ControllerBase):
    url = "/rooms/{room}"

    def __init__(self, store: RoomStore) -> None:
        self.store = store
        self.registry: StreamRegistry | None = None  # set by build_live_app
        self._background: set[asyncio.Task[None]] = set()

    async def render(self, room: str, viewer: str = Depends(viewer_name)) -> Board:
        if room in self.store.broken and viewer == "boom":
            raise ViewerBroken()
        return Board(
            room=room,
            count=self.store.counts.get(room, 0),
            notes=list(self.store.notes.get(room, [])),
            viewer=viewer,
            secret=f"secret-of-{viewer}",
        )

    @sideeffect(broadcast=True)
    async def add(self, room: str, payload: Note) -> None:
        self.store.notes.setdefault(room, []).append(payload.text)

    @sideeffect(reload=(Board.count,), broadcast=True)
    async def bump(self, room: str) -> None:
        self.store.counts[room] = self.store.counts.get(room, 0) + 1

    @sideeffect
    async def quiet(self, room: str) -> None:
        self.store.counts[room] = self.store.counts.get(room, 0) + 100

    @sideeffect(broadcast=True)
    async def breaks(self, room: str) -> None:
        self.store.broken.add(room)

    @passthrough
    async def later(self, room: str, count: int) -> None:
        """Set the count from a background task, which then broadcasts it."""

        async def job() -> None:
            self.store.counts[room] = count
            await self.broadcast(f"/rooms/{room}", reload=(Board.count,))

        task = asyncio.get_running_loop().create_task(job())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    @passthrough
    async def drop(self) -> None:
        """Cut every open stream without an end event, as a restart would."""
        if self.registry is not None:
            self.registry.close_all_nowait()


class Score(RenderBase):
    name: str
    points: int
    level: int


LEVEL_CALLS = [0]  # how often the part of render() that a points slice skips has run


def level_of(name: str) -> int:
    LEVEL_CALLS[0] += 1
    return len(name)


class ScoreController(ControllerBase):
    """A render that reads nothing of the request: shared by every viewer of a page."""

    url = "/scores/{name}"

    def __init__(self) -> None:
        self.points: dict[str, int] = {}

    async def render(self, name: str) -> Score:
        points = self.points.get(name, 0)
        level = level_of(name)
        return Score(name=name, points=points, level=level)

    @sideeffect(reload=(Score.points,), broadcast=True)
    async def score(self, name: str) -> None:
        self.points[name] = self.points.get(name, 0) + 1

    @sideeffect(reload=(Score.points,), experimental_render_reload=True, broadcast=True)
    async def score_sliced(self, name: str) -> None:
        self.points[name] = self.points.get(name, 0) + 10


def build_live_app(
    broker: str = "memory://", store: RoomStore | None = None
) -> tuple[RPCApp, BoardController, ScoreController]:
    """A fresh app (own controllers and broker) over ``store`` (shared if given)."""
    board = BoardController(store or RoomStore())
    scores = ScoreController()
    app = RPCApp(controllers=[board, scores], broker=broker, ping_interval=5.0)
    board.registry = app.stream_registry
    return app, board, scores


class Gauges(RenderBase):
    a: int
    b: int
    c: int


class GaugeController(ControllerBase):
    """A render that can be held open, to pile up changes while a viewer renders."""

    url = "/gauges"

    def __init__(self) -> None:
        self.values = {"a": 0, "b": 0, "c": 0}
        self.renders = 0
        self.held = 0  # renders waiting at the gate
        self.gate: asyncio.Event | None = None

    async def render(self, request: Request) -> Gauges:
        self.renders += 1
        gate = self.gate
        if gate is not None:
            self.held += 1
            await gate.wait()
        return Gauges(**self.values)


class Ledger(RenderBase):
    total: int


class Book:
    """A tiny database: writes are pending until their transaction commits."""

    def __init__(self) -> None:
        self.committed = 0
        self.pending = 0


BOOK = Book()  # the ledger tests' database (reset by each test)


async def transaction() -> AsyncIterator[Book]:
    """Commit on exit, which for a request is after its response was sent."""
    yield BOOK
    await anyio.sleep(0.05)  # a commit takes a moment (I/O); viewers must not render before it
    BOOK.committed += BOOK.pending
    BOOK.pending = 0


class LedgerController(ControllerBase):
    """A sideeffect whose write is committed by a ``yield`` dependency after the answer."""

    url = "/ledger"

    async def render(self) -> Ledger:
        return Ledger(total=BOOK.committed)

    @sideeffect(broadcast=True)
    async def add(self, amount: int, book: Annotated[Book, Depends(transaction)]) -> None:
        book.pending += amount
