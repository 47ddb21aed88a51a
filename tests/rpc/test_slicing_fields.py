"""The slice's JSON equals the full model's filtered dump, field by field."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest

from rpc.slicing import slice_render
from tests.rpc import slicing_fixtures as fx
from tests.rpc import slicing_models as models

RICH_FIELDS = [name for name in models.RichPage.model_fields if name != "heavy"]


def full_dump(fields: tuple[str, ...], **kwargs: Any) -> dict[str, Any]:
    state = models.render_rich(fx.Ctx(), **kwargs)
    dumped: dict[str, Any] = state.model_dump(mode="json", by_alias=True, include=set(fields))
    return dumped


def call(function: Callable[..., Any], **kwargs: Any) -> Any:
    accepted = inspect.signature(function).parameters
    return function(fx.Ctx(), **{k: v for k, v in kwargs.items() if k in accepted})


@pytest.mark.parametrize("field", RICH_FIELDS)
def test_slice_serialises_each_field_like_the_model(field: str) -> None:
    result = slice_render(models.render_rich, (field,), model=models.RichPage)
    assert result.function is not None, result.reason
    assert call(result.function, n=3) == full_dump((field,), n=3)


def test_slice_serialises_all_fields_together() -> None:
    fields = tuple(RICH_FIELDS)
    result = slice_render(models.render_rich, fields, model=models.RichPage)
    assert result.function is not None, result.reason
    fx.EXPENSIVE_CALLS[0] = 0
    sliced = result.function(fx.Ctx(), n=3)
    assert fx.EXPENSIVE_CALLS[0] == 0
    assert sliced == full_dump(fields, n=3)


def test_slice_keeps_excluded_fields_excluded() -> None:
    result = slice_render(models.render_rich, ("secret", "renamed"), model=models.RichPage)
    assert result.function is not None, result.reason
    assert result.function(fx.Ctx()) == {"other_name": "value"}


def test_slice_works_with_render_base_models() -> None:
    result = slice_render(
        models.render_counter, (models.CounterState.count,), model=models.CounterState
    )
    assert result.function is not None, result.reason
    assert tuple(result.kept_params) == ("self", "room", "step")
    full = models.render_counter(fx.Ctx(), room="lobby", step=2)
    assert result.function(fx.Ctx(), room="lobby", step=2) == full.model_dump(
        mode="json", by_alias=True, include={"count"}
    )
