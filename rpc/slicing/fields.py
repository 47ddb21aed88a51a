"""Validating and serialising only the reload fields, exactly as the full model would.

A sub-model is built from the render model's own ``FieldInfo`` objects and
config, restricted to the reload fields. For a model with no model-level
validators, serializers or computed fields, and no field function that reads
``ValidationInfo``/``SerializationInfo``, each field is validated and dumped
independently of the others, so the sub-model's
``model_dump(mode="json", by_alias=True)`` equals the full model's dump
filtered by ``include=`` field for field.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, PydanticSchemaGenerationError, PydanticUserError, create_model
from pydantic.fields import FieldInfo

from rpc.slicing.source import SliceRefusal

_OVERRIDES = ("__init__", "model_dump", "model_post_init", "__get_pydantic_core_schema__")
_NESTED_SCHEMAS = frozenset({"model", "definition-ref", "dataclass", "typed-dict"})


@dataclass(frozen=True)
class FieldFinisher:
    """Turns the kept keyword values of ``return Model(...)`` into reload JSON."""

    keywords: frozenset[str]
    submodel: type[BaseModel]

    def __call__(self, values: Mapping[str, Any]) -> dict[str, Any]:
        kept = {k: v for k, v in values.items() if k in self.keywords}
        return self.submodel(**kept).model_dump(mode="json", by_alias=True)


def build_finisher(
    model: type[Any], reload_fields: Iterable[str], keywords: Iterable[str]
) -> FieldFinisher:
    """Check the model allows field-by-field equivalence and build the finisher."""
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise SliceRefusal("the render model is not a pydantic model")
    fields = tuple(reload_fields)
    _check_model(model, fields)
    keyword_fields = _map_keywords(model, keywords)
    kept = frozenset(k for k, f in keyword_fields.items() if f in fields)
    definitions: dict[str, Any] = {
        name: (model.model_fields[name].annotation, copy.copy(model.model_fields[name]))
        for name in fields
    }
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the model's own warnings were shown already
            submodel = create_model(
                f"{model.__name__}Reload",
                __config__=model.model_config,
                __module__=model.__module__,
                **definitions,
            )
    except (PydanticUserError, PydanticSchemaGenerationError, NameError, TypeError) as error:
        first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
        reason = f"cannot rebuild the reload fields of {model.__name__}: {first_line}"
        raise SliceRefusal(reason) from None
    return FieldFinisher(keywords=kept, submodel=submodel)


def _check_model(model: type[BaseModel], fields: tuple[str, ...]) -> None:
    unknown = [f for f in fields if f not in model.model_fields]
    if unknown:
        raise SliceRefusal(f"reload fields {unknown} are not fields of {model.__name__}")
    if not model.__pydantic_complete__ or getattr(model, "__pydantic_root_model__", False):
        raise SliceRefusal(f"{model.__name__} is not a complete, plain pydantic model")
    decorators = model.__pydantic_decorators__
    for kind in ("validators", "field_validators", "root_validators", "model_validators",
                 "field_serializers", "model_serializers", "computed_fields"):  # fmt: skip
        if getattr(decorators, kind):
            label = kind.replace("_", " ").rstrip("s")
            raise SliceRefusal(f"{model.__name__} has a {label}, which may read other fields")
    for cls in model.__mro__[: model.__mro__.index(BaseModel)]:
        overridden = [name for name in _OVERRIDES if name in vars(cls)]
        if overridden:
            raise SliceRefusal(f"{cls.__name__} overrides {overridden[0]}")
    if model.__pydantic_post_init__ is not None:
        raise SliceRefusal(f"{model.__name__} has model_post_init")
    for name in fields:
        info = model.model_fields[name]
        if info.default_factory is not None and info.default_factory_takes_validated_data:
            raise SliceRefusal(
                f"{model.__name__}.{name} has a default factory reading other fields"
            )
        if _reads_info(_field_schema(model, name)):
            raise SliceRefusal(
                f"{model.__name__}.{name} has a validator or serializer that reads other fields"
            )


def _map_keywords(model: type[BaseModel], keywords: Iterable[str]) -> dict[str, str]:
    """Which field each ``return Model(keyword=...)`` keyword fills."""
    config = model.model_config
    by_name = bool(config.get("populate_by_name") or config.get("validate_by_name"))
    by_alias = config.get("validate_by_alias", True)
    mapping: dict[str, str] = {}
    for keyword in keywords:
        field = _field_for(model.model_fields, keyword, by_name=by_name, by_alias=by_alias)
        if field is None:
            if config.get("extra") in ("allow", "forbid"):
                raise SliceRefusal(f"{keyword}= is not a field of {model.__name__}")
            continue
        mapping[keyword] = field
    return mapping


def _field_for(
    fields: dict[str, FieldInfo], keyword: str, *, by_name: bool, by_alias: bool
) -> str | None:
    for name, info in fields.items():
        alias = info.validation_alias if info.validation_alias is not None else info.alias
        if alias is not None and not isinstance(alias, str):
            raise SliceRefusal(f"field {name} has an AliasPath/AliasChoices alias")
        if by_alias and alias == keyword:
            return name
        if keyword == name and (alias is None or by_name):
            return name
    return None


def _field_schema(model: type[BaseModel], name: str) -> object:
    schema: Any = model.__pydantic_core_schema__
    stack: list[Any] = [schema]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            fields = item.get("fields", {}) if item.get("type") == "model-fields" else {}
            if name in fields and _owns(schema, item, model):
                return fields[name]
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    raise SliceRefusal(f"cannot find the schema of {model.__name__}.{name}")


def _owns(root: Any, fields_schema: dict[str, Any], model: type[BaseModel]) -> bool:
    stack: list[Any] = [root]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if item.get("type") == "model" and item.get("schema") is fields_schema:
                return bool(item.get("cls") is model)
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return False


def _reads_info(schema: object) -> bool:
    """A function validator/serializer taking an info argument, outside nested models."""
    stack: list[object] = [schema]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if item.get("type") in _NESTED_SCHEMAS:
                continue
            if item.get("type") == "with-info" or item.get("info_arg") is True:
                return True
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return False
