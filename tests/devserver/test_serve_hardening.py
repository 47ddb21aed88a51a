"""``belay serve`` behind ASGI middleware, on a busy port, and with its listen backlog.

Real ``belay serve`` subprocesses on 127.0.0.1. The RPCApp is wrapped the way
OpenTelemetry and Sentry wrap an app (a class keeping it in ``.app``), by
Starlette's ``Middleware``, and mounted; each app asks for ``debug=True``.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.devserver.devproc import ServeProcess, StreamReader, run_belay
from tests.devserver.userpkg import write
from tests.support.polling import wait_until

pytestmark = [pytest.mark.e2e]

WRAPPED_APP = """
import asyncio
from collections.abc import AsyncIterator

from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.routing import Mount, Route

from rpc import ControllerBase, RPCApp, RenderBase, passthrough


class Tick(BaseModel):
    n: int


class PageState(RenderBase):
    title: str


class PageController(ControllerBase):
    url = "/"

    async def render(self) -> PageState:
        return PageState(title="hi")

    @passthrough
    async def boom(self) -> str:
        raise RuntimeError("secret detail")

    @passthrough
    async def ticks(self) -> AsyncIterator[Tick]:
        n = 0
        try:
            while True:
                yield Tick(n=n)
                n += 1
                await asyncio.sleep(0.05)
        finally:
            with open("stream-cleanup.log", "a") as log:
                log.write("cleaned up\\n")


class Plain:
    \"\"\"How OpenTelemetry and Sentry wrap an app: the wrapped app stays in ``.app``.\"\"\"

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        await self.app(scope, receive, send)


def rpc_app():
    return RPCApp(controllers=[PageController()], debug=True)


async def crash(request: Request):
    raise RuntimeError("secret detail")


wrapped = Plain(rpc_app())
starlette_middleware = Starlette(
    debug=True,
    routes=[Route("/crash", crash), Mount("/api", app=rpc_app())],
    middleware=[Middleware(Plain)],
)
nested = CORSMiddleware(
    Starlette(debug=True, routes=[Route("/crash", crash), Mount("/api", app=Plain(rpc_app()))]),
    allow_origins=["http://127.0.0.1"],
)
"""

VARIANTS = [("wrapped", ""), ("starlette_middleware", "/api"), ("nested", "/api")]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write(tmp_path / "wrapped_app.py", WRAPPED_APP)
    return tmp_path


def post(server: ServeProcess, path: str) -> httpx.Response | None:
    try:
        return httpx.post(server.url + path, json={}, headers={"accept": "text/html"}, timeout=2)
    except httpx.HTTPError:
        return None


@pytest.mark.parametrize(("attr", "prefix"), VARIANTS)
def test_serve_behind_middleware_closes_streams_and_shows_no_traceback(
    project: Path, attr: str, prefix: str
) -> None:
    server = ServeProcess(project, f"wrapped_app:{attr}")
    api = f"{prefix}/internal/api/PageController"
    try:
        wait_until(lambda: server.get(f"{api}/render"), 20, "belay serve to answer")
        boom = post(server, f"{api}/boom")
        assert boom is not None
        assert boom.status_code == 500
        assert "secret detail" not in boom.text
        assert "Traceback" not in boom.text
        if prefix:  # the outer Starlette app asked for debug=True as well
            crash = server.get("/crash")
            assert crash is not None
            assert crash.status_code == 500
            assert "secret detail" not in crash.text
            assert "Traceback" not in crash.text
        reader = StreamReader(server.url + f"{api}/ticks")
        wait_until(lambda: reader.data, 10, "a tick")
    finally:
        code, _ = server.stop()
    assert code == 0
    assert reader.ended.wait(30), "the stream was still open after the server exited"
    assert reader.error is None, f"the stream was cut instead of closed: {reader.error!r}"
    assert (project / "stream-cleanup.log").read_text() == "cleaned up\n"


@pytest.mark.parametrize("attr", ["wrapped", "nested"])
def test_codegen_finds_the_rpc_app_behind_middleware(project: Path, attr: str) -> None:
    result = run_belay(project, ["codegen", f"wrapped_app:{attr}", "--out", "generated"])
    assert result.returncode == 0, result.stderr
    generated = "".join(p.read_text() for p in (project / "generated").rglob("*.ts"))
    assert "ticks" in generated


def test_serve_on_a_busy_port_prints_one_line_and_exits_1(project: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = run_belay(project, ["serve", "wrapped_app:wrapped", "--bind", f"127.0.0.1:{port}"])
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines == [f"belay: cannot listen on 127.0.0.1:{port}: Address already in use"]


def listen_backlog(port: int) -> int | None:
    """The listening socket's backlog on ``port`` (``ss`` shows it as Send-Q), or None."""
    done = subprocess.run(
        ["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True, check=True
    )
    for line in done.stdout.splitlines():
        fields = line.split()
        if fields and fields[0] == "LISTEN":
            return int(fields[2])
    return None


@pytest.mark.skipif(shutil.which("ss") is None, reason="needs iproute2's ss to read the backlog")
@pytest.mark.parametrize(("extra", "expected"), [((), 2048), (("--backlog", "321"), 321)])
def test_serve_listens_with_a_production_backlog(
    project: Path, extra: tuple[str, ...], expected: int
) -> None:
    server = ServeProcess(project, "wrapped_app:wrapped", *extra)
    try:
        wait_until(lambda: server.get("/internal/api/PageController/render"), 20, "serve")
        assert listen_backlog(server.port) == expected
    finally:
        code, _ = server.stop()
    assert code == 0


def test_serve_refuses_a_backlog_below_1(project: Path) -> None:
    result = run_belay(project, ["serve", "wrapped_app:wrapped", "--backlog", "0"])
    assert result.returncode == 2
    assert "--backlog must be at least 1" in result.stderr
