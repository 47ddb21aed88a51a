"""Models and enums to TS declarations: inheritance, aliases, optionality, generics, recursion."""

from __future__ import annotations

import enum
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, computed_field
from pydantic.alias_generators import to_camel

from codegen.interfaces import enum_declaration, model_declaration
from rpc.description.annotations import TypeMapper

T = TypeVar("T")


def declare(model: type[BaseModel]) -> dict[str, str]:
    mapper = TypeMapper()
    mapper.map(model, "test")
    out = {m.name: model_declaration(m).text for m in mapper.models.values()}
    out |= {e.name: enum_declaration(e).text for e in mapper.enums.values()}
    return out


class Base(BaseModel):
    id: int
    note: str = ""


class Child(Base):
    """A child."""

    extra: bool
    note: str | None = None  # type: ignore[assignment]  # a changed type: re-declared


def test_models_child_extends_parent_with_only_its_own_fields() -> None:
    out = declare(Child)
    assert out["Child"] == (
        "/** A child. */\n"
        'export interface Child extends Omit<Base, "note"> {\n'
        "  note?: string | null;\n"
        "  extra: boolean;\n"
        "}"
    )
    assert out["Base"] == "export interface Base {\n  id: number;\n  note?: string;\n}"


def test_models_optional_without_default_is_required_nullable() -> None:
    class Opt(BaseModel):
        a: int | None
        b: int | None = None
        c: list[int] = Field(default_factory=list)

    assert declare(Opt)["Opt"] == (
        "export interface Opt {\n  a: number | null;\n  b?: number | null;\n  c?: number[];\n}"
    )


def test_models_field_names_are_wire_aliases() -> None:
    class Camel(BaseModel):
        model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)
        first_name: str
        odd: int = Field(alias="odd-key")
        out_only: int = Field(serialization_alias="outOnly")

    text = declare(Camel)["Camel"]
    assert "  firstName: string;" in text
    assert '  "odd-key": number;' in text
    assert "  outOnly: number;" in text


def test_models_tag_literal_with_default_stays_required() -> None:
    class Tagged(BaseModel):
        kind: Literal["a"] = "a"
        value: int = 0

    assert declare(Tagged)["Tagged"] == (
        'export interface Tagged {\n  kind: "a";\n  value?: number;\n}'
    )


def test_models_recursive_model_refers_to_itself() -> None:
    class Node(BaseModel):
        children: list[Node] = Field(default_factory=list)
        parent: Node | None = None

    Node.model_rebuild()
    assert declare(Node)["Node"] == (
        "export interface Node {\n  children?: Node[];\n  parent?: Node | null;\n}"
    )


def test_models_generic_model_gets_a_concrete_name_and_concrete_fields() -> None:
    class Page(BaseModel, Generic[T]):
        items: list[T]
        total: int

    class Row(BaseModel):
        x: int

    out = declare(Page[Row])
    assert out["PageRow"] == "export interface PageRow {\n  items: Row[];\n  total: number;\n}"
    assert "Row" in out


def test_models_computed_field_is_a_required_property_and_exclude_is_skipped() -> None:
    class Person(BaseModel):
        first: str
        secret: str = Field(default="", exclude=True)

        @computed_field  # type: ignore[prop-decorator]
        @property
        def shout(self) -> str:
            return self.first.upper()

    assert declare(Person)["Person"] == (
        "export interface Person {\n  first: string;\n  shout: string;\n}"
    )


def test_models_description_becomes_jsdoc() -> None:
    class Doc(BaseModel):
        value: int = Field(description="The  value,\n  in units.")

    assert "  /** The value, in units. */\n  value: number;" in declare(Doc)["Doc"]


def test_enums_keep_python_member_names_and_values() -> None:
    class Mode(enum.Enum):
        FAST_LANE = "fast"
        SLOW = 2

    class Holder(BaseModel):
        mode: Mode

    assert declare(Holder)["Mode"] == (
        'export const Mode = {\n  FAST_LANE: "fast",\n  SLOW: 2,\n} as const;\n\n'
        "export type Mode = (typeof Mode)[keyof typeof Mode];"
    )


def test_models_empty_model_is_an_empty_interface() -> None:
    class Empty(BaseModel):
        pass

    assert declare(Empty)["Empty"] == "export interface Empty {}"
