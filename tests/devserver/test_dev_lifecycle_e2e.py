"""``belay dev`` process lifecycle: broken at start, Ctrl-C, and a supervisor killed hard."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import httpx
import pytest

from tests.devserver.devproc import DevProcess, alive, children_of
from tests.devserver.userpkg import write
from tests.support.polling import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

APP = """
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

VALUE = {value!r}


async def value(request):
    return PlainTextResponse(VALUE)

app = Starlette(routes=[Route("/value", value)])
"""


def test_dev_broken_at_start_recovers_on_save(tmp_path: Path) -> None:
    write(tmp_path / "web" / "__init__.py", "")
    write(tmp_path / "web" / "app.py", "raise RuntimeError('not yet')\n")
    dev = DevProcess(tmp_path, ["web.app:app"])
    try:
        dev.wait_for_line(r"error: web/app\.py:1: RuntimeError: not yet")
        dev.url = dev.wait_for_line(r"(http://\S+) shows this error until web\.app:app").group(1)
        page = httpx.get(dev.url + "/value", headers={"accept": "text/html"}, timeout=5)
        assert page.status_code == 500
        assert "web/app.py:1: RuntimeError: not yet" in page.text
        assert '<script src="/__belay/dev.js"></script>' in page.text  # reloads itself
        api = httpx.get(dev.url + "/value", timeout=5)
        assert "RuntimeError: not yet" in api.json()["traceback"]
        write(tmp_path / "web" / "app.py", APP.format(value="fixed"))
        dev.wait_for_line(r"restarted the app process")
        dev.wait_for_text("/value", "fixed", timeout=5)
    finally:
        dev.stop()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGKILL])
def test_dev_stops_every_child(tmp_path: Path, signum: int) -> None:
    write(tmp_path / "solo.py", APP.format(value="solo"))
    dev = DevProcess(tmp_path, ["solo:app"])
    try:
        dev.wait_serving()
        wait_until(lambda: len(children_of(dev.proc.pid)) >= 2, 20, "app process and spare")
        started = children_of(dev.proc.pid)
        os.kill(dev.proc.pid, signum)
        dev.proc.wait(10)
        # On SIGKILL the supervisor cannot clean up: the children notice their
        # control channel closing and exit by themselves.
        wait_until(lambda: not any(alive(pid) for pid in started), 5, "children to exit")
    finally:
        dev.stop()


def test_dev_watch_adds_a_second_package(tmp_path: Path) -> None:
    write(tmp_path / "extras" / "__init__.py", "")
    write(tmp_path / "extras" / "text.py", "GREETING = 'hello'\n")
    write(tmp_path / "web" / "__init__.py", "")
    app = APP.format(value="unused").replace(
        "VALUE = 'unused'", "from extras.text import GREETING as VALUE"
    )
    write(tmp_path / "web" / "app.py", app)
    dev = DevProcess(
        tmp_path, ["web.app:app", "--watch", "web", "--watch", "extras", "--watch", "web"]
    )
    try:
        dev.wait_serving()
        dev.wait_for_line(r"watching extras, web$")
        assert dev.get_text("/value") == "hello"
        write(tmp_path / "extras" / "text.py", "GREETING = 'howdy'\n")
        dev.wait_for_text("/value", "howdy", timeout=5)
        dev.wait_for_line(r"reloaded extras\.text, web\.app in")
    finally:
        dev.stop()


SLOW_APP = (
    """
import os
import time

if "VALUE" in globals():
    raise RuntimeError("this module refuses an in-place reload")
if os.path.exists("slow-marker"):
    open("importing", "w").close()
    time.sleep(60)
"""
    + APP
)


@pytest.mark.parametrize("when", ["first start", "restart"])
def test_dev_ctrl_c_during_a_slow_import_exits_at_once_without_orphans(
    tmp_path: Path, when: str
) -> None:
    write(tmp_path / "slow.py", SLOW_APP.format(value="one"))
    if when == "first start":
        (tmp_path / "slow-marker").touch()
    dev = DevProcess(tmp_path, ["slow:app"])
    try:
        if when == "restart":
            dev.wait_serving()
            (tmp_path / "slow-marker").touch()
            write(tmp_path / "slow.py", SLOW_APP.format(value="two"))
        wait_until(lambda: (tmp_path / "importing").exists(), 20, "the app import to begin")
        started = children_of(dev.proc.pid)
        assert started
        os.kill(dev.proc.pid, signal.SIGINT)
        dev.proc.wait(5)  # not after the 60 s import
        wait_until(lambda: not any(alive(pid) for pid in started), 5, "children to exit")
    finally:
        dev.stop()
