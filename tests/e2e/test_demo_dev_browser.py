"""The demo under a real ``belay dev``, in Chromium: a Python save, and an app-process restart.

Each test copies the built demo into its own project folder (so it may edit
it) with its own SQLite file, runs ``belay dev`` there, and drives two tabs.
After a save the tabs must still see each other's updates (their streams
moved to the new code); after the app process dies and is replaced, a tab must
stop saying "live", get a reset on reconnect, and show the state as stored,
including what happened while it was away.
"""

from __future__ import annotations

import os
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.devserver.devproc import DevProcess
from tests.e2e.demo_processes import API, build_frontend, copy_demo
from tests.support.browser import launch_chromium, playwright_or_skip

playwright_or_skip()
from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

LIVE = "live"
RECONNECTING = "reconnecting…"
RESET_LINE = "reset: state reloaded"


@pytest.fixture(scope="module")
def built() -> None:
    build_frontend()


@pytest.fixture
def project(built: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    copy_demo(tmp_path)
    monkeypatch.setenv("BELAY_ROOMS_DB", str(tmp_path / "rooms.db"))
    monkeypatch.delenv("BELAY_BROKER_URL", raising=False)  # memory://, one process
    return tmp_path


@pytest.fixture
def dev(project: Path) -> Iterator[DevProcess]:
    process = DevProcess(project, ["examples.rooms.app:app", "--watch", "examples/rooms"])
    try:
        process.wait_serving(timeout=60)
        yield process
    finally:
        process.stop()


@pytest.fixture
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = launch_chromium(playwright)
        try:
            yield launched
        finally:
            launched.close()


def open_room(browser: Browser, url: str) -> Page:
    """A tab on ``url`` in its own browser context, once its stream is live."""
    page = browser.new_context().new_page()
    page.goto(url)
    expect(page.locator("#connection")).to_have_text(LIVE)
    return page


def call(base_url: str, room: str, action: str, **body: str) -> None:
    """An action from outside the browser (another client)."""
    response = httpx.post(
        f"{base_url}{API}/{action}",
        params={"room": room},
        json=body or None,
        headers={"x-belay-page": f"/rooms/{room}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text


def test_demo_tabs_still_see_each_other_after_a_python_save(
    dev: DevProcess, project: Path, browser: Browser
) -> None:
    room = f"save-{uuid.uuid4().hex[:8]}"
    first = open_room(browser, f"{dev.url}/rooms/{room}")
    second = open_room(browser, f"{dev.url}/rooms/{room}")
    first.click("#increment")
    for page in (first, second):
        expect(page.locator("#count")).to_have_text("1")

    start = len(dev.lines)
    controllers = project / "examples" / "rooms" / "controllers.py"
    controllers.write_text(controllers.read_text() + "\n# saved by the test\n")
    dev.wait_for_line(r"reloaded .*examples\.rooms\.controllers", timeout=30, start=start)

    # The old code's streams were closed; both tabs follow the new code's channel.
    second.click("#increment")
    for page in (first, second):
        expect(page.locator("#count")).to_have_text("2")
        expect(page.locator("#connection")).to_have_text(LIVE)
    first.fill("#author", "ada")
    first.fill("#text", "after the save")
    first.click("#post button[type=submit]")
    expect(second.locator("#messages li")).to_have_text(["adaafter the save"])
    second.fill("#author", "bob")
    second.fill("#text", "me too")
    second.click("#post button[type=submit]")
    expect(first.locator("#messages li")).to_have_text(["adaafter the save", "bobme too"])


def test_demo_tab_resets_to_the_stored_state_after_an_app_process_restart(
    dev: DevProcess, browser: Browser
) -> None:
    room = f"restart-{uuid.uuid4().hex[:8]}"
    page = open_room(browser, f"{dev.url}/rooms/{room}")
    call(dev.url, room, "increment")
    expect(page.locator("#count")).to_have_text("1")  # an event: the tab has a position

    # The tab loses the network, then the app process dies; belay dev replaces it.
    page.context.set_offline(True)
    pid = int(dev.wait_for_line(r"app process (\d+)").group(1))
    start = len(dev.lines)
    os.kill(pid, signal.SIGKILL)
    dev.wait_for_line(r"restarted the app process", timeout=30, start=start)
    expect(page.locator("#connection")).to_have_text(RECONNECTING)

    # While the tab is away, the new process numbers its events from its own epoch.
    call(dev.url, room, "increment")
    call(dev.url, room, "increment")
    call(dev.url, room, "post_message", author="bob", text="while you were away")
    expect(page.locator("#connection")).to_have_text(RECONNECTING)  # never a stale "live"

    page.context.set_offline(False)
    expect(page.locator("#connection")).to_have_text(LIVE)
    expect(page.locator("#events li", has_text=RESET_LINE)).to_have_count(1)
    expect(page.locator("#count")).to_have_text("3")
    expect(page.locator("#messages li")).to_have_text(["bobwhile you were away"])

    # And it is live again: the next event arrives as an event.
    call(dev.url, room, "increment")
    expect(page.locator("#count")).to_have_text("4")
    expect(page.locator("#events li").first).to_have_text("count → 4")
