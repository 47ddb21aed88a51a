"""``RPCApp(openapi_url=...)`` over a real hypercorn: off by default, built once, mount-aware."""

from __future__ import annotations

import threading
from collections.abc import MutableMapping
from typing import Any

import anyio
import httpx
import pytest
from pydantic import create_model
from starlette.applications import Starlette
from starlette.routing import Mount

from rpc import ControllerBase, RenderBase, RPCApp
from rpc.openapi import openapi_document
from rpc.openapi.endpoint import OpenAPIEndpoint
from tests.openapi.fuzz_app import build_app
from tests.rpc.asgi import call, http_scope
from tests.support.server import running_server

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]


async def test_endpoint_serves_the_document() -> None:
    with running_server(build_app(openapi_url="/openapi.json")) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
            first = await http.get("/openapi.json")
            second = await http.get("/openapi.json")
            refused = await http.post("/openapi.json")
    assert first.status_code == 200
    assert first.headers["content-type"] == "application/json"
    assert first.json() == openapi_document(build_app())
    assert second.content == first.content
    assert refused.status_code == 405
    assert refused.headers["allow"] == "GET, HEAD"
    assert "GET" in refused.json()["detail"]


async def test_endpoint_is_off_by_default() -> None:
    with running_server(build_app()) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
            missing = await http.get("/openapi.json")
            render = await http.get("/internal/api/PlainController/render")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "no Belay route at '/openapi.json'"}
    assert render.json() == {"ok": True}


async def test_endpoint_under_a_mount_names_it_in_servers() -> None:
    outer = Starlette(routes=[Mount("/api", app=build_app(openapi_url="/openapi.json"))])
    with running_server(outer) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
            document = (await http.get("/api/openapi.json")).json()
            # the documented path, under the server named in the document, is served
            path = next(p for p in document["paths"] if p.endswith("/PlainController/render"))
            render = await http.get(document["servers"][0]["url"] + path)
    assert document["servers"] == [{"url": "/api"}]
    assert render.json() == {"ok": True}


def test_endpoint_rejects_a_relative_url() -> None:
    with pytest.raises(ValueError, match="openapi_url must start with '/'"):
        build_app(openapi_url="openapi.json")


async def test_endpoint_builds_once_for_concurrent_first_requests() -> None:
    built: list[int] = []
    lock = threading.Lock()

    def build() -> dict[str, Any]:
        with lock:
            built.append(1)
        return {"openapi": "3.1.0"}

    endpoint = OpenAPIEndpoint(build)
    bodies: list[bytes] = []

    async def fetch() -> None:
        sent: list[MutableMapping[str, Any]] = []

        async def send(message: MutableMapping[str, Any]) -> None:
            sent.append(message)

        await endpoint(http_scope("GET", "/openapi.json"), send)
        bodies.append(sent[-1]["body"])

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tasks:
            for _ in range(8):
                tasks.start_soon(fetch)
    assert built == [1]
    assert bodies == [b'{"openapi":"3.1.0"}'] * 8


FirstItem = create_model("Item", name=(str, ...))
SecondItem = create_model("Item", count=(int, ...))


class ClashState(RenderBase):
    first: FirstItem  # type: ignore[valid-type]
    second: SecondItem  # type: ignore[valid-type]


class ClashController(ControllerBase):
    url = "/clash"

    async def render(self) -> ClashState:
        raise NotImplementedError


async def test_endpoint_answers_an_app_it_cannot_describe_with_500_naming_why() -> None:
    app = RPCApp(controllers=[ClashController()], openapi_url="/openapi.json")
    result = await call(app, "GET", "/openapi.json")
    assert result.status == 500
    assert "two types would both be named 'Item'" in result.json()["detail"]
