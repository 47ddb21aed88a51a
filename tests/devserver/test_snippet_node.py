"""The browser snippet, run under Node with a minimal window shim, against the real dev front.

The server side is the app process's own :class:`DevFront` with its
:class:`Notifier`, served by hypercorn on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from devserver.coordinator import reload_message
from devserver.front import DevFront
from devserver.hosts import HostPolicy
from devserver.notify import Notifier
from tests.support.polling import wait_until
from tests.support.server import running_server, start_server

SNIPPET = Path(__file__).resolve().parents[2] / "devserver" / "static" / "belay-dev.js"

SHIM = """
const win = new EventTarget();
win.__BELAY_DEV_WS__ = process.argv[1];
globalThis.window = win;
globalThis.document = { currentScript: null };
globalThis.location = {
  href: "http://127.0.0.1/",
  reload() { console.log("RELOAD"); process.exit(0); },
};
if (process.argv[2] === "prevent") {
  win.addEventListener("belay:reload", (event) => {
    event.preventDefault();
    console.log("EVENT " + event.detail.modules.join(","));
    setTimeout(() => process.exit(0), 50);
  });
}
setTimeout(() => { console.log("TIMEOUT"); process.exit(1); }, 8000);
require("vm").runInThisContext(require("fs").readFileSync(process.argv[3], "utf8"));
"""

node = shutil.which("node")
pytestmark = pytest.mark.skipif(node is None, reason="node is not installed")


async def not_found(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 404, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def front() -> tuple[DevFront, Notifier]:
    notifier = Notifier(HostPolicy.build("127.0.0.1"))
    return DevFront(not_found, notifier, log=None), notifier


def start_node(url: str, mode: str) -> subprocess.Popen[str]:
    assert node is not None
    args = [node, "--experimental-websocket", "--no-warnings", "-e", SHIM, url, mode]
    return subprocess.Popen([*args, str(SNIPPET)], stdout=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen[str]) -> list[str]:
    try:
        out, _ = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
    return out.strip().splitlines()


@pytest.mark.parametrize(
    ("mode", "expected"), [("reload", "RELOAD"), ("prevent", "EVENT shop.base,shop.app")]
)
def test_snippet_reloads_or_hands_the_message_to_the_page(mode: str, expected: str) -> None:
    app, notifier = front()
    with running_server(app, graceful_timeout=0.1) as server:
        proc = start_node(server.base_url.replace("http://", "ws://") + "/__belay/dev", mode)
        try:
            wait_until(lambda: notifier.client_count == 1, 10, "the snippet to connect")
            message = reload_message(("shop.base", "shop.app"), (), restart=False)
            sent = asyncio.run_coroutine_threadsafe(notifier.broadcast(message), server.loop)
            assert sent.result(5) == 1
        finally:
            out = finish(proc)
    assert out == [expected]


def test_snippet_reconnects_to_a_restarted_server_and_reloads() -> None:
    first_app, first = front()
    server = start_server(first_app, graceful_timeout=0.1)
    proc = start_node(server.base_url.replace("http://", "ws://") + "/__belay/dev", "reload")
    try:
        try:
            wait_until(lambda: first.client_count == 1, 10, "the snippet to connect")
        finally:
            server.stop()
        second_app, _ = front()
        with running_server(second_app, port=server.port, graceful_timeout=0.1):
            out = finish(proc)  # it reconnects on the same port; the new server says reload
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
    assert out == ["RELOAD"]
