"""``RequestHeaders.get`` finds what Starlette's ``Headers.get`` finds."""

from __future__ import annotations

import pytest
from starlette.datastructures import Headers

from rpc.headers import RequestHeaders

RAW = [
    (b"host", b"example.com"),
    (b"content-type", b"application/json"),
    (b"x-twice", b"first"),
    (b"x-twice", b"second"),
    (b"x-latin", "caf\u00e9".encode("latin-1")),
    (b"x-empty", b""),
]


@pytest.mark.parametrize(
    "name", ["host", "Content-Type", "CONTENT-TYPE", "x-twice", "x-latin", "x-empty", "origin"]
)
def test_headers_get_matches_starlette(name: str) -> None:
    scope = {"type": "http", "headers": RAW}
    ours, theirs = RequestHeaders(scope=scope), Headers(scope=scope)
    assert ours.get(name) == theirs.get(name)
    assert ours.get(name, "fallback") == theirs.get(name, "fallback")
    assert ours.get(name, default=None) == theirs.get(name, None)


def test_headers_get_values() -> None:
    headers = RequestHeaders(scope={"type": "http", "headers": RAW})
    assert headers.get("x-twice") == "first"
    assert headers.get("x-latin") == "caf\u00e9"
    assert headers.get("origin") is None
    assert headers.get("origin", "none") == "none"
    assert headers["Content-Type"] == "application/json"
