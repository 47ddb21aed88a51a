"""Building the served form of each controller when ``RPCApp`` is constructed.

Everything that needs reflection happens here, once: actions are discovered
through the class hierarchy, signatures become call plans, return types become
pydantic adapters, and every declaration mistake raises with the qualified
names involved.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import inspect
import logging
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, PydanticUserError, TypeAdapter

from rpc.actions import ActionOptions, action_options
from rpc.binding import CallPlan, plan_call, resolved_hints
from rpc.controller import ControllerBase, FieldRef
from rpc.encoding import dump_json
from rpc.errors import DeclarationError, qualified_name
from rpc.page import PagePattern
from rpc.resolution import DependencyResolver
from rpc.specs import ActionKind, ActionSpec, ControllerSpec, RenderSpec
from streams.settings import StreamSettings

logger = logging.getLogger("belay.rpc")

_STREAM_ORIGINS = (collections.abc.AsyncIterator, collections.abc.AsyncGenerator)
_SYNC_STREAM_ORIGINS = (
    collections.abc.Iterator,
    collections.abc.Generator,
    collections.abc.Iterable,
)
RESERVED_ACTION_NAMES = frozenset({"render", "live"})


@dataclass(frozen=True)
class RenderRuntime:
    plan: CallPlan
    model: type[BaseModel]
    adapter: TypeAdapter[Any]
    pattern: PagePattern


@dataclass(frozen=True, slots=True)
class StreamRuntime:
    """What serving one kind of stream needs: how an item becomes JSON, and its timing.

    Built once per streaming action when the app is built and shared by all its
    open streams, so an open stream holds a reference, not a copy.
    """

    encode: Callable[[object], bytes]
    settings: StreamSettings
    finish_on_disconnect: bool = False  # a streaming sideeffect that outlives its client


@dataclass(frozen=True)
class ActionRuntime:
    """One action as served. ``stream`` is set for an action that answers SSE."""

    spec: ActionSpec
    plan: CallPlan
    result_adapter: TypeAdapter[Any] | None
    reload_include: frozenset[str] | None
    sliced_render: CallPlan | None
    stream: StreamRuntime | None


@dataclass(frozen=True)
class ControllerRuntime:
    spec: ControllerSpec
    render: RenderRuntime
    actions: dict[str, ActionRuntime]


def build_controller(
    controller: ControllerBase,
    *,
    resolver: DependencyResolver,
    stream_settings: StreamSettings,
) -> ControllerRuntime:
    """Validate one controller instance and precompute everything its requests need."""
    cls = type(controller)
    controller_id = cls.__name__
    pattern = PagePattern(
        controller_id,
        getattr(controller, "url", None),
        declared_by=qualified_name(cls),
    )
    render = _build_render(controller, pattern, resolver)
    actions: dict[str, ActionRuntime] = {}
    for name, owner, options in _discover_actions(cls):
        actions[name] = _build_action(
            controller, name, owner, options, render, resolver, stream_settings
        )
    spec = ControllerSpec(
        id=controller_id,
        controller_class=cls,
        url=pattern.url,
        render=RenderSpec(params=render.plan.params, model=render.model),
        actions=tuple(a.spec for a in actions.values()),
        bases=tuple(
            base.__name__
            for base in cls.__mro__[1:]
            if issubclass(base, ControllerBase) and base is not ControllerBase
        ),
    )
    return ControllerRuntime(spec=spec, render=render, actions=actions)


def _build_render(
    controller: ControllerBase, pattern: PagePattern, resolver: DependencyResolver
) -> RenderRuntime:
    cls = type(controller)
    render = getattr(controller, "render", None)
    if render is None or not callable(render):
        raise DeclarationError(f"{qualified_name(cls)} has no render() method")
    if inspect.isasyncgenfunction(render) or inspect.isgeneratorfunction(render):
        raise DeclarationError(f"{qualified_name(render)} must return a model, not yield")
    model = resolved_hints(render).get("return")
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise DeclarationError(
            f"{qualified_name(render)} must be annotated to return a pydantic model "
            f"(the page state), got {model!r}"
        )
    plan = plan_call(render, path_names=pattern.names)
    if plan.body is not None:
        raise DeclarationError(
            f"{qualified_name(render)}: render() cannot take a request body "
            f"(parameter {plan.body.name!r} is a pydantic model)"
        )
    _plan_dependencies(plan, resolver)
    return RenderRuntime(plan=plan, model=model, adapter=TypeAdapter(model), pattern=pattern)


def _discover_actions(cls: type) -> list[tuple[str, type, ActionOptions]]:
    """Actions in definition order, base classes first; overrides take the subclass's."""
    found: list[tuple[str, type, ActionOptions]] = []
    seen: set[str] = set()
    for klass in reversed(cls.__mro__):
        for name in klass.__dict__:
            if name in seen:
                continue
            attribute = inspect.getattr_static(cls, name)
            options = action_options(getattr(attribute, "__func__", attribute))
            if options is None:
                continue
            seen.add(name)
            owner = next(k for k in cls.__mro__ if name in k.__dict__)
            found.append((name, owner, options))
    return found


def _build_action(
    controller: ControllerBase,
    name: str,
    owner: type,
    options: ActionOptions,
    render: RenderRuntime,
    resolver: DependencyResolver,
    stream_settings: StreamSettings,
) -> ActionRuntime:
    method = getattr(controller, name)
    qualname = qualified_name(method)
    if name in RESERVED_ACTION_NAMES:
        raise DeclarationError(f"{qualname}: an action cannot be named {name!r}")
    plan = plan_call(method)
    _plan_dependencies(plan, resolver)
    return_annotation = resolved_hints(method).get("return", Any)
    stream_item = _stream_item(qualname, method, return_annotation, options)
    reload_names = _reload_fields(qualname, options, render.model)
    reload_include = frozenset(reload_names) if reload_names is not None else None
    spec = ActionSpec(
        name=name,
        kind=options.kind,
        function=method,
        owner=owner,
        params=plan.params,
        body=plan.body,
        return_annotation=return_annotation,
        stream_item=stream_item,
        reload_fields=reload_names,
        exception_models=options.exception_models,
        on_disconnect=_on_disconnect(options, stream_item),
        broadcast=options.broadcast,
    )
    return ActionRuntime(
        spec=spec,
        plan=plan,
        result_adapter=_result_adapter(return_annotation, stream_item),
        reload_include=reload_include,
        sliced_render=_sliced_render(controller, name, options, render, reload_names, resolver),
        stream=_stream_runtime(qualname, options, stream_settings, stream_item),
    )


def _sliced_render(
    controller: ControllerBase,
    action: str,
    options: ActionOptions,
    render: RenderRuntime,
    reload_names: tuple[str, ...] | None,
    resolver: DependencyResolver,
) -> CallPlan | None:
    """The plan of render() sliced to the reload fields, or None for a full render.

    Sliced once, here; when slicing cannot be proven safe the reason is logged
    once and the sideeffect runs the full render().
    """
    if not options.experimental_render_reload or reload_names is None:
        return None
    # Imported here: slicing is experimental and the largest part of rpc, so an
    # app that never asks for it never loads it.
    from rpc.slicing import slice_render

    cls = type(controller)
    result = slice_render(inspect.getattr_static(cls, "render"), reload_names, model=render.model)
    if result.function is None:
        logger.warning(
            "%s.%s: experimental_render_reload falls back to a full render: %s",
            cls.__name__,
            action,
            result.reason,
        )
        return None
    plan = plan_call(types.MethodType(result.function, controller), path_names=render.pattern.names)
    _plan_dependencies(plan, resolver)
    return plan


def _item_encoder(qualname: str, item_type: Any) -> Callable[[object], bytes]:
    """One stream item to JSON bytes, dumped as the non-stream path dumps results (by alias)."""
    try:
        dump = TypeAdapter(item_type).dump_python
    except PydanticUserError as exc:  # includes PydanticSchemaGenerationError
        reason = str(exc).split(". ", 1)[0]  # pydantic's first sentence; the rest is advice
        raise DeclarationError(
            f"{qualname}: pydantic cannot serialise the stream item type "
            f"{qualified_name(item_type)} (use a pydantic model or a JSON type): {reason}"
        ) from exc

    def encode(item: object) -> bytes:
        return dump_json(dump(item, mode="json", by_alias=True, warnings="error"))

    return encode


def _stream_item(qualname: str, method: Any, annotation: Any, options: ActionOptions) -> Any:
    """The item type of a streaming action, None for an action that answers JSON.

    Passthroughs stream from an ``async def`` generator; a sideeffect may also
    be a plain generator (``-> Iterator[Item]``), which is run in a worker thread.
    """
    origin = typing.get_origin(annotation)
    function = getattr(method, "__func__", method)
    is_async_gen = inspect.isasyncgenfunction(function)
    is_sync_gen = inspect.isgeneratorfunction(function)
    if is_sync_gen and options.kind is ActionKind.SIDEEFFECT:
        if origin not in _SYNC_STREAM_ORIGINS:
            raise DeclarationError(
                f"{qualname} is a generator; annotate it `-> Iterator[Model]` (a sync generator "
                f"runs in a worker thread) or make it an `async def` generator"
            )
        return _item_type(qualname, annotation, "Iterator")
    if is_async_gen and origin not in _STREAM_ORIGINS:
        raise DeclarationError(
            f"{qualname} is an async generator; annotate it `-> AsyncIterator[Model]`"
        )
    if origin not in _STREAM_ORIGINS:
        return None
    if not is_async_gen:
        raise DeclarationError(
            f"{qualname} is annotated AsyncIterator but is not an `async def` generator"
        )
    return _item_type(qualname, annotation, "AsyncIterator")


def _item_type(qualname: str, annotation: Any, kind: str) -> Any:
    args = typing.get_args(annotation)
    if not args:
        raise DeclarationError(f"{qualname}: {kind} needs an item type, e.g. [Model]")
    return args[0]


def _on_disconnect(options: ActionOptions, stream_item: Any) -> str | None:
    if stream_item is None or options.kind is not ActionKind.SIDEEFFECT:
        return None
    return options.on_disconnect or "finish"


def _reload_fields(
    qualname: str, options: ActionOptions, model: type[Any]
) -> tuple[str, ...] | None:
    """The reload field names in declared order (codegen output must not depend on hashing)."""
    if options.reload is None:
        return None
    fields = model.model_fields
    names: list[str] = []
    for item in options.reload:
        if isinstance(item, FieldRef):
            if not issubclass(model, item.model):
                raise DeclarationError(
                    f"{qualname}: reload field {item} is not a field of the render model "
                    f"{qualified_name(model)}"
                )
            names.append(item.name)
        else:
            names.append(item)
    unknown = [n for n in names if n not in fields]
    if unknown:
        raise DeclarationError(
            f"{qualname}: reload names {unknown} are not fields of the render model "
            f"{qualified_name(model)} (fields: {sorted(fields)})"
        )
    return tuple(dict.fromkeys(names))


def _result_adapter(annotation: Any, stream_item: Any) -> TypeAdapter[Any] | None:
    if stream_item is not None or annotation in (None, type(None)):
        return None
    return TypeAdapter(annotation)


def _stream_runtime(
    qualname: str, options: ActionOptions, defaults: StreamSettings, stream_item: Any
) -> StreamRuntime | None:
    """The stream of an ``AsyncIterator[Model]`` action: the app's settings, with its overrides."""
    if stream_item is None:
        if options.on_disconnect is not None:
            raise DeclarationError(
                f"{qualname}: on_disconnect= applies to streaming sideeffects only "
                f"(generators); a plain sideeffect always runs to its end"
            )
        return None
    overrides: dict[str, Any] = {}
    if options.ping_interval is not None:
        overrides["ping_interval"] = options.ping_interval
    if options.send_timeout is not None:
        overrides["send_timeout"] = options.send_timeout
    settings = dataclasses.replace(defaults, **overrides) if overrides else defaults
    finish = options.kind is ActionKind.SIDEEFFECT and options.on_disconnect != "cancel"
    return StreamRuntime(
        encode=_item_encoder(qualname, stream_item),
        settings=settings,
        finish_on_disconnect=finish,
    )


def _plan_dependencies(plan: CallPlan, resolver: DependencyResolver) -> None:
    for _, dependency in plan.dependencies:
        resolver.plan(dependency.call)
