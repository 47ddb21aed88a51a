"""pydantic models to ``ModelFacts``: own fields, wire names, model bases.

A model keeps the model classes it inherits from (JSON Schema flattens them
away), so ``class Child(Parent)`` can become ``interface Child extends Parent``
with only the fields ``Child`` adds or changes. Field types are mapped by the
caller's ``FieldTypes`` (``TypeMapper``), which also registers each model once.
"""

from __future__ import annotations

from typing import Any, Protocol

from pydantic import BaseModel
from pydantic.fields import ComputedFieldInfo, FieldInfo

from rpcmeta import FieldFacts, ModelFacts, TypeRef

_FRAMEWORK_MODULES = ("pydantic", "rpc")


class FieldTypes(Protocol):
    """What model parsing needs from the type mapper."""

    models: dict[type, ModelFacts]

    def map(self, annotation: Any, where: str) -> TypeRef: ...

    def model(self, cls: type[BaseModel]) -> ModelFacts: ...

    def json_schema(self, annotation: Any, where: str) -> dict[str, Any]: ...


def describe_model(types: FieldTypes, cls: type[BaseModel], name: str) -> ModelFacts:
    """The facts of ``cls`` under ``name``, registered in ``types.models``."""
    placeholder = ModelFacts(name, qualified_name(cls), (), ())
    types.models[cls] = placeholder  # lets recursive fields refer to the name
    bases = model_bases(cls)
    inherited = _inherited_fields(bases)
    fields = [
        _field(types, placeholder.python_name, field_name, info)
        for field_name, info in cls.model_fields.items()
        if not info.exclude and _signature(info) != inherited.get(field_name)
    ]
    fields += [
        _computed(types, placeholder.python_name, field_name, info)
        for field_name, info in cls.model_computed_fields.items()
        if _computed_signature(info) != inherited.get(field_name)
    ]
    facts = ModelFacts(
        name=name,
        python_name=placeholder.python_name,
        bases=tuple(types.model(base).name for base in bases),
        fields=tuple(fields),
        description=own_doc(cls, BaseModel),
        overrides=tuple(f.name for f in fields if f.python_name in inherited),
        json_schema=types.json_schema(cls, placeholder.python_name),
    )
    types.models[cls] = facts
    return facts


def _field(types: FieldTypes, owner: str, name: str, info: FieldInfo) -> FieldFacts:
    ftype = types.map(info.annotation, f"{owner}.{name}")
    # A single-literal field is a union tag: always sent, and TS narrows only on a
    # required tag, so it stays required even with a default.
    is_tag = ftype.kind in ("literal", "enum_member")
    return FieldFacts(
        name=info.serialization_alias or info.alias or name,
        python_name=name,
        type=ftype,
        required=info.is_required() or is_tag,
        description=one_line(info.description),
    )


def _computed(types: FieldTypes, owner: str, name: str, info: ComputedFieldInfo) -> FieldFacts:
    return FieldFacts(
        name=info.alias or name,
        python_name=name,
        type=types.map(info.return_type, f"{owner}.{name}"),
        required=True,
        description=one_line(info.description),
    )


def model_bases(cls: type[BaseModel]) -> list[type[BaseModel]]:
    """Direct model bases worth an ``extends``: user models, not framework or generic origins."""
    meta = getattr(cls, "__pydantic_generic_metadata__", None) or {}
    if meta.get("origin") is not None:
        return []  # ``Page[Item]`` is described flat, with every field concrete
    return [
        base
        for base in cls.__bases__
        if isinstance(base, type)
        and issubclass(base, BaseModel)
        and base.__module__.split(".")[0] not in _FRAMEWORK_MODULES
        and not (getattr(base, "__pydantic_generic_metadata__", None) or {}).get("parameters")
    ]


def _signature(info: FieldInfo) -> tuple[Any, ...]:
    return (info.annotation, info.serialization_alias or info.alias, info.is_required())


def _computed_signature(info: ComputedFieldInfo) -> tuple[Any, ...]:
    return (info.return_type, info.alias, True)


def _inherited_fields(bases: list[type[BaseModel]]) -> dict[str, tuple[Any, ...]]:
    inherited: dict[str, tuple[Any, ...]] = {}
    for base in reversed(bases):
        for name, info in base.model_fields.items():
            if not info.exclude:
                inherited[name] = _signature(info)
        for name, computed in base.model_computed_fields.items():
            inherited[name] = _computed_signature(computed)
    return inherited


def qualified_name(obj: Any) -> str:
    """``module.QualName`` of a class or function, as error messages and facts name it."""
    return f"{obj.__module__}.{obj.__qualname__}"


def own_doc(cls: type, base: type) -> str | None:
    """The class's own docstring (not inherited, not the base's boilerplate), on one line."""
    doc = cls.__dict__.get("__doc__")
    if not isinstance(doc, str) or doc == base.__doc__:
        return None
    return one_line(doc)


def one_line(text: str | None) -> str | None:
    """Whitespace runs collapsed to one space; None for no text."""
    return " ".join(text.split()) or None if text else None
