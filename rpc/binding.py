"""Argument binding plans, computed once per callable when the app is built.

``plan_call`` sorts every parameter of an action, ``render()`` or dependency by
where its value comes from (body, query, path, ``Depends``, the request, the
``Last-Event-ID`` header) and builds the pydantic models that validate query
and path values. The request path only executes these plans.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import inspect
import types
import typing
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, Field, create_model
from starlette.requests import HTTPConnection

from rpc.dependencies import Dependency, find_dependency
from rpc.errors import DeclarationError, qualified_name
from rpc.specs import ParamSource, ParamSpec
from streams.tracking import is_last_event_id

_SCALARS: tuple[type, ...] = (
    str,
    int,
    float,
    bool,
    uuid.UUID,
    datetime.date,
    datetime.datetime,
    datetime.time,
    decimal.Decimal,
    enum.Enum,
)
_SEQUENCES = (list, set, frozenset, tuple)
# Query and path values are bounded to what JSON round-trips: a 20-digit int
# passes pydantic but orjson cannot encode it back (a 500 wherever the value is
# echoed), and 1e400 or nan become a float JSON has no literal for.
_BOUNDED_INT = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]
_FINITE_FLOAT = Annotated[float, Field(allow_inf_nan=False)]
_FINITE_DECIMAL = Annotated[decimal.Decimal, Field(allow_inf_nan=False)]


@dataclass(frozen=True)
class ParamModel:
    """Validates a group of string-valued parameters (query or path) in one go."""

    model: type[BaseModel]
    names: tuple[str, ...]
    list_names: frozenset[str]


@dataclass(frozen=True)
class CallPlan:
    """How to call one function: its parameters and how to get each value."""

    function: Callable[..., Any]
    qualname: str
    is_async: bool
    is_generator: bool
    params: tuple[ParamSpec, ...]
    dependencies: tuple[tuple[str, Dependency], ...]
    query: ParamModel | None
    path: ParamModel | None
    body: ParamSpec | None


def resolved_hints(function: Any) -> dict[str, Any]:
    """Parameter and return annotations, resolved (``from __future__`` safe)."""
    target = getattr(function, "__func__", function)
    if isinstance(target, type):
        target = target.__init__  # type: ignore[misc]  # a class dependency: its constructor
    elif not (inspect.isfunction(target) or inspect.ismethod(target)):
        target = getattr(target, "__call__", target)  # noqa: B004 - callable objects
    try:
        return typing.get_type_hints(target, include_extras=True)
    except Exception as exc:
        raise DeclarationError(
            f"cannot resolve the annotations of {qualified_name(function)}: {exc}"
        ) from exc


def plan_call(
    function: Callable[..., Any],
    *,
    path_names: frozenset[str] = frozenset(),
    dependency: bool = False,
) -> CallPlan:
    """Classify ``function``'s parameters; raise ``DeclarationError`` on anything unservable.

    A dependency (``dependency=True``) takes no body or query values: its
    parameters are other dependencies, the request, ``LastEventId``, or keep
    their Python defaults.
    """
    name = qualified_name(function)
    hints = resolved_hints(function)
    params: list[ParamSpec] = []
    dependencies: list[tuple[str, Dependency]] = []
    for parameter in inspect.signature(function).parameters.values():
        if parameter.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            raise DeclarationError(f"{name}: *args/**kwargs parameters are not supported")
        annotation = hints.get(parameter.name, Any)
        if dependency and _keeps_default(parameter, annotation):
            continue
        spec = _classify(name, parameter, annotation, path_names)
        if spec.source is ParamSource.DEPENDS:
            marker = find_dependency(annotation, parameter.default)
            assert marker is not None  # _classify said DEPENDS
            dependencies.append((parameter.name, marker))
        params.append(spec)
    body = _single_body(name, params)
    query_specs = [p for p in params if p.source is ParamSource.QUERY]
    if dependency and (query_specs or body):
        names = ", ".join(p.name for p in [*query_specs, *([body] if body else [])])
        raise DeclarationError(
            f"{name}: dependency parameter(s) {names} must be a Depends(...), a Request, "
            f"a LastEventId, or have a default"
        )
    path_specs = [p for p in params if p.source is ParamSource.PATH]
    return CallPlan(
        function=function,
        qualname=name,
        is_async=_is_async(function),
        is_generator=_is_generator(function),
        params=tuple(params),
        dependencies=tuple(dependencies),
        query=_param_model(name, "Query", query_specs),
        path=_param_model(name, "Path", path_specs),
        body=body,
    )


def _classify(
    owner: str, parameter: inspect.Parameter, annotation: Any, path_names: frozenset[str]
) -> ParamSpec:
    required = parameter.default is inspect.Parameter.empty

    def spec(source: ParamSource) -> ParamSpec:
        return ParamSpec(parameter.name, source, annotation, required, parameter.default)

    if find_dependency(annotation, parameter.default) is not None:
        return spec(ParamSource.DEPENDS)
    if is_last_event_id(annotation):
        return spec(ParamSource.LAST_EVENT_ID)
    bare = _strip_annotated(annotation)
    if isinstance(bare, type) and issubclass(bare, HTTPConnection):
        return spec(ParamSource.REQUEST)
    if parameter.name in path_names:
        if not is_simple_type(bare):
            raise DeclarationError(
                f"{owner}: path parameter {parameter.name!r} must be a simple type, got {bare!r}"
            )
        return spec(ParamSource.PATH)
    body_model = _body_model(bare)
    if body_model is not None:
        return ParamSpec(parameter.name, ParamSource.BODY, body_model, required, parameter.default)
    if is_simple_type(bare) or is_simple_list(bare):
        return spec(ParamSource.QUERY)
    raise DeclarationError(
        f"{owner}: parameter {parameter.name!r} has type {annotation!r}, which is neither a "
        f"pydantic model (the JSON body), a simple query type (str, int, float, bool, enum, "
        f"UUID, date/datetime, or a list of those), a Request, nor a Depends(...)"
    )


def _body_model(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model of a body parameter (``Model`` or ``Model | None``), else None."""
    members = _union_members(annotation)
    if members is not None and len(members) == 1:
        annotation = _strip_annotated(members[0])
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _strip_annotated(annotation: Any) -> Any:
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = annotation.__origin__
    return annotation


def _union_members(annotation: Any) -> tuple[Any, ...] | None:
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        return tuple(a for a in typing.get_args(annotation) if a is not type(None))
    return None


def is_simple_type(annotation: Any) -> bool:
    """A scalar a query string can carry (str, int, enum, UUID, date...), or Optional/Literal."""
    annotation = _strip_annotated(annotation)
    members = _union_members(annotation)
    if members is not None:
        return all(is_simple_type(m) for m in members)
    if typing.get_origin(annotation) is typing.Literal:
        return True
    return isinstance(annotation, type) and issubclass(annotation, _SCALARS)


def is_simple_list(annotation: Any) -> bool:
    """``list[X]`` (or set/tuple[X, ...]) of simple types, optionally Optional."""
    annotation = _strip_annotated(annotation)
    members = _union_members(annotation)
    if members is not None:
        return len(members) == 1 and is_simple_list(members[0])
    if typing.get_origin(annotation) not in _SEQUENCES:
        return False
    args = [a for a in typing.get_args(annotation) if a is not Ellipsis]
    return len(args) == 1 and is_simple_type(args[0])


def _keeps_default(parameter: inspect.Parameter, annotation: Any) -> bool:
    if parameter.default is inspect.Parameter.empty:
        return False
    if find_dependency(annotation, parameter.default) is not None or is_last_event_id(annotation):
        return False
    bare = _strip_annotated(annotation)
    return not (isinstance(bare, type) and issubclass(bare, HTTPConnection))


def _single_body(owner: str, params: list[ParamSpec]) -> ParamSpec | None:
    bodies = [p for p in params if p.source is ParamSource.BODY]
    if not bodies:
        return None
    if len(bodies) > 1:
        names = ", ".join(p.name for p in bodies)
        raise DeclarationError(
            f"{owner}: only one pydantic-model parameter (the JSON body) is allowed; got {names}"
        )
    return bodies[0]


def _param_model(owner: str, kind: str, specs: list[ParamSpec]) -> ParamModel | None:
    if not specs:
        return None
    fields: dict[str, Any] = {}
    for index, spec in enumerate(specs):
        default = ... if spec.required else spec.default
        fields[f"p{index}"] = (bounded_value_type(spec.annotation), Field(default, alias=spec.name))
    model = create_model(f"{owner.rsplit('.', 1)[-1]}{kind}", __module__=__name__, **fields)
    return ParamModel(
        model=model,
        names=tuple(s.name for s in specs),
        list_names=frozenset(s.name for s in specs if is_simple_list(s.annotation)),
    )


def bounded_value_type(annotation: Any) -> Any:
    """``annotation`` with every bare int, float and Decimal inside it bounded (see above).

    What query and path values are validated against, so also what they are
    described with (``rpc.description``).
    """
    if annotation is int:
        return _BOUNDED_INT
    if annotation is float:
        return _FINITE_FLOAT
    if annotation is decimal.Decimal:
        return _FINITE_DECIMAL
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return typing.Annotated[
            (bounded_value_type(annotation.__origin__), *annotation.__metadata__)
        ]
    if origin in _SEQUENCES:
        return origin[
            tuple(
                a if a is Ellipsis else bounded_value_type(a) for a in typing.get_args(annotation)
            )
        ]
    if origin is typing.Union or origin is types.UnionType:
        return typing.Union[tuple(bounded_value_type(a) for a in typing.get_args(annotation))]  # noqa: UP007
    return annotation


def _code_targets(function: Any) -> tuple[Any, ...]:
    """What runs when ``function`` is called: itself, or a callable object's ``__call__``."""
    target = getattr(function, "__func__", function)
    if isinstance(target, type):
        return (target,)
    return (target, getattr(target, "__call__", None))  # noqa: B004 - callable objects


def _is_async(function: Any) -> bool:
    return any(
        inspect.iscoroutinefunction(t) or inspect.isasyncgenfunction(t)
        for t in _code_targets(function)
    )


def _is_generator(function: Any) -> bool:
    return any(
        inspect.isgeneratorfunction(t) or inspect.isasyncgenfunction(t)
        for t in _code_targets(function)
    )
