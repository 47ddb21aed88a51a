"""The TS client step of ``belay codegen`` / ``belay dev --codegen-out`` on mounted apps."""

from __future__ import annotations

import re
from pathlib import Path

import anyio
import httpx
from starlette.applications import Starlette
from starlette.routing import Mount

from devserver.clientgen import run_codegen
from rpc import ControllerBase, RenderBase, RPCApp, passthrough


class HelloState(RenderBase):
    n: int


class HelloController(ControllerBase):
    url = "/hello"

    async def render(self) -> HelloState:
        return HelloState(n=1)

    @passthrough
    async def hi(self) -> str:
        return "hi"


def endpoint_paths(out: Path) -> list[str]:
    return re.findall(r'Endpoint\(client, "([^"]+)"', (out / "controllers.ts").read_text())


async def post_status(app: Starlette, path: str) -> int:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        with anyio.fail_after(5):
            return (await client.post(path, json={})).status_code


def test_clientgen_rpc_app_mounted_under_a_path_gets_that_path(tmp_path: Path) -> None:
    site = Starlette(
        routes=[Mount("/site", routes=[Mount("/api", app=RPCApp(controllers=[HelloController()]))])]
    )
    run_codegen(site, str(tmp_path))
    paths = endpoint_paths(tmp_path)
    assert paths == [
        "/site/api/internal/api/HelloController/render",
        "/site/api/internal/api/HelloController/hi",
    ]
    assert anyio.run(post_status, site, paths[1]) == 200  # where the server answers


def test_clientgen_rpc_app_served_directly_keeps_its_prefix(tmp_path: Path) -> None:
    run_codegen(RPCApp(controllers=[HelloController()], prefix="/rpc"), str(tmp_path))
    assert endpoint_paths(tmp_path)[1] == "/rpc/HelloController/hi"
