"""Dev error responses: HTML traceback for browsers' GETs, JSON otherwise, debug on RPCApps."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route

from devserver.errorpage import LIVE_RELOAD_TAG, DevErrorMiddleware, enable_debug
from rpc import RPCApp

pytestmark = pytest.mark.anyio


async def boom(request: Request) -> PlainTextResponse:
    raise RuntimeError("kaboom")


async def fine(request: Request) -> PlainTextResponse:
    return PlainTextResponse("fine")


async def server_error(request: Request) -> PlainTextResponse:
    return PlainTextResponse("handled", status_code=500)


def client(*, live_reload: bool = False) -> tuple[httpx.AsyncClient, list[BaseException]]:
    seen: list[BaseException] = []
    app = Starlette(
        routes=[
            Route("/boom", boom, methods=["GET", "POST"]),
            Route("/fine", fine),
            Route("/handled", server_error),
        ]
    )
    wrapped = DevErrorMiddleware(
        app, roots=[Path(__file__).parent], on_error=seen.append, live_reload=live_reload
    )
    transport = httpx.ASGITransport(app=wrapped, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://test"), seen


async def test_errorpage_html_for_browser_get() -> None:
    http, seen = client()
    async with http:
        response = await http.get("/boom", headers={"accept": "text/html,*/*"})
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/html")
    assert "test_errorpage.py:" in response.text
    assert "RuntimeError: kaboom" in response.text
    assert "Traceback (most recent call last)" in response.text
    assert [type(e) for e in seen] == [RuntimeError]


async def test_errorpage_json_for_api_clients_and_posts() -> None:
    http, _ = client()
    async with http:
        api = await http.get("/boom", headers={"accept": "application/json"})
        post = await http.post("/boom", headers={"accept": "text/html"})
    for response in (api, post):
        assert response.status_code == 500
        body = response.json()
        assert body["detail"] == "Internal Server Error"
        assert "RuntimeError: kaboom" in body["traceback"]


async def test_errorpage_passes_normal_and_handled_responses() -> None:
    http, seen = client()
    async with http:
        ok = await http.get("/fine", headers={"accept": "text/html"})
        handled = await http.get("/handled", headers={"accept": "text/html"})
    assert (ok.status_code, ok.text) == (200, "fine")
    assert (handled.status_code, handled.text) == (500, "handled")
    assert seen == []


def test_errorpage_enable_debug_finds_mounted_rpc_apps() -> None:
    inner = RPCApp(controllers=[])
    direct = RPCApp(controllers=[])
    outer = Starlette(routes=[Mount("/api", routes=[Mount("/v1", app=inner)])])
    assert inner.debug is False
    assert enable_debug(outer) == 1
    assert inner.debug is True
    assert enable_debug(direct) == 1
    assert direct.debug is True
    assert enable_debug(Starlette()) == 0


@pytest.mark.parametrize("live_reload", [True, False])
async def test_errorpage_loads_the_reload_snippet_when_asked(live_reload: bool) -> None:
    http, _ = client(live_reload=live_reload)
    async with http:
        response = await http.get("/boom", headers={"accept": "text/html"})
    assert (LIVE_RELOAD_TAG in response.text) is live_reload
