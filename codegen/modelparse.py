"""pydantic models to ``ModelWrapper``s: own fields, wire names, model bases.

A model keeps the model classes it inherits from (JSON Schema flattens them
away), so ``class Child(Parent)`` becomes ``interface Child extends Parent``
with only the fields ``Child`` adds or changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from pydantic.fields import ComputedFieldInfo, FieldInfo

from codegen.wrappers import FieldWrapper, ModelWrapper

if TYPE_CHECKING:
    from codegen.typemap import TypeMapper

_FRAMEWORK_MODULES = ("pydantic", "rpc")


class ModelParser:
    """Parses models for a ``TypeMapper`` (which maps the field types)."""

    def __init__(self, mapper: TypeMapper) -> None:
        self.mapper = mapper

    def parse(self, cls: type[BaseModel], name: str) -> ModelWrapper:
        from codegen.typemap import own_doc

        placeholder = ModelWrapper(name, _qualified(cls), (), ())
        self.mapper.models[cls] = placeholder  # lets recursive fields refer to the name
        bases = model_bases(cls)
        inherited = _inherited_fields(bases)
        fields = [
            self._field(cls, field_name, info)
            for field_name, info in cls.model_fields.items()
            if not info.exclude and _signature(info) != inherited.get(field_name)
        ]
        fields += [
            self._computed(cls, field_name, info)
            for field_name, info in cls.model_computed_fields.items()
            if _computed_signature(info) != inherited.get(field_name)
        ]
        wrapper = ModelWrapper(
            name=name,
            python_name=placeholder.python_name,
            bases=tuple(self.mapper.model(base).name for base in bases),
            fields=tuple(fields),
            description=own_doc(cls, BaseModel),
            overrides=tuple(f.name for f in fields if f.python_name in inherited),
        )
        self.mapper.models[cls] = wrapper
        return wrapper

    def _field(self, cls: type, name: str, info: FieldInfo) -> FieldWrapper:
        where = f"{_qualified(cls)}.{name}"
        ftype = self.mapper.map(info.annotation, where)
        # A single-literal field is a union tag: always sent, and TS narrows only on a
        # required tag, so it stays required even with a default.
        is_tag = ftype.kind in ("literal", "enum_member")
        return FieldWrapper(
            name=info.serialization_alias or info.alias or name,
            python_name=name,
            type=ftype,
            required=info.is_required() or is_tag,
            description=_one_line(info.description),
        )

    def _computed(self, cls: type, name: str, info: ComputedFieldInfo) -> FieldWrapper:
        where = f"{_qualified(cls)}.{name}"
        return FieldWrapper(
            name=info.alias or name,
            python_name=name,
            type=self.mapper.map(info.return_type, where),
            required=True,
            description=_one_line(info.description),
        )


def model_bases(cls: type[BaseModel]) -> list[type[BaseModel]]:
    """Direct model bases worth a TS ``extends``: user models, not framework or generic origins."""
    meta = getattr(cls, "__pydantic_generic_metadata__", None) or {}
    if meta.get("origin") is not None:
        return []  # ``Page[Item]`` is emitted flat, with every field concrete
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


def _one_line(text: str | None) -> str | None:
    return " ".join(text.split()) or None if text else None


def _qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"
