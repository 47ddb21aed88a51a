"""Every JSON answer says ``nosniff`` and ``no-store`` (render state is per page and
per user); streams say so too. Over a real hypercorn on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import anyio
import httpx
import pytest

from tests.e2e.hardening_apps import build_hardening_app
from tests.support.fuzz import exchange
from tests.support.server import ServerHandle, running_server

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

BOARD = "/internal/api/BoardController"
PAGE = {"x-belay-page": "/boards/lobby"}


@pytest.fixture(scope="module")
def server() -> Iterator[ServerHandle]:
    app = build_hardening_app(body_timeout=0.5, max_body_size=64)
    with running_server(app) as handle:
        yield handle


REQUESTS: dict[str, tuple[str, str, dict[str, str], bytes | None]] = {
    "render 200": ("GET", "/render", PAGE, None),
    "render 400 (no page)": ("GET", "/render", {}, None),
    "render 422": ("GET", "/render", {"x-belay-page": "/boards/x?page=nan"}, None),
    "passthrough 200": ("POST", "/lookup", {}, None),
    "sideeffect 200": ("POST", "/add?board=lobby", PAGE, b'{"text": "a"}'),
    "action 400 (malformed JSON)": ("POST", "/add?board=x", PAGE, b"{"),
    "action 403": ("POST", "/lookup", {"origin": "http://evil.example"}, None),
    "action 404": ("POST", "/nothing", {}, None),
    "route 404": ("GET", "/internal/api/Nobody/render", {}, None),
    "action 405": ("GET", "/lookup", {}, None),
    "action 413": ("POST", "/add?board=x", PAGE, b'{"text": "' + b"x" * 100 + b'"}'),
    "action 415": ("POST", "/lookup", {"content-type": "text/plain"}, b"x"),
    "action 422": ("POST", "/lookup?count=x", {}, None),
    "stream error before the first item (409)": ("POST", "/steps?steps=-1", {}, None),
    "app error 500": ("POST", "/explode?text=x", {}, None),
}


@pytest.mark.parametrize("name", sorted(REQUESTS))
async def test_hardening_headers_json_answers_are_nosniff_and_no_store(
    server: ServerHandle, name: str
) -> None:
    method, path, headers, body = REQUESTS[name]
    url = path if path.startswith("/internal") else BOARD + path
    if body is not None:
        headers = {"content-type": "application/json", **headers}
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
        response = await http.request(method, url, headers=headers, content=body)
    assert response.headers["content-type"] == "application/json", response.text
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
    assert "detail" in response.json() or response.status_code == 200


async def test_hardening_headers_stream_is_nosniff_and_no_store(server: ServerHandle) -> None:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
        response = await http.post(f"{BOARD}/steps", params={"steps": "2"})
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
    assert "event: end" in response.text


async def test_hardening_headers_408_is_nosniff_and_no_store(server: ServerHandle) -> None:
    stalled = (
        f"POST {BOARD}/add?board=x HTTP/1.1\r\nhost: 127.0.0.1\r\n"
        "content-type: application/json\r\ncontent-length: 30\r\n\r\n{"
    ).encode()
    with anyio.fail_after(10):
        answer = await exchange(server.port, stalled)
    assert answer.status == 408
    head = answer.head.lower()
    assert b"x-content-type-options: nosniff" in head
    assert b"cache-control: no-store" in head
