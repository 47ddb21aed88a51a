"""The browser snippet, run under Node with a minimal window shim, against the real notifier."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from pathlib import Path

import pytest

from devserver.coordinator import reload_message
from devserver.notify import Notifier
from tests.support.polling import wait_until
from tests.support.server import running_server

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


@pytest.mark.parametrize(
    ("mode", "expected"), [("reload", "RELOAD"), ("prevent", "EVENT shop.base,shop.app")]
)
def test_snippet_reloads_or_hands_the_message_to_the_page(mode: str, expected: str) -> None:
    notifier = Notifier()
    with running_server(notifier.app, graceful_timeout=0.1) as server:
        url = server.base_url.replace("http://", "ws://") + "/ws"
        assert node is not None
        proc = subprocess.Popen(
            [
                node,
                "--experimental-websocket",
                "--no-warnings",
                "-e",
                SHIM,
                url,
                mode,
                str(SNIPPET),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            wait_until(lambda: notifier.client_count == 1, 10, "the snippet to connect")
            message = reload_message(("shop.base", "shop.app"), (), restart=False)
            sent = asyncio.run_coroutine_threadsafe(notifier.broadcast(message), server.loop)
            assert sent.result(5) == 1
            out, _ = proc.communicate(timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate(timeout=5)
    assert out.strip().splitlines() == [expected]
