"""Which answers say ``Connection: close``: those sent before the request body was read.

In-process, route by route (the e2e test in tests/e2e/test_hardening_early_answers.py
shows why over real hypercorn). Only an action reads a body; every other route
that gets one answers without reading it.
"""

from __future__ import annotations

import pytest

from tests.rpc.apps import build_app
from tests.rpc.asgi import call
from tests.rpc.conftest import API

pytestmark = pytest.mark.anyio

CREATE = f"{API}/BindingController/create"
RENDER = f"{API}/BindingController/render"
BODY = b'{"name": "a", "qty": 1}'
JSON = ("content-type", "application/json")
LENGTH = ("content-length", str(len(BODY)))
PAGE = ("x-belay-page", "/")


@pytest.mark.parametrize(
    ("method", "path", "headers", "status"),
    [
        pytest.param("GET", RENDER, [PAGE], 200, id="render-with-a-body"),
        pytest.param("POST", RENDER, [JSON], 405, id="render-by-post"),
        pytest.param("POST", f"{API}/BindingController/missing", [JSON], 404, id="no-action"),
        pytest.param("POST", f"{API}/Nobody/create", [JSON], 404, id="no-controller"),
        pytest.param("PUT", CREATE, [JSON], 405, id="action-by-put"),
        pytest.param("POST", CREATE, [("content-type", "text/plain")], 415, id="content-type"),
        pytest.param(
            "POST", CREATE, [JSON, ("origin", "https://elsewhere.example")], 403, id="cross-site"
        ),
        pytest.param("OPTIONS", CREATE, [("origin", "https://a.example")], 403, id="preflight"),
    ],
)
async def test_unread_bodies_answer_before_the_body_says_close(
    method: str, path: str, headers: list[tuple[str, str]], status: int
) -> None:
    result = await call(build_app(), method, path, headers=[*headers, LENGTH], chunks=(BODY,))
    assert result.status == status, result.body
    assert result.headers.get("connection") == "close"


async def test_unread_bodies_body_over_the_limit_says_close_once() -> None:
    headers = [JSON, ("content-length", "101")]
    result = await call(build_app(max_body_size=100), "POST", CREATE, headers=headers)
    assert result.status == 413
    assert result.headers.get("connection") == "close"
    assert result.receive_calls == 0


@pytest.mark.parametrize(
    ("body", "status"),
    [
        pytest.param(BODY, 200, id="answered"),
        pytest.param(b'{"name": 7}', 422, id="invalid-body"),
        pytest.param(b'{"name": "a",', 400, id="malformed-json"),
    ],
)
async def test_unread_bodies_answer_after_the_body_keeps_the_connection(
    body: bytes, status: int
) -> None:
    headers = [JSON, ("content-length", str(len(body)))]
    result = await call(build_app(), "POST", CREATE, headers=headers, chunks=(body,))
    assert result.status == status, result.body
    assert "connection" not in result.headers


@pytest.mark.parametrize(
    ("method", "path", "headers", "status"),
    [
        pytest.param("GET", RENDER, [PAGE], 200, id="render"),
        pytest.param("GET", f"{API}/BindingController/missing", [], 404, id="no-action"),
        pytest.param(
            "POST", CREATE, [JSON, ("origin", "https://elsewhere.example")], 403, id="cross-site"
        ),
    ],
)
async def test_unread_bodies_request_without_a_body_keeps_the_connection(
    method: str, path: str, headers: list[tuple[str, str]], status: int
) -> None:
    result = await call(build_app(), method, path, headers=headers)
    assert result.status == status, result.body
    assert "connection" not in result.headers
