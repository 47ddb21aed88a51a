"""``parse_query`` gives what ``parse_qs(..., keep_blank_values=True)`` gives, for any string."""

from __future__ import annotations

import random
from urllib.parse import parse_qs

import pytest

from rpc.query import parse_query

CASES = [
    "",
    "a=1",
    "discount=3",
    "a=1&a=2&b=",
    "a&b=&=c&&=",
    "a=1=2",
    "&&a=1&&",
    "x=caf\u00e9&y=\u00ff",  # text decoded as latin-1 from the raw query
    "a=%41&b=1",
    "a+b=c+d",
    "a=%zz",
    "a=1;b=2",
    "=",
    "==",
    "&",
]


@pytest.mark.parametrize("text", CASES)
def test_query_known_strings(text: str) -> None:
    assert parse_query(text) == parse_qs(text, keep_blank_values=True)


def test_query_random_strings() -> None:
    chooser = random.Random(20261204)
    alphabet = "ab=&%+;2F \u00e9"
    for _ in range(5000):
        text = "".join(chooser.choice(alphabet) for _ in range(chooser.randint(0, 12)))
        assert parse_query(text) == parse_qs(text, keep_blank_values=True), text
