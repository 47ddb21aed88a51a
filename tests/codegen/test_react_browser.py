"""react.ts in a real headless Chromium: a small React page in StrictMode, bundled by esbuild.

React comes from npm into the test's own cache (tests/codegen/frontend.py), never
into the runtime. The page runs against a live hypercorn serving the fixture
app, with ``/live`` answered by a hand-written SSE endpoint (tests/codegen/scripted.py)
that counts its open connections, so a subscription leaked by StrictMode's
mount-unmount-mount would show.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from codegen import generate_client
from rpc.description import describe_app
from tests.codegen.fixture_app import build_app
from tests.codegen.frontend import frontend_dir
from tests.codegen.node import ROOT, run_tsc
from tests.codegen.scripted import ASGIApp, Message, Receive, ScriptedStreams, Send
from tests.support.browser import launch_chromium, playwright_or_skip
from tests.support.server import running_server

PAGE = Path(__file__).resolve().parent / "react" / "main.tsx"
INDEX = (
    b'<!doctype html><html><body><div id="root"></div>'
    b'<script type="module" src="/app.js"></script></body></html>'
)

playwright_api = playwright_or_skip()

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


class PageServer:
    """Serves the page (``/``, ``/app.js``) and hands everything else to the app."""

    def __init__(self, app: ASGIApp, bundle: Path) -> None:
        self.app = app
        self.bundle = bundle

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        files = {"/": (INDEX, b"text/html"), "/app.js": (None, b"text/javascript")}
        if scope["type"] != "http" or scope["path"] not in files:
            await self.app(scope, receive, send)
            return
        body, kind = files[scope["path"]]
        data = body if body is not None else self.bundle.read_bytes()
        headers = [(b"content-type", kind), (b"cache-control", b"no-store")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": data})


def build_page(root: Path) -> Path:
    """Generate the client with react.ts, type-check the page, bundle it; the bundle path."""
    modules = frontend_dir() / "node_modules"
    page = root / "page"
    generate_client(describe_app(build_app()), page / "generated", react=True)
    shutil.copyfile(PAGE, page / "main.tsx")
    (page / "node_modules").symlink_to(modules)
    flags = ("--jsx", "react-jsx", "--lib", "es2022,dom,dom.iterable")
    assert run_tsc([page / "main.tsx"], out_dir=None, extra=flags, node_types=False) == ""
    bundle = root / "app.js"
    esbuild = ROOT / "node_modules" / ".bin" / "esbuild"
    subprocess.run(
        [
            *(str(esbuild), str(page / "main.tsx"), "--bundle", "--format=esm", "--jsx=automatic"),
            *('--define:process.env.NODE_ENV="development"', "--log-level=warning"),
            f"--outfile={bundle}",
        ],
        check=True,
        timeout=120,
    )
    return bundle


def wait_for(check: Callable[[], bool], what: str) -> None:
    """Poll ``check`` under a 15 s watchdog."""
    deadline = time.monotonic() + 15
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached: {what}")
        time.sleep(0.02)


def test_react_hooks_in_chromium_strict_mode(tmp_path: Path) -> None:
    bundle = build_page(tmp_path)
    scripted = ScriptedStreams(build_app(), live_holds=True)
    expect: Any = playwright_api.expect
    with (
        running_server(PageServer(scripted, bundle), graceful_timeout=0.5) as server,
        playwright_api.sync_playwright() as playwright,
    ):
        browser = launch_chromium(playwright)
        try:
            page = browser.new_page()
            page.goto(server.base_url + "/")
            expect(page.locator("#live-count")).to_have_text("11")  # full 10, then +1 merged
            expect(page.locator("#live-status")).to_have_text("open")
            expect(page.locator("#ticks")).to_have_text("0,1,2")
            expect(page.locator("#ticks-status")).to_have_text("closed")
            expect(page.locator("#failing")).to_have_text("0,1")
            expect(page.locator("#failing-error")).to_have_text("RoomFull 2")
            expect(page.locator("#plain-count")).to_have_text("0")
            page.click("#add")
            expect(page.locator("#plain-count")).to_have_text("2")
            expect(page.locator("#plain-error")).to_have_text("")

            # StrictMode mounts the live hook twice; the first mount's request is
            # aborted by its cleanup (often before it is even sent): one stays open.
            live = [r for r in scripted.requests if r.script == "live"]
            assert 1 <= len(live) <= 2, len(live)
            assert all(r.headers.get("x-belay-page") == "/rooms/lobby" for r in live)
            wait_for(lambda: scripted.open_live == 1, "exactly one open /live connection")

            page.click("#toggle")  # unmount the live counter: its connection closes
            expect(page.locator("#hidden")).to_be_visible()
            wait_for(lambda: scripted.open_live == 0, "no open /live connection after unmount")
        finally:
            browser.close()
