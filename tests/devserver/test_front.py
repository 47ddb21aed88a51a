"""The dev app process's ASGI front, in process: snippet, host refusal, request log."""

from __future__ import annotations

import io
from typing import Any

import anyio
import httpx
import pytest

from devserver.front import DevFront, RequestLog, printable
from devserver.hosts import HostPolicy
from devserver.notify import Notifier

pytestmark = pytest.mark.anyio


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    status = 404 if scope["path"] in ("/favicon.ico", "/missing") else 200
    await send({"type": "http.response.start", "status": status, "headers": []})
    await send({"type": "http.response.body", "body": b"app"})


def make_front() -> tuple[httpx.AsyncClient, io.StringIO]:
    out = io.StringIO()
    notifier = Notifier(HostPolicy.build("127.0.0.1", ["dev.test"]))
    front = DevFront(app, notifier, log=RequestLog(lambda: out))
    transport = httpx.ASGITransport(app=front)
    return httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000"), out


async def test_front_serves_the_snippet_and_forwards_the_rest() -> None:
    client, out = make_front()
    with anyio.fail_after(5):
        async with client:
            snippet = await client.get("/__belay/dev.js")
            assert snippet.status_code == 200
            assert snippet.headers["content-type"].startswith("text/javascript")
            assert "/__belay/dev" in snippet.text
            assert (await client.get("/page")).text == "app"
    assert out.getvalue().splitlines()[0].startswith("belay: GET /page 200 ")


async def test_front_refuses_a_foreign_host_before_the_app() -> None:
    client, out = make_front()
    with anyio.fail_after(5):
        async with client:
            response = await client.post("/action", headers={"host": "evil.example"})
            allowed = await client.get("/page", headers={"host": "dev.test:1234"})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden_host"
    assert "--allowed-host" in response.json()["error"]["message"]
    assert allowed.text == "app"
    assert "POST /action 403 0 ms (Host evil.example refused)" in out.getvalue()


async def test_request_log_skips_favicon_404_and_escapes_paths() -> None:
    client, out = make_front()
    with anyio.fail_after(5):
        async with client:
            assert (await client.get("/favicon.ico")).status_code == 404
            assert (await client.get("/missing")).status_code == 404
    lines = out.getvalue().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("belay: GET /missing 404 ")


def test_printable_escapes_control_bytes() -> None:
    assert printable(b"/a\r\nbelay: x\x00\xff") == "/a\\r\\nbelay: x\\x00\\\\xff"
