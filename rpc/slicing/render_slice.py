"""``slice_render``: build, once, a render() that computes only the reload fields."""

from __future__ import annotations

import ast
import types
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from rpc.slicing.compile import FINISH_NAME, build_function
from rpc.slicing.effects import expression_effects
from rpc.slicing.facts import MISSING, NameFacts, gather_facts
from rpc.slicing.fields import build_finisher
from rpc.slicing.slicer import Slicer
from rpc.slicing.source import RenderSource, SliceRefusal, load_render_source


@dataclass(frozen=True)
class RenderSlice:
    """The outcome of slicing: a function, or ``None`` and a one-line reason.

    ``function`` takes ``self`` and only the parameters its kept statements use
    (see its ``__signature__``); it has render()'s sync/async kind and returns
    ``full.model_dump(mode="json", by_alias=True, include=reload_fields)``.
    """

    function: Callable[..., Any] | None
    reason: str | None = None
    kept_params: tuple[str, ...] = ()


def slice_render(
    render: Callable[..., Any], reload_fields: Iterable[Any], *, model: type[Any]
) -> RenderSlice:
    """Slice ``render`` (the plain function from the controller class) for ``reload_fields``.

    ``reload_fields`` are python field names of ``model`` (objects with a
    ``.name``, such as ``Model.field`` references, are read by that name).

    Never raises for an unsupported render(): it returns ``RenderSlice(None, reason)``
    and the caller falls back to a full render.
    """
    try:
        fields = tuple(f if isinstance(f, str) else getattr(f, "name", f) for f in reload_fields)
        function = _slice(render, fields, model)
    except SliceRefusal as refusal:
        return RenderSlice(function=None, reason=refusal.reason)
    params = tuple(function.__signature__.parameters)  # type: ignore[attr-defined]
    return RenderSlice(function=function, reason=None, kept_params=params)


def _slice(
    render: Callable[..., Any], fields: tuple[str, ...], model: type[Any]
) -> types.FunctionType:
    source = load_render_source(render)
    assert isinstance(render, types.FunctionType)  # checked by load_render_source
    node = source.node
    if any(isinstance(n, ast.Name) and n.id == FINISH_NAME for n in ast.walk(node)):
        raise SliceRefusal(f"render() uses the reserved name {FINISH_NAME}")
    _check_source_matches(render, source)
    facts = gather_facts(node, render)
    call = _model_call(node, facts, model)
    finisher = build_finisher(model, fields, [k.arg for k in call.keywords if k.arg])
    kept_uses = expression_effects(
        [k.value for k in call.keywords if k.arg in finisher.keywords], facts
    ).uses
    included = [
        k for k in call.keywords
        if k.arg in finisher.keywords or _may_affect(k.value, kept_uses, facts)
    ]  # fmt: skip
    live = expression_effects([k.value for k in included], facts).uses
    body, live_in = Slicer(facts).block(node.body[:-1], live)
    ret = _finishing_return(node.body[-1], included)
    kept = frozenset(live_in) & frozenset(facts.params)
    return build_function(
        render, node, [*body, ret], kept_params=kept, filename=source.filename, finisher=finisher
    )


def _check_source_matches(render: types.FunctionType, source: RenderSource) -> None:
    everything = frozenset(a.arg for a in ast.walk(source.node.args) if isinstance(a, ast.arg))
    rebuilt = build_function(
        render, source.node, source.node.body, kept_params=everything, filename=source.filename
    )
    if _code_facts(rebuilt.__code__) != _code_facts(render.__code__):
        raise SliceRefusal("the source of render() does not match its code (edited since import?)")


def _code_facts(code: types.CodeType) -> tuple[object, ...]:
    # Not co_code: the compiler picks LOAD_ATTR/LOAD_METHOD by module imports.
    consts = tuple(c for c in code.co_consts if not isinstance(c, types.CodeType))
    nested = tuple(_code_facts(c) for c in code.co_consts if isinstance(c, types.CodeType))
    return (code.co_names, code.co_varnames, code.co_freevars, code.co_cellvars, consts, nested)


def _model_call(
    node: ast.FunctionDef | ast.AsyncFunctionDef, facts: NameFacts, model: type[Any]
) -> ast.Call:
    ret = node.body[-1]
    call = ret.value if isinstance(ret, ast.Return) else None
    if not isinstance(call, ast.Call) or call.args or any(k.arg is None for k in call.keywords):
        raise SliceRefusal("render() does not return `Model(field=..., ...)` with keyword fields")
    if _resolve(call.func, facts) is not model:
        raise SliceRefusal(f"render() does not return a {model.__name__}(...) by that name")
    return call


def _resolve(func: ast.expr, facts: NameFacts) -> object:
    chain: list[str] = []
    while isinstance(func, ast.Attribute):
        chain.append(func.attr)
        func = func.value
    if not isinstance(func, ast.Name) or func.id in facts.local_names:
        return MISSING
    value = facts.lookup(func.id)
    for attr in reversed(chain):
        if not isinstance(value, types.ModuleType | type):
            return MISSING
        value = getattr(value, attr, MISSING)
    return value


def _may_affect(value: ast.expr, kept_uses: frozenset[str], facts: NameFacts) -> bool:
    """A dropped field expression that may change what the kept ones read."""
    effects = expression_effects([value], facts)
    return effects.barrier or bool(effects.writes & kept_uses)


def _finishing_return(ret: ast.stmt, keywords: list[ast.keyword]) -> ast.Return:
    values = ast.Dict(
        keys=[ast.copy_location(ast.Constant(value=k.arg), k) for k in keywords],
        values=[k.value for k in keywords],
    )
    call = ast.Call(func=ast.Name(id=FINISH_NAME, ctx=ast.Load()), args=[values], keywords=[])
    for helper in (values, call, call.func):
        ast.copy_location(helper, ret)
    return ast.copy_location(ast.Return(value=call), ret)
