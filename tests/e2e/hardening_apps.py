"""A controller with every kind of parameter, served by the hardening tests and bench.

Render, a passthrough, a sideeffect and streams take int, float, list, UUID,
date, enum and path values, so that odd query, path and header values reach
every binding path. The fuzz requests (``tests/support/fuzz.py``) are drawn for these
routes; ``bench/bench_hardening.py`` serves this same app.
"""

from __future__ import annotations

import datetime
import enum
import uuid
from collections.abc import AsyncIterator

import anyio
from pydantic import BaseModel

from rpc import APIException, ControllerBase, RenderBase, RPCApp, passthrough, sideeffect
from streams import LastEventId, tracked


class Mood(enum.Enum):
    CALM = "calm"
    LOUD = "loud"


class Note(BaseModel):
    text: str


class Step(BaseModel):
    n: int


class TooFewSteps(APIException):
    status_code = 409
    detail = "steps must not be negative"


class BoardState(RenderBase):
    board: str
    page: int
    zoom: float
    notes: int


class BoardController(ControllerBase):
    url = "/boards/{board}"

    def __init__(self) -> None:
        self.notes: dict[str, list[str]] = {}

    async def render(self, board: str, page: int = 1, zoom: float = 1.0) -> BoardState:
        return BoardState(board=board, page=page, zoom=zoom, notes=len(self.notes.get(board, [])))

    @passthrough
    async def lookup(
        self,
        count: int = 0,
        ratio: float = 0.0,
        tags: list[int] | None = None,
        ident: uuid.UUID | None = None,
        day: datetime.date | None = None,
        mood: Mood = Mood.CALM,
        flag: bool = False,
    ) -> dict[str, str]:
        return {"count": str(count), "ratio": str(ratio), "tags": str(tags), "mood": mood.value}

    @sideeffect
    async def add(self, note: Note, board: str) -> None:
        self.notes.setdefault(board, []).append(note.text)

    @passthrough
    async def steps(self, steps: int = 3) -> AsyncIterator[Step]:
        if steps < 0:
            raise TooFewSteps  # before the first item: a plain JSON error answer
        yield Step(n=steps)  # echoes the value, as a progress counter would
        for n in range(min(steps, 2)):
            yield Step(n=n)

    @passthrough
    async def resume(self, last: LastEventId = None) -> AsyncIterator[Step]:
        start = int(last) + 1 if last is not None and last.isdigit() and len(last) < 9 else 0
        for n in range(start, start + 2):
            yield tracked(n, Step(n=n))

    @passthrough
    async def quiet(self) -> AsyncIterator[Step]:
        """Says nothing for a while (the stream opens on its open_timeout), then ends."""
        await anyio.sleep(0.7)
        yield Step(n=0)

    @passthrough
    async def explode(self, text: str) -> None:
        """Fails with a message made of request data (what a log must not trust)."""
        raise ValueError(f"cannot use {text}")

    @passthrough
    async def leaky(self, text: str) -> AsyncIterator[Step]:
        """Its cleanup fails with request data in the message, after the stream stopped."""
        try:
            yield Step(n=1)
            await anyio.sleep_forever()
        finally:
            raise RuntimeError(f"cleanup failed for {text}")


def build_hardening_app(**options: object) -> RPCApp:
    return RPCApp(controllers=[BoardController()], **options)  # type: ignore[arg-type]
