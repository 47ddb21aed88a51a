"""Slices of render() give exactly the full render's reload fields, or fall back."""

from __future__ import annotations

import asyncio
import copy
import inspect
import traceback
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel

from rpc import Depends
from rpc.slicing import RenderSlice, slice_render
from rpc.slicing.touches import immutable_parameters
from tests.rpc import slicing_fixtures as fx
from tests.rpc import slicing_fixtures_future as ffx


@dataclass(frozen=True)
class Shape:
    render: Callable[..., Any]
    fields: tuple[str, ...]
    params: tuple[str, ...]
    kwargs: dict[str, Any]
    model: type[BaseModel] = fx.Page
    drops_work: bool = True
    ctx: Callable[[], Any] = fx.Ctx


closure_render, set_prefix = fx.make_closure_render()

SHAPES: dict[str, Shape] = {
    "seed": Shape(fx.render_seed, ("value_a",), ("self",), {"query_id": 1}),
    "loop": Shape(fx.render_loop, ("value_a", "items"), ("self", "n"), {"n": 4}),
    "branches": Shape(
        fx.render_branches, ("value_a",), ("self", "flag", "level"), {"flag": False, "level": 3}
    ),
    "while": Shape(fx.render_while, ("value_a",), ("self", "n"), {}),
    "with": Shape(fx.render_with, ("value_a",), ("self", "n"), {"n": 5}),
    "try_except_finally": Shape(fx.render_try, ("value_a",), ("self", "text"), {"text": "zz"}),
    "try_finally": Shape(fx.render_try_finally_only, ("value_a",), ("self", "text"), {}),
    "nested_function": Shape(
        fx.render_nested_function, ("value_a",), ("self", "base"), {"base": 4}
    ),
    "comprehensions": Shape(
        fx.render_comprehensions, ("value_a", "total"), ("self", "n"), {"n": 6}
    ),
    "async_awaits": Shape(fx.render_async, ("value_a",), ("self", "n"), {"n": 2}),
    "unpacking": Shape(fx.render_unpacking, ("value_a",), ("self", "pair"), {"pair": "p,q"}),
    "walrus": Shape(fx.render_walrus, ("value_a",), ("self", "words"), {"words": "a b c d"}),
    "match": Shape(fx.render_match, ("value_a",), ("self", "command"), {"command": "go west"}),
    "subscript_store": Shape(
        fx.render_subscript_store, ("value_a",), ("self", "key"), {"key": "z"}
    ),
    "method_mutation": Shape(fx.render_method_mutation, ("value_a",), ("self", "n"), {"n": 4}),
    "module_globals": Shape(fx.render_globals, ("value_a",), ("self",), {}),
    "field_alias": Shape(fx.render_alias, ("label",), ("self", "text"), {"text": "abc"}),
    "default_params": Shape(fx.render_defaults, ("value_a",), ("self", "n", "k"), {"n": 2, "k": 3}),
    "depends_defaults": Shape(
        fx.render_depends, ("value_a",), ("self", "db"), {"db": "pg", "cache": "c"}
    ),
    "self_reads": Shape(fx.render_self_reads, ("value_a",), ("self", "suffix"), {"suffix": "?"}),
    "self_barrier": Shape(fx.render_self_barrier, ("value_a",), ("self",), {}, drops_work=False),
    "self_attribute_store": Shape(fx.render_self_attribute_store, ("value_a",), ("self",), {}),
    "return_effects": Shape(
        fx.render_return_effects, ("value_a",), ("self",), {}, drops_work=False
    ),
    "lambda": Shape(fx.render_lambda, ("value_a",), ("self", "n"), {"n": 5}),
    "for_else_break": Shape(fx.render_for_else, ("value_a",), ("self", "n"), {"n": 4}),
    "nested_loops_continue": Shape(fx.render_nested_loops, ("value_a",), ("self", "n"), {"n": 4}),
    "imports": Shape(fx.render_imports, ("value_a",), ("self", "n"), {"n": 25}),
    "kill_then_reuse": Shape(
        fx.render_kill_then_reuse, ("value_a", "value_b"), ("self", "n"), {"n": 5}
    ),
    "raise_kept": Shape(fx.render_assert_raise, ("value_a",), ("self", "n"), {"n": 3}),
    "alias_of_container": Shape(fx.render_dict_loop_aliases, ("value_a",), ("self", "n"), {"n": 2}),
    "closure": Shape(closure_render, ("value_a",), ("self", "n"), {"n": 4}),
    "zero_arg_super": Shape(
        fx.Controller.render, ("value_a",), ("self", "n"), {"n": 3}, ctx=fx.Controller
    ),
    "local_alias": Shape(fx.render_local_alias, ("value_a",), ("self",), {}),
    "escape_to_self": Shape(fx.render_escape_to_self, ("value_a",), ("self",), {}),
    "nested_container": Shape(fx.render_nested_container, ("value_a",), ("self",), {}),
    "handler_sees_error": Shape(
        fx.render_handler_sees_dropped_error, ("value_a",), ("self", "text"), {}, drops_work=False
    ),
    "suppressed_error": Shape(
        fx.render_suppressed_error, ("value_a",), ("self", "d"), {}, drops_work=False
    ),
    "closure_reads_later": Shape(fx.render_closure_reads_later, ("value_a",), ("self",), {}),
    "loop_carried": Shape(fx.render_loop_carried, ("value_a",), ("self", "n"), {"n": 3}),
    "return_walrus": Shape(fx.render_return_walrus, ("value_a",), ("self",), {}, drops_work=False),
    "argument_mutation": Shape(
        fx.render_argument_mutation, ("value_a",), ("self",), {}, drops_work=False
    ),
    "shared_loop": Shape(fx.render_shared_loop, ("value_a",), ("self", "n"), {}, drops_work=False),
    "iterator_consumed": Shape(fx.render_iterator_consumed, ("value_a",), ("self", "n"), {}),
    "unpacking_consumes": Shape(
        fx.render_unpacking_consumes, ("value_a",), ("self",), {}, drops_work=False
    ),
    "membership_consumes": Shape(
        fx.render_membership_consumes, ("value_a",), ("self",), {}, drops_work=False
    ),
    "star_display_consumes": Shape(
        fx.render_star_display_consumes, ("value_a",), ("self",), {}, drops_work=False
    ),
    "comprehension_inner_iter": Shape(
        fx.render_comprehension_inner_iter, ("value_a",), ("self",), {}, drops_work=False
    ),
    "closure_changes_local": Shape(
        fx.render_closure_changes_local, ("value_a",), ("self",), {}, drops_work=False
    ),
    "default_argument_alias": Shape(
        fx.render_default_argument_alias, ("value_a",), ("self",), {}, drops_work=False
    ),
    "item_passed_to_call": Shape(
        fx.render_item_passed_to_call, ("value_a",), ("self",), {}, drops_work=False
    ),
    "param_mutated": Shape(
        fx.render_param_mutated,
        ("value_a",),
        ("self", "queue"),
        {"queue": [4, 2, 9]},
        drops_work=False,
    ),
    "handed_inside_display": Shape(
        fx.render_handed_inside_display, ("value_a",), ("self",), {}, drops_work=False
    ),
    "default_argument_in_display": Shape(
        fx.render_default_argument_in_display, ("value_a",), ("self",), {}, drops_work=False
    ),
    "future_annotations": Shape(
        ffx.render_future,
        ("title", "size"),
        ("self", "room", "step", "db"),
        {"room": "lobby", "step": 2, "db": "pg"},
        model=ffx.FuturePage,
    ),
    "future_async_kwonly": Shape(
        ffx.render_future_async,
        ("size",),
        ("self", "limit"),
        {"room": "r", "limit": 3},
        model=ffx.FuturePage,
    ),
}


def run(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    result = function(*args, **kwargs)
    if inspect.iscoroutine(result):
        return asyncio.run(result)
    return result


def sliced(shape: Shape) -> Callable[..., Any]:
    result = slice_render(shape.render, shape.fields, model=shape.model)
    assert result.reason is None
    assert result.function is not None
    return result.function


def call_slice(
    function: Callable[..., Any], kwargs: dict[str, Any], ctx: Callable[[], Any] = fx.Ctx
) -> Any:
    accepted = inspect.signature(function).parameters
    fresh = copy.deepcopy(kwargs)  # render() may change a mutable argument
    return run(function, ctx(), **{k: v for k, v in fresh.items() if k in accepted})


def expected(shape: Shape) -> dict[str, Any]:
    full = run(shape.render, shape.ctx(), **copy.deepcopy(shape.kwargs))
    dumped: dict[str, Any] = full.model_dump(mode="json", by_alias=True, include=set(shape.fields))
    return dumped


@pytest.mark.parametrize("name", SHAPES)
def test_slice_equals_filtered_full_render(name: str) -> None:
    shape = SHAPES[name]
    function = sliced(shape)
    assert call_slice(function, shape.kwargs, shape.ctx) == expected(shape)


@pytest.mark.parametrize("name", SHAPES)
def test_slice_signature_has_only_used_params(name: str) -> None:
    shape = SHAPES[name]
    function = sliced(shape)
    assert tuple(inspect.signature(function).parameters) == shape.params
    assert slice_render(shape.render, shape.fields, model=shape.model).kept_params == shape.params
    hints = typing.get_type_hints(function)
    assert set(hints) - {"return"} <= set(shape.params)


@pytest.mark.parametrize("name", [n for n, s in SHAPES.items() if s.drops_work])
def test_slice_skips_dropped_work(name: str) -> None:
    shape = SHAPES[name]
    function = sliced(shape)
    fx.EXPENSIVE_CALLS[0] = 0
    call_slice(function, shape.kwargs, shape.ctx)
    assert fx.EXPENSIVE_CALLS[0] == 0
    run(shape.render, shape.ctx(), **shape.kwargs)
    assert fx.EXPENSIVE_CALLS[0] > 0


@pytest.mark.parametrize("name", SHAPES)
def test_slice_keeps_sync_or_async_kind(name: str) -> None:
    shape = SHAPES[name]
    function = sliced(shape)
    assert inspect.iscoroutinefunction(function) == inspect.iscoroutinefunction(shape.render)


def test_slice_keeps_depends_default_objects() -> None:
    function = sliced(SHAPES["depends_defaults"])
    original = inspect.signature(fx.render_depends).parameters["db"].default
    assert inspect.signature(function).parameters["db"].default is original
    assert run(function, fx.Ctx()) == {"value_a": str(original)}


def test_slice_resolves_future_annotations() -> None:
    function = sliced(SHAPES["future_annotations"])
    hints = typing.get_type_hints(function)
    assert hints["room"] is str
    assert hints["step"] is int
    assert "db" in hints


def test_slice_sees_module_globals_changed_after_slicing(monkeypatch: pytest.MonkeyPatch) -> None:
    function = sliced(SHAPES["module_globals"])
    monkeypatch.setattr(fx, "GREETING", "Howdy")
    assert call_slice(function, {}) == {"value_a": "Howdy 2"}
    assert call_slice(function, {}) == expected(SHAPES["module_globals"])


def test_slice_shares_closure_cells_with_render() -> None:
    function = sliced(SHAPES["closure"])
    set_prefix("Q")
    try:
        assert call_slice(function, {"n": 1}) == {"value_a": "Q2"}
        assert call_slice(function, {"n": 1}) == expected(SHAPES["closure"]) | {"value_a": "Q2"}
    finally:
        set_prefix("P")


def test_slice_output_uses_alias_keys() -> None:
    function = sliced(SHAPES["field_alias"])
    assert call_slice(function, {"text": "ab"}) == {"theLabel": "AB"}


def test_slice_tracebacks_point_at_user_source() -> None:
    function = sliced(Shape(fx.render_traceback, ("value_a",), ("self", "n"), {}))
    with pytest.raises(ZeroDivisionError) as info:
        function(fx.Ctx(), n=0)
    frame = traceback.extract_tb(info.tb)[-1]
    _lines, start = inspect.getsourcelines(fx.render_traceback)
    assert frame.filename == inspect.getsourcefile(fx.render_traceback)
    assert frame.lineno == start + 1
    assert frame.line == "ratio = 10 // n"


def test_slice_runs_kept_barriers_like_full_render() -> None:
    function = sliced(SHAPES["self_barrier"])
    ctx = fx.Ctx()
    assert run(function, ctx) == {"value_a": "1-1"}
    assert (ctx.loaded, ctx.counter) == (1, 1)


def test_slice_reason_is_none_and_result_frozen() -> None:
    result = slice_render(fx.render_seed, ("value_a",), model=fx.Page)
    assert isinstance(result, RenderSlice)
    with pytest.raises(AttributeError):
        result.reason = "x"  # type: ignore[misc]


def test_slice_trusts_only_validated_immutable_parameters() -> None:
    def render(
        self: Any,
        injected: Annotated[int, Depends(fx.get_db)],
        defaulted: int = Depends(fx.get_db),
        count: int = 1,
        name: str | None = None,
        mode: Literal["a", "b"] = "a",
        rows: list[int] | None = None,
    ) -> None: ...

    params = ("self", "injected", "defaulted", "count", "name", "mode", "rows")
    # Depends values are not validated against their annotation: they may be anything.
    assert immutable_parameters(render, params) == {"count", "name", "mode"}
