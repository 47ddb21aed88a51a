"""render() shapes in a module with postponed (string) annotations."""

from __future__ import annotations

from pydantic import BaseModel, Field

from tests.rpc.slicing_fixtures import Dep, expensive, get_db


class FuturePage(BaseModel):
    model_config = {"populate_by_name": True}

    title: str
    size: int = Field(0, alias="pageSize")
    heavy: int = 0


def render_future(self, room: str, step: int = 1, db: str = Dep(get_db)) -> FuturePage:
    title = f"{room}:{step}"
    heavy = expensive(step)
    size = len(db) + step
    return FuturePage(title=title, size=size, heavy=heavy)


async def render_future_async(self, room: str, *, limit: int = 2) -> FuturePage:
    rows: list[int] = [n for n in range(limit)]
    heavy = expensive(limit)
    return FuturePage(title=room, size=len(rows), heavy=heavy)
