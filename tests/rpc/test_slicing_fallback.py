"""render() shapes that slicing cannot prove equivalent fall back with a reason."""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import BaseModel

from rpc.slicing import slice_render
from tests.rpc import slicing_fixtures as fx

nonlocal_render = fx.make_nonlocal_render()


def _exec_built() -> Callable[..., Any]:
    namespace: dict[str, Any] = {"Page": fx.Page}
    exec("def render(self):\n    return Page(value_a='x')\n", namespace)
    built: Callable[..., Any] = namespace["render"]
    return built


def _stale_source() -> Callable[..., Any]:
    """A function whose file no longer holds its code (edited after import)."""
    code = fx.fb_returns_variable.__code__.replace(
        co_firstlineno=fx.fb_positional.__code__.co_firstlineno, co_name="fb_positional"
    )
    return types.FunctionType(code, fx.__dict__, "fb_positional")


FALLBACKS: dict[str, tuple[Callable[..., Any], type[BaseModel], str]] = {
    "several_returns": (fx.fb_several_returns, fx.Page, "several return statements"),
    "return_in_loop": (fx.fb_return_in_loop, fx.Page, "several return statements"),
    "returns_variable": (fx.fb_returns_variable, fx.Page, "keyword fields"),
    "double_star": (fx.fb_positional, fx.Page, "keyword fields"),
    "global": (fx.fb_global, fx.Page, "global/nonlocal"),
    "nonlocal": (nonlocal_render, fx.Page, "global/nonlocal"),
    "locals": (fx.fb_locals, fx.Page, "locals()"),
    "eval": (fx.fb_eval, fx.Page, "eval()"),
    "generator": (fx.fb_generator, fx.Page, "generator"),
    "del": (fx.fb_del, fx.Page, "del"),
    "private_name": (fx.fb_private, fx.Page, "mangles"),
    "decorated": (fx.fb_decorated, fx.Page, "decorators"),
    "wrapped": (fx.fb_wrapped, fx.Page, "wrapped by a decorator"),
    "other_model": (fx.fb_other_model, fx.Page, "does not return a Page"),
    "local_model_name": (fx.fb_local_model, fx.Page, "does not return a Page"),
    "field_validator": (fx.fb_validated, fx.Validated, "field validator"),
    "computed_field": (fx.fb_computed, fx.Computed, "computed field"),
    "model_serializer": (fx.fb_serialized, fx.Serialized, "model serializer"),
    "info_validator": (fx.fb_info, fx.InfoField, "reads other fields"),
    "alias_choices": (fx.fb_choices, fx.Choices, "AliasChoices"),
    "extra_allow_unknown_key": (fx.fb_extra, fx.Extra, "surprise= is not a field"),
    "exec_built": (_exec_built(), fx.Page, "not available"),
    "stale_source": (_stale_source(), fx.Page, "does not match its code"),
    "builtin": (len, fx.Page, "not a plain function"),
}


@pytest.mark.parametrize("name", FALLBACKS)
def test_slice_falls_back_with_reason(name: str) -> None:
    render, model, cause = FALLBACKS[name]
    result = slice_render(render, ("value_a",), model=model)
    assert result.function is None
    assert result.reason is not None
    assert cause in result.reason
    assert "\n" not in result.reason


def test_slice_falls_back_for_unknown_reload_field() -> None:
    result = slice_render(fx.render_seed, ("nope",), model=fx.Page)
    assert result.function is None
    assert result.reason is not None
    assert "nope" in result.reason


def test_slice_falls_back_for_positional_model_arguments() -> None:
    def render(self: Any) -> fx.Page:
        return fx.Page.model_validate({"value_a": "x"})

    result = slice_render(render, ("value_a",), model=fx.Page)
    assert result.function is None
    assert result.reason is not None
    assert "does not return" in result.reason
