"""Executing call plans for one request: values, dependencies, the call itself."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import anyio.to_thread
import orjson
from pydantic import ValidationError
from starlette.requests import Request

from rpc.binding import CallPlan, ParamModel, plan_call
from rpc.dependencies import Dependency
from rpc.errors import (
    DeclarationError,
    HTTPError,
    RequestValidationError,
    qualified_name,
    validation_errors,
)
from rpc.specs import ParamSource
from streams.tracking import read_last_event_id


class RequestCleanup:
    """One request's ``yield``-dependency exits, run after its response (or its stream).

    The ``AsyncExitStack`` is created by the first exit pushed: most requests
    enter no ``yield`` dependency, and an open stream keeps this object for as
    long as it runs (an empty exit stack costs ~840 B).
    """

    __slots__ = ("_stack",)

    def __init__(self) -> None:
        self._stack: contextlib.AsyncExitStack | None = None

    @property
    def pending(self) -> bool:
        """True if an exit was pushed and has not run yet."""
        return self._stack is not None

    @property
    def stack(self) -> contextlib.AsyncExitStack:
        """The exit stack to push onto (created on first use)."""
        if self._stack is None:
            self._stack = contextlib.AsyncExitStack()
        return self._stack

    async def close(self, exc: BaseException | None) -> None:
        """Run the exits, newest first, seeing ``exc`` (the request's error) if not None."""
        stack, self._stack = self._stack, None
        if stack is None:
            return
        if exc is None:
            await stack.aclose()
        else:
            await stack.__aexit__(type(exc), exc, exc.__traceback__)


@dataclass
class RequestScope:
    """Everything the plans of one request draw values from.

    A sideeffect's re-render gets a copy with the page's query and path values;
    the cleanup and the dependency cache stay shared, so a dependency used by the
    action and by ``render()`` runs once and is cleaned up once.
    """

    request: Request
    cleanup: RequestCleanup
    resolver: DependencyResolver
    body: bytes = b""
    query: Mapping[str, list[str]] = field(default_factory=dict)
    path: Mapping[str, str] = field(default_factory=dict)
    cache: dict[Callable[..., Any], Any] = field(default_factory=dict)

    def for_page(self, query: Mapping[str, list[str]], path: Mapping[str, str]) -> RequestScope:
        return replace(self, query=query, path=path, body=b"")


class DependencyResolver:
    """Plans and calls dependencies, honouring ``dependency_overrides``."""

    def __init__(self, overrides: Mapping[Callable[..., Any], Callable[..., Any]]) -> None:
        self.overrides = overrides
        self._plans: dict[Callable[..., Any], CallPlan] = {}

    def plan(self, call: Callable[..., Any], *, _chain: tuple[Any, ...] = ()) -> CallPlan:
        """The plan for a dependency and, recursively, its sub-dependencies (cycle-checked)."""
        if call in _chain:
            cycle = " -> ".join(qualified_name(c) for c in (*_chain, call))
            raise DeclarationError(f"dependency cycle: {cycle}")
        plan = self._plans.get(call)
        if plan is None:
            plan = plan_call(call, dependency=True)
            self._plans[call] = plan
        for _, sub in plan.dependencies:
            self.plan(sub.call, _chain=(*_chain, call))
        return plan

    async def solve(self, dependency: Dependency, scope: RequestScope) -> Any:
        call = self.overrides.get(dependency.call, dependency.call)
        if dependency.use_cache and call in scope.cache:
            return scope.cache[call]
        plan = self._plans.get(call) or self.plan(call)
        kwargs = await bind_arguments(plan, scope)
        value = await _enter_dependency(plan, kwargs, scope.cleanup)
        if dependency.use_cache:
            scope.cache[call] = value
        return value


async def _enter_dependency(plan: CallPlan, kwargs: dict[str, Any], cleanup: RequestCleanup) -> Any:
    if plan.is_generator and plan.is_async:
        return await cleanup.stack.enter_async_context(
            contextlib.asynccontextmanager(plan.function)(**kwargs)
        )
    if plan.is_generator:
        manager = contextlib.contextmanager(plan.function)(**kwargs)
        value = await anyio.to_thread.run_sync(manager.__enter__)

        async def exit_in_thread(*exc_info: Any) -> bool | None:
            return await anyio.to_thread.run_sync(manager.__exit__, *exc_info)

        cleanup.stack.push_async_exit(exit_in_thread)
        return value
    return await call_plan(plan, kwargs)


async def call_plan(plan: CallPlan, kwargs: dict[str, Any]) -> Any:
    """Call the function: async directly, sync in a worker thread (never on the loop).

    For an async generator function this returns the generator, not started.
    """
    if plan.is_async:
        if plan.is_generator:
            return plan.function(**kwargs)
        return await plan.function(**kwargs)
    return await anyio.to_thread.run_sync(functools.partial(plan.function, **kwargs))


async def bind_arguments(
    plan: CallPlan, scope: RequestScope, values: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Validate values (unless ``values`` were validated already), then resolve dependencies."""
    if values is None:
        kwargs = validate_page_values(plan, scope.query, scope.path, body=scope.body)
    else:
        kwargs = dict(values)
    for spec in plan.params:
        if spec.source is ParamSource.REQUEST:
            kwargs[spec.name] = scope.request
        elif spec.source is ParamSource.LAST_EVENT_ID:
            kwargs[spec.name] = read_last_event_id(scope.request.scope["headers"])
    for name, dependency in plan.dependencies:
        kwargs[name] = await scope.resolver.solve(dependency, scope)
    return kwargs


def validate_values(plan: CallPlan, scope: RequestScope) -> dict[str, Any]:
    """Query, path and body values, validated; all validation errors in one 422."""
    return validate_page_values(plan, scope.query, scope.path, body=scope.body)


def validate_page_values(
    plan: CallPlan,
    query: Mapping[str, list[str]],
    path: Mapping[str, str],
    *,
    body: bytes = b"",
) -> dict[str, Any]:
    """``validate_values`` without a request: a page's query and path values (plus a body)."""
    errors: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {}
    if plan.query is not None:
        _validate_group(plan.query, query, "query", kwargs, errors)
    if plan.path is not None:
        path_values = {k: [v] for k, v in path.items()}
        _validate_group(plan.path, path_values, "path", kwargs, errors)
    if plan.body is not None:
        _validate_body(plan, body, kwargs, errors)
    if errors:
        raise RequestValidationError(errors)
    return kwargs


def _validate_group(
    group: ParamModel,
    values: Mapping[str, list[str]],
    location: str,
    kwargs: dict[str, Any],
    errors: list[dict[str, Any]],
) -> None:
    raw: dict[str, Any] = {}
    for name in group.names:
        found = values.get(name)
        if found:
            raw[name] = found if name in group.list_names else found[-1]
    try:
        validated = group.model.model_validate(raw)
    except ValidationError as exc:
        errors.extend(validation_errors(exc, location))
        return
    for index, name in enumerate(group.names):
        kwargs[name] = getattr(validated, f"p{index}")


def _validate_body(
    plan: CallPlan, body: bytes, kwargs: dict[str, Any], errors: list[dict[str, Any]]
) -> None:
    spec = plan.body
    assert spec is not None
    stripped = body.strip()
    if not stripped or (stripped == b"null" and not spec.required):
        if spec.required:
            errors.append({"loc": ["body"], "msg": "Field required", "type": "missing"})
        else:
            kwargs[spec.name] = spec.default
        return
    try:
        kwargs[spec.name] = spec.annotation.model_validate_json(body)
    except ValidationError as exc:
        for err in exc.errors(include_url=False, include_input=False, include_context=False):
            if err["type"] == "json_invalid":
                raise HTTPError(400, f"malformed JSON body: {err['msg']}") from None
        errors.extend(validation_errors(exc, "body"))


def check_no_body(body: bytes) -> None:
    """An action without a body model accepts an empty body or ``{}``, nothing else."""
    if not body.strip():
        return
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise HTTPError(400, f"malformed JSON body: {exc}") from None
    if parsed != {}:
        raise RequestValidationError(
            [
                {
                    "loc": ["body"],
                    "msg": "this action takes no request body; send nothing or {}",
                    "type": "extra_forbidden",
                }
            ]
        )
