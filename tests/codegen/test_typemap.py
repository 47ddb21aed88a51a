"""Every row of the type-mapping table: Python annotation -> TypeScript text."""

from __future__ import annotations

import collections.abc as abc
import datetime
import decimal
import enum
import pathlib
import uuid
from typing import Annotated, Any, Generic, Literal, NewType, Optional, TypeVar, Union

import pytest
from pydantic import BaseModel, Field, RootModel

from codegen.interfaces import TypeWriter
from rpc.description.annotations import TypeMapper
from rpcmeta import DescriptionError

T = TypeVar("T")
UserId = NewType("UserId", int)


class Shade(enum.Enum):
    LIGHT = "l"
    DARK = "d"


class Leaf(BaseModel):
    x: int


class Box(BaseModel, Generic[T]):
    content: T


class Tags(RootModel[list[str]]):
    pass


def ts(annotation: Any) -> str:
    mapper = TypeMapper()
    return TypeWriter().write(mapper.map(annotation, "test"))


@pytest.mark.parametrize(
    ("annotation", "expected"),
    [
        (str, "string"),
        (int, "number"),
        (float, "number"),
        (bool, "boolean"),
        (None, "null"),
        (type(None), "null"),
        (datetime.datetime, "string"),
        (datetime.date, "string"),
        (datetime.time, "string"),
        (datetime.timedelta, "string"),
        (uuid.UUID, "string"),
        (bytes, "string"),
        (pathlib.Path, "string"),
        # pydantic serialises Decimal as a JSON string in mode="json" (what the server sends)
        (decimal.Decimal, "string"),
        (Any, "unknown"),
        (list[int], "number[]"),
        (abc.Sequence[str], "string[]"),
        (tuple[int, ...], "number[]"),
        (set[int], "number[]"),
        (frozenset[str], "string[]"),
        (tuple[int, str], "[number, string]"),
        (dict[str, int], "Record<string, number>"),
        (abc.Mapping[str, list[Leaf]], "Record<string, Leaf[]>"),
        (Optional[int], "number | null"),  # noqa: UP045 (the row is about Optional)
        (int | None, "number | null"),
        (None | int, "number | null"),
        (Union[int, str], "number | string"),  # noqa: UP007 (the row is about Union)
        (int | str | Leaf, "number | string | Leaf"),
        (list[int | str], "(number | string)[]"),
        (Literal["a", "b"], '"a" | "b"'),
        (Literal[1, True, None], "1 | true | null"),
        (Literal[Shade.DARK], "typeof Shade.DARK"),
        (Shade, "Shade"),
        (Leaf, "Leaf"),
        (Box[Leaf], "BoxLeaf"),
        (Box[int], "BoxInt"),
        (Tags, "string[]"),
        (Annotated[int, Field(gt=0)], "number"),
        (UserId, "number"),
        (list[Annotated[str, Field(min_length=1)]], "string[]"),
    ],
)
def test_typemap_table_row(annotation: Any, expected: str) -> None:
    assert ts(annotation) == expected


def test_typemap_registers_models_and_enums_once() -> None:
    mapper = TypeMapper()
    mapper.map(list[Leaf], "a")
    mapper.map(dict[str, Leaf | Shade], "b")
    assert [m.name for m in mapper.models.values()] == ["Leaf"]
    enum_facts = mapper.enums[Shade]
    assert [(m.name, m.value) for m in enum_facts.members] == [("LIGHT", "l"), ("DARK", "d")]


def test_typemap_unknown_class_falls_back_to_pydantic_schema() -> None:
    class Celsius(float):
        pass

    assert ts(Celsius) == "number"


def test_typemap_unmappable_type_names_the_place() -> None:
    class Opaque:
        pass

    with pytest.raises(DescriptionError, match=r"Model\.field: cannot map type"):
        TypeMapper().map(Opaque, "Model.field")


def test_typemap_enum_with_non_scalar_value_is_an_error() -> None:
    class Weird(enum.Enum):
        PAIR = (1, 2)

    with pytest.raises(DescriptionError, match=r"Weird\.PAIR: enum value"):
        ts(Weird)


def test_typemap_two_classes_with_one_name_collide() -> None:
    first = type("Leaf", (BaseModel,), {"__annotations__": {"y": int}, "__module__": "other"})
    mapper = TypeMapper()
    mapper.map(Leaf, "a")
    with pytest.raises(DescriptionError, match=r"test_typemap\.Leaf and other\.Leaf"):
        mapper.map(first, "b")
