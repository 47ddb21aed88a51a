"""Building the served form of each controller when ``RPCApp`` is constructed.

Everything that needs reflection happens here, once: actions are discovered
through the class hierarchy, signatures become call plans, return types become
pydantic adapters, and every declaration mistake raises with the qualified
names involved.
"""

from __future__ import annotations

import inspect
import logging
import types
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, TypeAdapter

from rpc.actions import ActionOptions, action_options
from rpc.binding import CallPlan, plan_call, resolved_hints
from rpc.controller import ControllerBase, FieldRef
from rpc.errors import DeclarationError, qualified_name
from rpc.page import PagePattern
from rpc.resolution import DependencyResolver
from rpc.specs import ActionSpec, ControllerSpec, RenderSpec
from rpc.streaming import StreamRuntime, on_disconnect_policy, stream_item_type, stream_runtime
from streams.settings import StreamSettings

logger = logging.getLogger("belay.rpc")

RESERVED_ACTION_NAMES = frozenset({"render", "live"})


@dataclass(frozen=True)
class RenderRuntime:
    plan: CallPlan
    model: type[BaseModel]
    adapter: TypeAdapter[Any]
    pattern: PagePattern


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
    stream_item = stream_item_type(qualname, method, return_annotation, options)
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
        on_disconnect=on_disconnect_policy(options, stream_item),
        broadcast=options.broadcast,
    )
    return ActionRuntime(
        spec=spec,
        plan=plan,
        result_adapter=_result_adapter(return_annotation, stream_item),
        reload_include=reload_include,
        sliced_render=_sliced_render(controller, name, options, render, reload_names, resolver),
        stream=stream_runtime(qualname, options, stream_settings, stream_item),
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


def _plan_dependencies(plan: CallPlan, resolver: DependencyResolver) -> None:
    for _, dependency in plan.dependencies:
        resolver.plan(dependency.call)
