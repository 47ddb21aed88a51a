"""Controllers for the experimental_render_reload integration tests (real source files)."""

from __future__ import annotations

from rpc import ControllerBase, Depends, RenderBase, sideeffect

CALLS = {"expensive": 0, "unused_dependency": 0, "used_dependency": 0}


def expensive(n: int) -> int:
    CALLS["expensive"] += 1
    return sum(range(n))


def used_dependency() -> int:
    CALLS["used_dependency"] += 1
    return 100


def unused_dependency() -> int:
    CALLS["unused_dependency"] += 1
    return 1


class Board(RenderBase):
    label: str
    score: int
    total: int


class BoardController(ControllerBase):
    url = "/boards/{board}"

    def __init__(self) -> None:
        self.scores: dict[str, int] = {}

    async def render(
        self,
        board: str,
        bonus: int = 0,
        base: int = Depends(used_dependency),
        noise: int = Depends(unused_dependency),
    ) -> Board:
        score = self.scores.get(board, 0) + bonus + base
        label = f"{board}:{score}"
        total = expensive(50_000) + noise
        return Board(label=label, score=score, total=total)

    @sideeffect(reload=(Board.label, Board.score), experimental_render_reload=True)
    async def add_sliced(self, board: str, points: int) -> None:
        self.scores[board] = self.scores.get(board, 0) + points

    @sideeffect(reload=(Board.label, Board.score))
    async def add_full(self, board: str, points: int) -> None:
        self.scores[board] = self.scores.get(board, 0) + points


class Flag(RenderBase):
    on: bool
    cost: int


class EarlyReturnController(ControllerBase):
    url = "/flags"

    def __init__(self) -> None:
        self.on = False

    def render(self) -> Flag:
        cost = expensive(1_000)
        if self.on:
            return Flag(on=True, cost=cost)
        return Flag(on=False, cost=cost)

    @sideeffect(reload=(Flag.on,), experimental_render_reload=True)
    def toggle(self) -> None:
        self.on = not self.on
