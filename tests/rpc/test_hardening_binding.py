"""Query and path values are bounded to what JSON carries back: 64-bit ints, finite floats."""

from __future__ import annotations

import decimal
from typing import Annotated, Any

import pytest
from pydantic import Field, ValidationError

from rpc.binding import plan_call


def lookup(
    count: int = 0,
    small: Annotated[int, Field(ge=0)] = 0,
    maybe: float | None = None,
    many: tuple[int, ...] = (),
    price: decimal.Decimal = decimal.Decimal(0),
) -> None:
    """Its parameters are the plan under test."""


def validate(**raw: Any) -> Any:
    plan = plan_call(lookup)
    assert plan.query is not None
    return plan.query.model.model_validate(raw)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("count", str(2**63)),
        ("count", str(-(2**63) - 1)),
        ("small", str(2**63)),
        ("small", "-1"),  # the user's own constraint still holds
        ("maybe", "nan"),
        ("maybe", "1e400"),
        ("many", ["1", str(2**64)]),
        ("price", "NaN"),
        ("price", "Infinity"),
    ],
)
def test_hardening_binding_out_of_range_values_fail_validation(name: str, value: Any) -> None:
    with pytest.raises(ValidationError):
        validate(**{name: value})


def test_hardening_binding_values_at_the_bounds_pass() -> None:
    values = validate(
        count=str(-(2**63)), small=str(2**63 - 1), maybe="1e308", many=["1", "2"], price="1.5"
    )
    assert values.p0 == -(2**63)
    assert values.p1 == 2**63 - 1
    assert values.p2 == 1e308
    assert values.p3 == (1, 2)
    assert values.p4 == decimal.Decimal("1.5")
