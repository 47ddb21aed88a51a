"""The ``belay`` verbs as a user runs them: help, bad targets, serve, codegen."""

from __future__ import annotations

import signal
import socket
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.devserver.devproc import BELAY, REPO, run_belay, wait_until
from tests.devserver.userpkg import write

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
        ("serve", ["--bind", "--workers"]),
        ("codegen", ["--out"]),
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_cli_serve_runs_hypercorn_without_tracebacks(project: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [*BELAY, "serve", "site_app:app", "--bind", f"127.0.0.1:{port}"],
        cwd=project,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"

    def get(path: str) -> httpx.Response | None:
        try:
            return httpx.get(url + path, headers={"accept": "text/html"}, timeout=2)
        except httpx.HTTPError:
            return None

    try:
        response = wait_until(lambda: get("/"), 20, "belay serve to answer")
        assert isinstance(response, httpx.Response)
        assert response.text == "hello"
        boom = get("/boom")
        assert boom is not None
        assert boom.status_code == 500
        assert "secret detail" not in boom.text
        assert "Traceback" not in boom.text
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            assert proc.wait(15) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(5)


RPC_APP = """
from rpc import ControllerBase, RPCApp, RenderBase, passthrough


class PageState(RenderBase):
    title: str


class PageController(ControllerBase):
    url = "/"

    async def render(self) -> PageState:
        return PageState(title="hi")

    @passthrough
    async def echo(self, text: str) -> str:
        return text


app = RPCApp(controllers=[PageController()])
"""


def test_cli_codegen_writes_client_then_nothing(tmp_path: Path) -> None:
    pytest.importorskip("rpc")
    write(tmp_path / "page_app.py", RPC_APP)
    first = run_belay(tmp_path, ["codegen", "page_app:app", "--out", "generated"])
    assert first.returncode == 0, first.stderr
    assert (tmp_path / "generated" / "index.ts").exists()
    assert "echo" in "".join(p.read_text() for p in (tmp_path / "generated").rglob("*.ts"))
    second = run_belay(tmp_path, ["codegen", "page_app:app", "--out", "generated"])
    assert second.returncode == 0, second.stderr
    assert "0 file(s) changed" in second.stdout


def test_cli_dev_port_in_use_exits_1(project: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = run_belay(project, ["dev", "site_app:app", "--port", str(port)])
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stdout
