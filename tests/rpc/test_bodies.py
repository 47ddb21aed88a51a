"""Action bodies: content type (415), malformed JSON (400), size limit (413), no-body actions."""

from __future__ import annotations

import httpx
import orjson
import pytest

from tests.rpc.apps import build_app
from tests.rpc.asgi import call, json_post
from tests.rpc.conftest import API

pytestmark = pytest.mark.anyio

CREATE = f"{API}/BindingController/create"
NOBODY = f"{API}/BindingController/nobody"


async def test_bodies_malformed_json_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        CREATE, content=b'{"name": "a",', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert set(response.json()) == {"detail"}
    assert "JSON" in response.json()["detail"]


async def test_bodies_malformed_json_without_body_model_is_400(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        NOBODY, content=b"{nope", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"],
)
async def test_bodies_declared_non_json_type_is_415(
    client: httpx.AsyncClient, content_type: str
) -> None:
    response = await client.post(
        CREATE, content=b'{"name": "a", "qty": 1}', headers={"content-type": content_type}
    )
    assert response.status_code == 415
    assert content_type in response.json()["detail"]


async def test_bodies_declared_non_json_type_refused_before_reading() -> None:
    app = build_app()
    result = await call(
        app, "POST", CREATE, headers=[("content-type", "text/plain")], chunks=(b"x", b"y")
    )
    assert result.status == 415
    assert result.receive_calls == 0


async def test_bodies_body_without_content_type_is_415(client: httpx.AsyncClient) -> None:
    response = await client.post(CREATE, content=b'{"name": "a", "qty": 1}')
    assert response.status_code == 415


async def test_bodies_json_variants_accepted(client: httpx.AsyncClient) -> None:
    for content_type in (
        "application/json; charset=utf-8",
        "application/merge-patch+json",
        "Application/JSON",
    ):
        response = await client.post(
            CREATE, content=b'{"name": "a", "qty": 1}', headers={"content-type": content_type}
        )
        assert response.status_code == 200, content_type


async def test_bodies_empty_body_without_content_type_accepted(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(NOBODY)
    assert response.status_code == 200
    assert response.json() == {"passthrough": "ok"}


async def test_bodies_no_body_action_accepts_empty_object(client: httpx.AsyncClient) -> None:
    response = await client.post(NOBODY, json={})
    assert response.json() == {"passthrough": "ok"}


@pytest.mark.parametrize("body", [b'{"a": 1}', b"[]", b"null", b"1", b'"x"'])
async def test_bodies_no_body_action_rejects_other_bodies(
    client: httpx.AsyncClient, body: bytes
) -> None:
    response = await client.post(NOBODY, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body"]
    assert set(error) == {"loc", "msg", "type"}


async def test_bodies_content_length_over_limit_is_413_without_reading() -> None:
    app = build_app(max_body_size=100)
    result = await call(
        app,
        "POST",
        CREATE,
        headers=[("content-type", "application/json"), ("content-length", "101")],
        chunks=(b"x" * 101,),
    )
    assert result.status == 413
    assert set(result.json()) == {"detail"}
    assert result.receive_calls == 0


async def test_bodies_content_length_at_limit_is_read() -> None:
    body = orjson.dumps({"name": "a" * 80, "qty": 1})
    app = build_app(max_body_size=len(body))
    result = await json_post(
        app, CREATE, {"name": "a" * 80, "qty": 1}, headers=[("content-length", str(len(body)))]
    )
    assert result.status == 200


async def test_bodies_chunked_over_limit_is_413_and_stops_reading() -> None:
    app = build_app(max_body_size=1000)
    chunks = [b"x" * 300] * 50  # 15 kB offered, no Content-Length
    result = await call(
        app, "POST", CREATE, headers=[("content-type", "application/json")], chunks=chunks
    )
    assert result.status == 413
    assert result.receive_calls == 4  # 1200 bytes read: the 4th chunk crosses the limit


async def test_bodies_chunked_under_limit_is_joined() -> None:
    app = build_app()
    chunks = [b'{"name":', b' "split"', b', "qty": 2}']
    result = await call(
        app, "POST", CREATE, headers=[("content-type", "application/json")], chunks=chunks
    )
    assert result.status == 200
    assert result.json() == {"passthrough": {"name": "split:none", "qty": 2}}


async def test_bodies_default_limit_is_one_mebibyte(client: httpx.AsyncClient) -> None:
    big = b'{"name": "' + b"a" * (1024 * 1024) + b'", "qty": 1}'
    response = await client.post(CREATE, content=big, headers={"content-type": "application/json"})
    assert response.status_code == 413


async def test_bodies_invalid_content_length_is_400() -> None:
    app = build_app()
    result = await call(
        app,
        "POST",
        CREATE,
        headers=[("content-type", "application/json"), ("content-length", "ten")],
    )
    assert result.status == 400


async def test_bodies_disconnect_while_reading_sends_nothing() -> None:
    app = build_app()
    sent: list[object] = []
    messages: list[dict[str, object]] = [
        {"type": "http.request", "body": b'{"na', "more_body": True},
        {"type": "http.disconnect"},
    ]

    async def receive() -> dict[str, object]:
        return messages.pop(0)

    async def send(message: object) -> None:
        sent.append(message)

    from tests.rpc.asgi import http_scope

    scope = http_scope("POST", CREATE, headers=[("content-type", "application/json")])
    await app(scope, receive, send)
    assert sent == []


@pytest.mark.parametrize("declared", ["\u00b2", "\u00b9\u00b2", " 5", "-1", "+5", "1e3"])
async def test_bodies_non_ascii_digit_content_length_is_400(declared: str) -> None:
    # str.isdigit() accepts superscript digits (latin-1 header bytes), int() does not.
    app = build_app()
    result = await call(
        app,
        "POST",
        CREATE,
        headers=[("content-type", "application/json"), ("content-length", declared)],
        chunks=(b"{}",),
    )
    assert result.status == 400, result.body
    assert "Content-Length" in result.json()["detail"]
