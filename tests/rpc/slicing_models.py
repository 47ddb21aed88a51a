"""A render model exercising pydantic features that must serialise identically."""

from __future__ import annotations

import datetime
import enum
import uuid
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer
from pydantic.alias_generators import to_camel

from rpc import RenderBase
from tests.rpc.slicing_fixtures import expensive


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Item(BaseModel):
    sku: str
    qty: int = 1


Upper = Annotated[str, AfterValidator(str.upper)]
Cents = Annotated[float, PlainSerializer(lambda v: round(v * 100), return_type=int)]


class RichPage(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    when: datetime.datetime
    color: Color
    ident: uuid.UUID
    items: list[Item] = []
    maybe: int | None = None
    shout: Upper = "x"
    price: Cents = 0.0
    secret: str = Field("hidden", exclude=True)
    renamed: str = Field("r", serialization_alias="other_name")
    kind: Literal["a", "b"] = "a"
    heavy: int = 0


def render_rich(self, n: int = 2) -> RichPage:
    items = [Item(sku=f"s{i}", qty=i) for i in range(n)]
    heavy = expensive(n)
    return RichPage(
        when=datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),
        color="blue",
        ident=uuid.UUID(int=n),
        items=items,
        shout="quiet",
        price=1.25,
        secret="s",
        renamed="value",
        kind="b",
        heavy=heavy,
    )


class CounterState(RenderBase):
    count: int
    room: str


def render_counter(self, room: str, step: int = 1) -> CounterState:
    total = expensive(step)
    return CounterState(count=len(room) * step, room=room + str(total))
