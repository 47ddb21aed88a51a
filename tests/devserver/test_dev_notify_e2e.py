"""``belay dev``'s browser channel and front door, end to end with real processes.

The notify websocket lives on the app's own port (``/__belay/dev``): a client
reconnects there after the app process is replaced and after ``belay dev``
itself restarts. A foreign ``Host`` is refused on every route (DNS rebinding),
a foreign ``Origin`` on the websocket; reload messages carry project-relative
paths; ``--reload-on`` files reload browsers; every request gets a log line.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.devserver.devproc import DevProcess, StreamReader, children_of, run_belay
from tests.devserver.userpkg import write
from tests.support.polling import wait_until
from tests.support.ports import free_port

pytest.importorskip("rpc")
pytest.importorskip("websockets")

from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Origin

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

APP = """
import asyncio
import os
from collections.abc import AsyncIterator

from pydantic import BaseModel
from rpc import ControllerBase, RenderBase, RPCApp, passthrough

from site_app import base


class PageState(RenderBase):
    value: str


class Tick(BaseModel):
    n: int


class PageController(ControllerBase):
    url = "/pages/{name}"

    async def render(self, name: str) -> PageState:
        if name == "broken":
            raise RuntimeError("render exploded")
        return PageState(value=base.VALUE)

    @passthrough
    async def echo(self, text: str) -> str:
        return text

    @passthrough
    async def die(self) -> int:
        os._exit(3)

    @passthrough
    async def ticks(self) -> AsyncIterator[Tick]:
        n = 0
        while True:
            yield Tick(n=n)
            n += 1
            await asyncio.sleep(0.05)


app = RPCApp(controllers=[PageController()])
"""

API = "/internal/api/PageController"
PAGE = {"x-belay-page": "/pages/a"}


def make_project(root: Path) -> Path:
    write(root / "site_app" / "__init__.py", "")
    write(root / "site_app" / "base.py", "VALUE = 'one'\n")
    write(root / "site_app" / "app.py", APP)
    (root / "static").mkdir(exist_ok=True)
    return root


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_project(tmp_path_factory.mktemp("notifyproject"))


@pytest.fixture(scope="module")
def dev(project: Path) -> Iterator[DevProcess]:
    args = ["site_app.app:app", "--allowed-host", "dev.test", "--reload-on", "static/"]
    process = DevProcess(project, args)
    try:
        process.wait_serving()
        yield process
    finally:
        process.stop()


def ws_url(dev: DevProcess, query: str = "") -> str:
    return dev.url.replace("http://", "ws://") + "/__belay/dev" + query


def receive(socket_: ClientConnection, timeout: float = 10.0) -> dict[str, Any]:
    message = json.loads(socket_.recv(timeout=timeout))
    assert isinstance(message, dict)
    return message


def raw_status(dev: DevProcess, request: str) -> tuple[int, str]:
    """Send a raw HTTP/1.1 request; the status code and the body (for upgrade requests)."""
    host, port = dev.url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as conn:
        conn.sendall(request.encode())
        data = b""
        while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
            chunk = conn.recv(4096)
            if not chunk:
                break
            data += chunk
    head, _, body = data.decode("latin-1").partition("\r\n\r\n")
    return int(head.split()[1]), body


def test_foreign_host_is_refused_on_every_route(dev: DevProcess) -> None:
    mark = len(dev.lines)
    evil = {"host": "rebind.attacker.example"}
    calls = [
        httpx.get(dev.url + f"{API}/render", headers={**PAGE, **evil}),
        httpx.get(
            dev.url + f"{API}/render",
            headers={"x-belay-page": "/pages/broken", "accept": "text/html", **evil},
        ),
        httpx.post(dev.url + f"{API}/echo", params={"text": "x"}, json={}, headers=evil),
        httpx.post(dev.url + f"{API}/ticks", json={}, headers=evil, timeout=5),
        httpx.get(dev.url + "/__belay/dev.js", headers=evil),
        httpx.get(dev.url + "/anything", headers={"host": "rebind.attacker.example:8000"}),
    ]
    for response in calls:
        assert response.status_code == 403, response.text
        assert response.json()["error"]["code"] == "forbidden_host"
        assert "rebind.attacker.example" in response.json()["error"]["message"]
        assert "render exploded" not in response.text
    upgrade = (
        "GET /__belay/dev HTTP/1.1\r\nHost: rebind.attacker.example\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    )
    status, body = raw_status(dev, upgrade)
    assert status == 403
    assert json.loads(body)["error"]["code"] == "forbidden_host"
    refused = r"POST /internal/api/PageController/echo 403 0 ms \(Host rebind\.attacker\.example"
    dev.wait_for_line(refused, start=mark)


def test_own_and_allowed_hosts_are_served(dev: DevProcess) -> None:
    port = dev.url.rsplit(":", 1)[1]
    for host in ["localhost", f"localhost:{port}", "127.0.0.1", f"[::1]:{port}", "[::1]"]:
        response = httpx.get(dev.url + f"{API}/render", headers={**PAGE, "host": host})
        assert response.json() == {"value": "one"}, host
    for host in ["dev.test", "DEV.test:9999", "app.localhost"]:
        response = httpx.get(dev.url + f"{API}/render", headers={**PAGE, "host": host})
        assert response.status_code == 200, host
    response = httpx.get(dev.url + f"{API}/render", headers={**PAGE, "host": "sub.dev.test"})
    assert response.status_code == 403


def test_notify_websocket_accepts_only_the_apps_own_origins(dev: DevProcess) -> None:
    port = dev.url.rsplit(":", 1)[1]
    for origin in ["https://attacker.example", "null", "http://dev.test.attacker.example"]:
        with pytest.raises(InvalidStatus) as refused:
            connect(ws_url(dev), origin=Origin(origin), open_timeout=5)
        assert refused.value.response.status_code == 403, origin
    allowed = [f"http://127.0.0.1:{port}", "http://localhost:5173", "http://dev.test"]
    for own in [*allowed, None]:
        header = None if own is None else Origin(own)
        with connect(ws_url(dev), origin=header, open_timeout=5) as client:
            assert receive(client)["type"] == "hello", own


def test_reload_messages_carry_project_relative_paths(dev: DevProcess, project: Path) -> None:
    with connect(ws_url(dev), open_timeout=5) as client:
        assert receive(client)["type"] == "hello"
        mark = len(dev.lines)
        write(project / "static" / "app.js", "console.log(1);\n")
        message = receive(client)
        dev.wait_for_line(r"static/app\.js changed; reloading browsers", start=mark)
    assert message == {
        "type": "reload",
        "modules": [],
        "codegen": [],
        "restart": False,
        "files": ["static/app.js"],
    }
    assert str(project) not in json.dumps(message)


def test_tab_reconnects_after_the_app_process_is_replaced(dev: DevProcess, project: Path) -> None:
    with connect(ws_url(dev), open_timeout=5) as client:
        hello = receive(client)
        mark = len(dev.lines)
        with pytest.raises(httpx.HTTPError):
            httpx.post(dev.url + f"{API}/die", json={}, timeout=5)
        with pytest.raises(ConnectionClosed):
            client.recv(timeout=10)  # the old process and its socket are gone
    dev.wait_for_line(r"restarted the app process", start=mark)

    def reconnect() -> ClientConnection | None:
        try:
            return connect(ws_url(dev, f"?last={hello['id']}"), open_timeout=2)
        except (OSError, InvalidStatus):
            return None

    again = wait_until(reconnect, 10, "the tab to reconnect on the same port")
    assert isinstance(again, ClientConnection)
    with again:
        first = receive(again)
        assert first["type"] == "reload"
        assert first["restart"] is True
        assert first["id"] != hello["id"]
        write(project / "site_app" / "base.py", "VALUE = 'two'\n")
        after = receive(again)
    assert after["type"] == "reload"
    assert after["modules"] == ["site_app.base", "site_app.app"]
    assert after["restart"] is False


def test_request_log_without_favicon_noise(dev: DevProcess) -> None:
    mark = len(dev.lines)
    assert httpx.get(dev.url + "/favicon.ico").status_code == 404
    httpx.post(dev.url + f"{API}/echo", params={"text": "x"}, json={})
    httpx.get(dev.url + "/no/such/page%0Abelay: forged")
    line = dev.wait_for_line(rf"POST {API}/echo 200 \d+ ms", start=mark)
    assert line.group(0)
    dev.wait_for_line(r"GET /no/such/page%0Abelay:%20forged 404 \d+ ms", start=mark)
    assert not any("favicon" in text for text in dev.lines[mark:])
    assert not any(text.startswith("belay: forged") for text in dev.lines[mark:])


def test_version(project: Path) -> None:
    result = run_belay(project, ["--version"])
    assert result.returncode == 0
    assert result.stdout.startswith("belay ")
    assert result.stdout.split()[1][0].isdigit()


def test_tab_reconnects_after_belay_dev_restarts(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    port = free_port()
    first = DevProcess(root, ["site_app.app:app"], port=port)
    try:
        first.wait_serving()
        with connect(ws_url(first), open_timeout=5) as client:
            hello = receive(client)
            assert first.stop() == 0
            with pytest.raises(ConnectionClosed):
                client.recv(timeout=10)
    finally:
        first.stop()
    second = DevProcess(root, ["site_app.app:app"], port=port)
    try:
        second.wait_serving()
        assert second.url == first.url
        with connect(ws_url(second, f"?last={hello['id']}"), open_timeout=5) as client:
            message = receive(client)
        assert message["type"] == "reload"
        assert message["restart"] is True
    finally:
        second.stop()


def test_ctrl_c_with_open_streams_and_sockets_exits_cleanly(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    dev = DevProcess(root, ["site_app.app:app"])
    try:
        dev.url = dev.wait_serving()
        streams = [StreamReader(dev.url + f"{API}/ticks", timeout=10) for _ in range(3)]
        with contextlib.ExitStack() as stack:
            sockets = [stack.enter_context(connect(ws_url(dev), open_timeout=5)) for _ in range(3)]
            for client in sockets:
                assert receive(client)["type"] == "hello"
            idle = stack.enter_context(httpx.Client())
            idle.get(dev.url + f"{API}/render", headers=PAGE)  # a kept-alive idle connection
            wait_until(lambda: any(stream.lines for stream in streams), 10, "a tick")
            # Ctrl-C in a terminal signals belay dev's whole process group.
            group = os.getpgid(dev.proc.pid)
            for pid in [*children_of(dev.proc.pid), dev.proc.pid]:
                with contextlib.suppress(ProcessLookupError):  # a spare may just have exited
                    if os.getpgid(pid) == group:
                        os.kill(pid, signal.SIGINT)
            code = dev.proc.wait(15)
    finally:
        dev.stop()
    assert code == 0, dev.output
    assert "Traceback" not in dev.output
    assert "CancelledError" not in dev.output
