"""The demo room in a real headless Chromium: two tabs, sideeffects, the live stream, a typed error.

Served by a real ``belay serve`` on its own database file. Needs Debian's
``chromium`` and the ``playwright`` package (see ``tests.support.browser``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.e2e.demo_processes import ROOT, BelayServe, build_frontend
from tests.support.browser import launch_chromium, playwright_or_skip

playwright_or_skip()
from playwright.sync_api import expect, sync_playwright  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BelayServe]:
    build_frontend()
    folder = tmp_path_factory.mktemp("demo")
    env = {"BELAY_ROOMS_DB": str(folder / "rooms.db"), "BELAY_BROKER_URL": "memory://"}
    server = BelayServe(ROOT, env, workers=1, log=folder / "serve.log")
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def test_demo_two_tabs_share_counter_messages_and_errors(demo_server: BelayServe) -> None:
    room = f"test-{uuid.uuid4().hex[:8]}"
    url = f"{demo_server.url}/rooms/{room}"
    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / "demo-room.png"
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            first, second = browser.new_page(), browser.new_page()
            for page in (first, second):
                page.goto(url)
                expect(page.locator("#connection")).to_have_text("live")
                expect(page.locator("#count")).to_have_text("0")

            first.click("#increment")
            first.click("#increment")
            for page in (first, second):
                expect(page.locator("#count")).to_have_text("2")

            first.fill("#author", "ada")
            first.fill("#text", "hello from tab one")
            first.click("#post button[type=submit]")
            expect(second.locator("#messages li")).to_have_text(["adahello from tab one"])
            expect(second.locator("#events li").first).to_have_text("message from ada")

            second.fill("#text", "x" * 250)
            second.click("#post button[type=submit]")
            error = second.locator("#error")
            expect(error).to_be_visible()
            expect(error).to_have_text("message is too long: 250 characters, limit 200")
            expect(first.locator("#messages li")).to_have_count(1)

            second.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    assert screenshot.stat().st_size > 0
