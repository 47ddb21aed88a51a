"""The ``belay`` verbs as a user runs them: help, bad targets, serve, codegen."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.devserver.devproc import (
    ServeProcess,
    StreamReader,
    alive,
    children_of,
    run_belay,
)
from tests.devserver.userpkg import write
from tests.support.polling import wait_until

APP = """
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route


async def hello(request):
    return PlainTextResponse("hello")


async def boom(request):
    raise RuntimeError("secret detail")

app = Starlette(routes=[Route("/", hello), Route("/boom", boom)])
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write(tmp_path / "site_app.py", APP)
    return tmp_path


@pytest.mark.parametrize(
    ("verb", "options"),
    [
        ("dev", ["--watch", "--codegen-out", "--port"]),
        ("serve", ["--bind", "--workers", "--backlog"]),
        ("codegen", ["--out"]),
        ("openapi", ["--out"]),
    ],
)
def test_cli_help_for_each_verb(project: Path, verb: str, options: list[str]) -> None:
    result = run_belay(project, [verb, "--help"])
    assert result.returncode == 0
    for option in options:
        assert option in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["dev", "nosuch_module:app"], "module 'nosuch_module' not found"),
        (["dev", "site_app:nope"], "attribute 'nope' not found in module 'site_app'"),
        (["dev", "site_app"], "expected MODULE:ATTR"),
        (["serve", "site_app:nope"], "attribute 'nope' not found in module 'site_app'"),
        (["codegen", "nosuch_module:app", "--out", "x"], "module 'nosuch_module' not found"),
    ],
)
def test_cli_wrong_target_exits_2_with_one_line(
    project: Path, args: list[str], message: str
) -> None:
    if args[0] == "dev":
        args = [*args, "--port", "0"]
    result = run_belay(project, args)
    assert result.returncode == 2, result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0]


@pytest.mark.parametrize("workers", [1, 2])
def test_cli_serve_runs_hypercorn_without_tracebacks(project: Path, workers: int) -> None:
    server = ServeProcess(project, "site_app:app", "--workers", str(workers))
    try:
        response = wait_until(lambda: server.get("/"), 20, "belay serve to answer")
        assert response.text == "hello"
        boom = server.get("/boom")
        assert boom is not None
        assert boom.status_code == 500
        assert "secret detail" not in boom.text
        assert "Traceback" not in boom.text
        if workers > 1:
            wait_until(lambda: len(children_of(server.proc.pid)) >= workers, 20, "workers")
    finally:
        code, started = server.stop()
    assert code == 0
    wait_until(lambda: not any(alive(pid) for pid in started), 5, "workers to exit")


RPC_APP = """
import asyncio
from collections.abc import AsyncIterator

from pydantic import BaseModel
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
    async def echo(self, text: str) -> str:
        return text

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


app = RPCApp(controllers=[PageController()])
"""


def test_cli_codegen_writes_client_then_nothing(tmp_path: Path) -> None:
    write(tmp_path / "page_app.py", RPC_APP)
    first = run_belay(tmp_path, ["codegen", "page_app:app", "--out", "generated"])
    assert first.returncode == 0, first.stderr
    assert (tmp_path / "generated" / "index.ts").exists()
    assert "echo" in "".join(p.read_text() for p in (tmp_path / "generated").rglob("*.ts"))
    second = run_belay(tmp_path, ["codegen", "page_app:app", "--out", "generated"])
    assert second.returncode == 0, second.stderr
    assert "0 file(s) changed" in second.stdout


def test_cli_codegen_from_a_saved_description_never_imports_the_app(tmp_path: Path) -> None:
    write(tmp_path / "page_app.py", RPC_APP)
    args = ["codegen", "page_app:app", "--out", "live", "--save-description", "app.json"]
    saved = run_belay(tmp_path, [*args, "--react"])
    assert saved.returncode == 0, saved.stderr
    (tmp_path / "page_app.py").unlink()  # importing the app would now fail
    loaded = run_belay(tmp_path, ["codegen", "app.json", "--out", "loaded", "--react"])
    assert loaded.returncode == 0, loaded.stderr
    live = sorted((tmp_path / "live").rglob("*.ts"))
    assert len(live) > 4
    assert tmp_path / "live" / "react.ts" in live
    for path in live:
        twin = tmp_path / "loaded" / path.relative_to(tmp_path / "live")
        assert twin.read_bytes() == path.read_bytes()


def test_cli_codegen_from_a_broken_description_names_the_problem(tmp_path: Path) -> None:
    (tmp_path / "app.json").write_text('{"prefix": "/api"}')
    broken = run_belay(tmp_path, ["codegen", "app.json", "--out", "out"])
    assert broken.returncode == 1
    assert "not a Belay app description" in broken.stderr
    missing = run_belay(tmp_path, ["codegen", "nothing.json", "--out", "out"])
    assert missing.returncode == 1
    assert "nothing.json" in missing.stderr
    assert not (tmp_path / "out").exists()


def test_cli_dev_port_in_use_exits_1(project: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = run_belay(project, ["dev", "site_app:app", "--port", str(port)])
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stdout


def test_cli_serve_shutdown_closes_open_streams_promptly(tmp_path: Path) -> None:
    write(tmp_path / "page_app.py", RPC_APP)
    server = ServeProcess(tmp_path, "page_app:app")
    try:
        wait_until(lambda: server.get("/internal/api/PageController/render"), 20, "serve")
        reader = StreamReader(server.url + "/internal/api/PageController/ticks", timeout=10)
        wait_until(lambda: reader.data, 5, "a tick")
    finally:
        code, _ = server.stop()  # bench/bench_shutdown.py reports how fast this is
    assert code == 0
    assert (tmp_path / "stream-cleanup.log").read_text() == "cleaned up\n"
    reader.ended.wait(5)
