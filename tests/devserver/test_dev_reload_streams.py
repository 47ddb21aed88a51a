"""``belay dev``: an in-place reload ends the previous code's open streams.

Also when the RPCApp is mounted in a Starlette app (whose lifespan never
reaches it) or wrapped by ASGI middleware: the stream ends cleanly (no cut
connection), and a client that reconnects gets the new code.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.devserver.devproc import DevProcess, StreamReader
from tests.devserver.userpkg import write
from tests.support.polling import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

APP = """
import asyncio
import os
from collections.abc import AsyncIterator

import anyio
from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.routing import Mount

from rpc import ControllerBase, RPCApp, RenderBase, passthrough

VERSION = "v1"


class Tick(BaseModel):
    version: str


class PageState(RenderBase):
    title: str


class PageController(ControllerBase):
    url = "/"

    async def render(self) -> PageState:
        return PageState(title=VERSION)

    @passthrough
    async def ticks(self) -> AsyncIterator[Tick]:
        while True:
            yield Tick(version=VERSION)
            await asyncio.sleep(0.05)

    @passthrough
    async def stubborn(self) -> AsyncIterator[Tick]:
        try:
            while True:
                yield Tick(version=VERSION)
                await asyncio.sleep(0.05)
        finally:
            # A cleanup that lasts until the test creates "release" (at most 60 s).
            with anyio.CancelScope(shield=True):
                for _ in range(6000):
                    if os.path.exists("release"):
                        break
                    await anyio.sleep(0.01)
            with open("cleanup-done", "w") as done:
                done.write("done")


class Plain:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        await self.app(scope, receive, send)


wrapped = Plain(RPCApp(controllers=[PageController()]))
mounted = Starlette(routes=[Mount("/api", app=RPCApp(controllers=[PageController()]))])
"""


@pytest.mark.parametrize(("attr", "prefix"), [("wrapped", ""), ("mounted", "/api")])
def test_dev_reload_ends_open_streams_behind_middleware_and_mounts(
    tmp_path: Path, attr: str, prefix: str
) -> None:
    write(tmp_path / "streamapp" / "__init__.py", "")
    write(tmp_path / "streamapp" / "app.py", APP)
    process = DevProcess(tmp_path, [f"streamapp.app:{attr}"])
    try:
        process.wait_serving()
        url = process.url + f"{prefix}/internal/api/PageController/ticks"
        old = StreamReader(url)
        wait_until(lambda: old.data, 10, "a tick from the first code")
        assert '"v1"' in old.data[0]
        mark = len(process.lines)
        write(tmp_path / "streamapp" / "app.py", APP.replace('"v1"', '"v2"'))
        process.wait_for_line(r"reloaded streamapp\.app in", start=mark)
        assert old.ended.wait(10), "the old code's stream stayed open after the reload"
        assert old.error is None, f"the stream was cut, not closed: {old.error!r}"
        assert all('"v1"' in line for line in old.data)
        new = StreamReader(url)
        wait_until(lambda: new.data, 10, "a tick from the new code")
        assert '"v2"' in new.data[0]
    finally:
        process.stop()


def test_dev_reload_does_not_wait_for_a_stream_cleanup(tmp_path: Path) -> None:
    write(tmp_path / "streamapp" / "__init__.py", "")
    write(tmp_path / "streamapp" / "app.py", APP)
    process = DevProcess(tmp_path, ["streamapp.app:wrapped"])
    try:
        process.wait_serving()
        api = process.url + "/internal/api/PageController"
        old = StreamReader(api + "/stubborn")
        wait_until(lambda: old.data, 10, "a tick from the first code")
        mark = len(process.lines)
        write(tmp_path / "streamapp" / "app.py", APP.replace('"v1"', '"v2"'))
        # The old stream's cleanup cannot finish before "release" exists, and
        # the test creates it only once the reload is done and new code serves.
        process.wait_for_line(r"reloaded streamapp\.app in", start=mark)
        new = StreamReader(api + "/ticks")
        wait_until(lambda: new.data, 10, "a tick from the new code")
        assert '"v2"' in new.data[0]
        assert not (tmp_path / "cleanup-done").exists()
        (tmp_path / "release").write_text("")
        wait_until(lambda: (tmp_path / "cleanup-done").exists(), 10, "the old stream's cleanup")
        assert old.ended.wait(10), "the old stream stayed open after its cleanup"
    finally:
        process.stop()
