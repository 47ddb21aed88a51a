"""Plain-data facts about an app, as the parser finds them.

Everything the TypeScript builders need lives in these frozen dataclasses, with
no reference to live Python objects, so a parse can be dumped to JSON in one
process (``dump_app``) and generated from in another (``load_app``); the
output is a pure function of this data.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass
from typing import Any, Literal

JsonScalar = str | int | float | bool | None
TypeKind = Literal[
    "primitive", "model", "enum", "enum_member", "literal", "array", "tuple", "record", "union"
]


@dataclass(frozen=True)
class TypeRef:
    """A TypeScript type expression.

    ``primitive``: ``name`` is string/number/boolean/null/unknown; ``model`` and
    ``enum``: ``name`` is the TS name; ``enum_member``: ``name`` is the enum,
    ``value`` the member name; ``literal``: ``value``; ``array``/``record``: one
    arg (item/value type); ``tuple`` and ``union``: the args.
    """

    kind: TypeKind
    name: str = ""
    args: tuple[TypeRef, ...] = ()
    value: JsonScalar = None


@dataclass(frozen=True)
class FieldWrapper:
    """One property: ``name`` is the wire (alias) name."""

    name: str
    python_name: str
    type: TypeRef
    required: bool
    description: str | None = None


@dataclass(frozen=True)
class ModelWrapper:
    """A pydantic model: its own fields only; inherited ones come from ``bases``.

    ``overrides`` are wire names of own fields that replace an inherited field
    with another type (the TS interface omits them from its bases).
    """

    name: str
    python_name: str
    bases: tuple[str, ...]
    fields: tuple[FieldWrapper, ...]
    description: str | None = None
    overrides: tuple[str, ...] = ()


@dataclass(frozen=True)
class EnumMember:
    name: str
    value: str | int | float


@dataclass(frozen=True)
class EnumWrapper:
    """A Python ``Enum``, keeping member names and values."""

    name: str
    python_name: str
    members: tuple[EnumMember, ...]
    description: str | None = None


@dataclass(frozen=True)
class ErrorWrapper:
    """An ``APIException`` subclass: status, default detail, body fields (detail first)."""

    name: str
    python_name: str
    status: int
    detail: JsonScalar
    fields: tuple[FieldWrapper, ...]


@dataclass(frozen=True)
class ParamWrapper:
    """A query parameter of an action."""

    name: str
    type: TypeRef
    required: bool


@dataclass(frozen=True)
class ActionWrapper:
    """One action. ``reload`` holds wire names of the render fields sent back."""

    name: str
    python_name: str
    kind: Literal["sideeffect", "passthrough"]
    stream: bool
    params: tuple[ParamWrapper, ...]
    body: TypeRef | None
    body_required: bool
    returns: TypeRef
    reload: tuple[str, ...] | None
    errors: tuple[str, ...]
    description: str | None = None


@dataclass(frozen=True)
class ControllerWrapper:
    """A controller class: served ones have a url and render model; bases may not."""

    id: str
    python_name: str
    bases: tuple[str, ...]
    served: bool
    url: str | None
    render_model: str | None
    actions: tuple[ActionWrapper, ...]
    description: str | None = None


@dataclass(frozen=True)
class AppWrapper:
    """Everything codegen knows about one app. Controllers: served ones in app order, then bases."""

    prefix: str
    controllers: tuple[ControllerWrapper, ...]
    models: tuple[ModelWrapper, ...]
    enums: tuple[EnumWrapper, ...]
    errors: tuple[ErrorWrapper, ...]


def dump_app(app: AppWrapper) -> str:
    """The wrappers as JSON text."""
    return json.dumps(dataclasses.asdict(app), indent=1, sort_keys=True)


def load_app(text: str) -> AppWrapper:
    """Rebuild the wrappers from ``dump_app`` output."""
    loaded: AppWrapper = _load(AppWrapper, json.loads(text))
    return loaded


def _load(annotation: Any, raw: Any) -> Any:
    origin = typing.get_origin(annotation)
    if dataclasses.is_dataclass(annotation) and isinstance(annotation, type):
        hints = typing.get_type_hints(annotation)
        fields = dataclasses.fields(annotation)
        return annotation(**{f.name: _load(hints[f.name], raw[f.name]) for f in fields})
    if origin is tuple:
        item = typing.get_args(annotation)[0]
        return tuple(_load(item, value) for value in raw)
    if origin is types.UnionType or origin is typing.Union:
        if raw is None:
            return None
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
        classes = [a for a in options if dataclasses.is_dataclass(a)]
        if isinstance(raw, dict) and classes:
            return _load(classes[0], raw)
        if isinstance(raw, list):
            tuples = [a for a in options if typing.get_origin(a) is tuple]
            return _load(tuples[0], raw)
        return raw
    return raw
