"""The demo room in a real headless Chromium: two tabs, sideeffects, the live stream, a typed error.

Served by a real ``belay serve`` on its own database file. Needs Debian's
``chromium`` and the ``playwright`` package (see ``tests.support.browser``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.demo_processes import API, ROOT, BelayServe, serving_demo
from tests.support.browser import launch_chromium, playwright_or_skip

playwright_or_skip()
from playwright.sync_api import expect, sync_playwright  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BelayServe]:
    with serving_demo(tmp_path_factory.mktemp("demo")) as server:
        yield server


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


def test_demo_two_tabs_stay_equal_after_20_mixed_clicks_through_live_state(
    demo_server: BelayServe,
) -> None:
    room = f"mixed-{uuid.uuid4().hex[:8]}"
    url = f"{demo_server.url}/rooms/{room}"
    increments, posted = 0, []
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            tabs = [browser.new_page(), browser.new_page()]
            live_requests: list[str] = []
            for tab in tabs:
                tab.on("request", lambda request: live_requests.append(request.url))
                tab.goto(url)
                expect(tab.locator("#connection")).to_have_text("live")
            for click in range(20):
                tab = tabs[click % 2]  # both tabs, alternating, without waiting for the other
                if click % 3 == 2:
                    text = f"note {click}"
                    tab.fill("#text", text)
                    tab.click("#post button[type=submit]")
                    expect(tab.locator("#text")).to_have_value("")  # sent before the next fill
                    posted.append(text)
                else:
                    tab.click("#increment")
                    increments += 1
            stored = httpx.get(
                f"{demo_server.url}{API}/render", headers={"x-belay-page": f"/rooms/{room}"}
            ).json()
            assert sorted(m["text"] for m in stored["messages"]) == sorted(posted)
            shown = [f"guest{m['text']}" for m in stored["messages"]]  # author, then text
            for tab in tabs:
                expect(tab.locator("#count")).to_have_text(str(increments))
                expect(tab.locator("#messages li")).to_have_text(shown)
                expect(tab.locator("#connection")).to_have_text("live")
            # Both tabs follow the room's live state.
            assert sum(u.endswith(f"{API}/live") for u in live_requests) >= 2
        finally:
            browser.close()
