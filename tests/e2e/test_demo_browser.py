"""The demo room in a real headless Chromium: two tabs, sideeffects, the live stream, a typed error.

Needs Debian's ``chromium`` (``scripts/test`` installs it when it runs as root
with apt) and the Python ``playwright`` package (the ``browser`` extra), which
drives the system browser: nothing is downloaded.
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.browser import launch_chromium, playwright_or_skip
from tests.support.server import ServerHandle, running_server

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "rooms"
ARTIFACTS = ROOT / "test-artifacts"
playwright_api = playwright_or_skip()

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def build_frontend() -> None:
    """Generate the client and bundle the page, as scripts/demo does."""
    from codegen import generate_client
    from examples.rooms.app import api
    from rpc.description import describe_app

    generate_client(describe_app(api), DEMO / "frontend" / "generated")
    esbuild = ROOT / "node_modules" / ".bin" / "esbuild"
    subprocess.run(
        [
            str(esbuild),
            str(DEMO / "frontend" / "main.ts"),
            "--bundle",
            "--format=esm",
            "--log-level=warning",
            f"--outfile={DEMO / 'static' / 'app.js'}",
        ],
        check=True,
        timeout=60,
    )


@pytest.fixture(scope="module")
def demo_server() -> Iterator[ServerHandle]:
    build_frontend()
    from examples.rooms.app import app

    with running_server(app, graceful_timeout=0.5) as server:
        yield server


def test_demo_two_tabs_share_counter_messages_and_errors(demo_server: ServerHandle) -> None:
    room = f"test-{uuid.uuid4().hex[:8]}"
    url = f"{demo_server.base_url}/rooms/{room}"
    ARTIFACTS.mkdir(exist_ok=True)
    with playwright_api.sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            first, second = browser.new_page(), browser.new_page()
            for page in (first, second):
                page.goto(url)
                playwright_api.expect(page.locator("#connection")).to_have_text("live")
                playwright_api.expect(page.locator("#count")).to_have_text("0")

            first.click("#increment")
            first.click("#increment")
            for page in (first, second):
                playwright_api.expect(page.locator("#count")).to_have_text("2")

            first.fill("#author", "ada")
            first.fill("#text", "hello from tab one")
            first.click("#post button[type=submit]")
            playwright_api.expect(second.locator("#messages li")).to_have_text(
                ["adahello from tab one"]
            )
            playwright_api.expect(second.locator("#events li").first).to_have_text(
                "message from ada"
            )

            second.fill("#text", "x" * 250)
            second.click("#post button[type=submit]")
            error = second.locator("#error")
            playwright_api.expect(error).to_be_visible()
            playwright_api.expect(error).to_have_text(
                "message is too long: 250 characters, limit 200"
            )
            playwright_api.expect(first.locator("#messages li")).to_have_count(1)

            second.screenshot(path=str(ARTIFACTS / "demo-room.png"), full_page=True)
        finally:
            browser.close()
    assert (ARTIFACTS / "demo-room.png").stat().st_size > 0
