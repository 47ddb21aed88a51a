"""The demo's "Import 100 messages" (a streaming, broadcast sideeffect) in a real Chromium.

Served by a real ``belay serve`` on its own database file. Needs Debian's
``chromium`` and the ``playwright`` package (see ``tests.support.browser``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.e2e.demo_processes import ROOT, BelayServe, serving_demo
from tests.support.browser import launch_chromium, playwright_or_skip

playwright_or_skip()
from playwright.sync_api import expect, sync_playwright  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ARTIFACTS = ROOT / "test-artifacts"

# Records every value the progress bar takes (a MutationObserver on its attribute).
WATCH_PROGRESS = """() => {
  const bar = document.getElementById("import-progress");
  window.progressSeen = [];
  new MutationObserver((records) => {
    for (const record of records) window.progressSeen.push(Number(bar.getAttribute("value")));
  }).observe(bar, { attributes: true, attributeFilter: ["value"] });
}"""


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BelayServe]:
    with serving_demo(tmp_path_factory.mktemp("demo")) as server:
        yield server


def test_demo_import_shows_progress_then_the_messages_in_both_tabs(
    demo_server: BelayServe,
) -> None:
    room = f"import-{uuid.uuid4().hex[:8]}"
    url = f"{demo_server.url}/rooms/{room}"
    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / "demo-import.png"
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            first, second = browser.new_page(), browser.new_page()
            for page in (first, second):
                page.goto(url)
                expect(page.locator("#connection")).to_have_text("live")
            first.evaluate(WATCH_PROGRESS)

            first.click("#import")
            expect(first.locator("#import-status")).to_have_text("imported 100 messages")
            expect(first.locator("#import-progress")).to_have_attribute("value", "100")
            expect(first.locator("#import")).to_be_enabled()
            # the new state (this tab's answer; the other tab's live frame) holds the
            # room's latest 50 messages; the events log got every published one
            for page in (first, second):
                shown = page.locator("#messages li")
                expect(shown).to_have_count(50)
                expect(shown.first).to_have_text("importerimported message 51 of 100")
                expect(shown.last).to_have_text("importerimported message 100 of 100")
                logged = page.locator("#events li", has_text="message from importer")
                expect(logged).to_have_count(100)
            expect(first.locator("#error")).to_be_hidden()
            seen: list[float] = first.evaluate("() => window.progressSeen")
            first.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    # the bar went up step by step, never backwards, and ended full
    assert seen[0] == 0  # reset when the import started
    assert seen[-1] == 100
    assert seen == sorted(seen)
    assert len(set(seen)) > 2
    assert screenshot.stat().st_size > 0
