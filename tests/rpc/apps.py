"""Controllers the rpc tests serve (a real module, with postponed annotations).

``from __future__ import annotations`` is on purpose: every annotation here is a
string until Belay resolves it with ``get_type_hints``.
"""

from __future__ import annotations

import datetime
import enum
import threading
import time
import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field
from starlette.requests import Request

from rpc import APIException, ControllerBase, Depends, RenderBase, RPCApp, passthrough, sideeffect

GATE_TIMEOUT = 60.0  # seconds: only a broken test leaves the gate shut this long


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Item(BaseModel):
    name: str
    qty: int = Field(ge=0)


class Increment(BaseModel):
    count: int


class RoomFull(APIException):
    status_code = 409
    detail = "room is full"
    capacity: int = 10


class RoomState(RenderBase):
    room: str
    step: int
    count: int
    viewer: str
    last_user: str = Field(default="", serialization_alias="lastUser")


class HomeState(RenderBase):
    title: str
    page: int


def viewer(request: Request) -> str:
    """Who is looking, from a header or a cookie (render's Depends sees the real request)."""
    return request.headers.get("x-user") or request.cookies.get("user") or "anonymous"


class BindingController(ControllerBase):
    """Query, body, Request and default binding."""

    url = "/"

    async def render(self, page: int = 1) -> HomeState:
        return HomeState(title="home", page=page)

    @passthrough
    async def create(self, item: Item, note: str = "none") -> Item:
        return Item(name=f"{item.name}:{note}", qty=item.qty)

    @passthrough
    async def scalars(
        self,
        i: int,
        f: float,
        b: bool,
        color: Color,
        level: Level,
        uid: uuid.UUID,
        day: datetime.date,
        moment: datetime.datetime,
        mode: Literal["fast", "slow"],
        maybe: int | None = None,
        limited: Annotated[int, Field(ge=1)] = 1,
    ) -> dict[str, Any]:
        values = {
            "i": i,
            "f": f,
            "b": b,
            "color": color,
            "level": level,
            "uid": uid,
            "day": day,
            "moment": moment,
            "mode": mode,
            "maybe": maybe,
            "limited": limited,
        }
        return {name: [type(v).__name__, str(v)] for name, v in values.items()}

    @passthrough
    async def tags(self, tag: list[str], n: list[int] | None = None) -> dict[str, Any]:
        return {"tag": tag, "n": n}

    @passthrough
    async def defaults(self, a: int = 5, s: str = "x") -> list[Any]:
        return [a, s]

    @passthrough
    async def nobody(self) -> str:
        return "ok"

    @passthrough
    async def whoami(self, request: Request) -> dict[str, str]:
        return {"method": request.method, "user": request.headers.get("x-user", "")}

    @passthrough
    async def nothing(self) -> None:
        return None

    @passthrough
    async def items(self, count: int) -> list[Item]:
        return [Item(name=f"i{n}", qty=n) for n in range(count)]

    @passthrough
    async def mapping(self) -> dict[str, Item]:
        return {"a": Item(name="a", qty=1)}

    @passthrough
    async def number(self) -> float:
        return 1.5

    @passthrough
    async def wrong(self) -> int:
        return "not an int"  # type: ignore[return-value]

    @passthrough
    async def wrong_model(self) -> Item:
        return {"name": "dict, not Item"}  # type: ignore[return-value]


class RoomController(ControllerBase):
    """The DESIGN example: path params, page location, sideeffects and reloads."""

    url = "/rooms/{room}"

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.last: dict[str, str] = {}
        self.threads: list[int] = []
        self.entered = threading.Event()  # set once ``gated`` holds its worker thread
        self.gate = threading.Event()  # the test opens it to let ``gated`` return

    async def render(self, room: str, step: int = 1, who: str = Depends(viewer)) -> RoomState:
        return RoomState(
            room=room,
            step=step,
            count=self.counts.get(room, 0),
            viewer=who,
            last_user=self.last.get(room, ""),
        )

    @sideeffect
    async def increment(self, payload: Increment, room: str, who: str = Depends(viewer)) -> None:
        self.counts[room] = self.counts.get(room, 0) + payload.count
        self.last[room] = who

    @sideeffect(reload=(RoomState.count,))
    def bump(self, room: str) -> int:
        self.threads.append(threading.get_ident())
        self.counts[room] = self.counts.get(room, 0) + 1
        return self.counts[room]

    @sideeffect(reload=("count", "last_user"))
    async def named(self, room: str) -> None:
        self.last[room] = "named"

    @sideeffect(reload=())
    async def quiet(self, room: str) -> None:
        """Mutates without pushing any render field back."""
        self.counts[room] = self.counts.get(room, 0) + 100

    @passthrough(exception_models=[RoomFull])
    async def peek(self, room: str) -> RoomState:
        if room == "full":
            raise RoomFull(capacity=12)
        return RoomState(room=room, step=0, count=self.counts.get(room, 0), viewer="")

    @passthrough
    def slow(self, seconds: float) -> int:
        self.threads.append(threading.get_ident())
        time.sleep(seconds)
        return threading.get_ident()

    @passthrough
    def gated(self) -> int:
        """Hold a worker thread until the test opens ``gate``: the loop must stay free."""
        self.entered.set()
        if not self.gate.wait(GATE_TIMEOUT):
            raise TimeoutError("the test never opened the gate")
        return threading.get_ident()

    @passthrough
    async def fast(self) -> int:
        """Answers at once, from the event loop's thread."""
        return threading.get_ident()


class BaseCounter(ControllerBase):
    """Actions declared once, served under every subclass."""

    url = "/counter"

    async def render(self) -> HomeState:
        return HomeState(title=type(self).__name__, page=0)

    @passthrough
    async def whoami(self) -> str:
        return type(self).__name__


class LeftCounter(BaseCounter):
    pass


class RightCounter(BaseCounter):
    @passthrough
    async def extra(self) -> int:
        return 2


def build_app(**options: Any) -> RPCApp:
    """A fresh app (fresh controller state) for one test."""
    return RPCApp([BindingController(), RoomController(), LeftCounter(), RightCounter()], **options)


app = build_app()


def cycle_a(value: Annotated[int, Depends(cycle_b)]) -> int:
    """Half of a dependency cycle (only resolvable lazily, hence postponed annotations)."""
    return value


def cycle_b(value: Annotated[int, Depends(cycle_a)]) -> int:
    return value
