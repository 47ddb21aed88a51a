"""``belay dev`` on an RPCApp: new actions served after a save, TS client regenerated,
``debug`` on (HTML traceback for a browser GET of a failing render, JSON for actions).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.devserver.devproc import DevProcess, StreamReader
from tests.devserver.userpkg import write
from tests.support.polling import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

STATE = """
from rpc import RenderBase


class CounterState(RenderBase):
    count: int
    room: str
"""

APP = """
import asyncio
from collections.abc import AsyncIterator

from pydantic import BaseModel
from rpc import ControllerBase, RPCApp, passthrough

from counter.state import CounterState


class Tick(BaseModel):
    n: int


class CounterController(ControllerBase):
    url = "/rooms/{room}"

    async def render(self, room: str) -> CounterState:
        if room == "broken":
            raise RuntimeError("render exploded")
        return CounterState(count=1, room=room)

    @passthrough
    async def peek(self, room: str) -> int:
        return 1

    @passthrough
    async def ticks(self) -> AsyncIterator[Tick]:
        n = 0
        while True:
            yield Tick(n=n)
            n += 1
            await asyncio.sleep(0.05)
# NEW ACTION


app = RPCApp(controllers=[CounterController()])
"""

NEW_ACTION = """
    @passthrough
    async def hello(self, name: str) -> str:
        return f"hello {name}"
"""

API = "/internal/api/CounterController"


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DevProcess, Path]]:
    root = tmp_path_factory.mktemp("rpcproject")
    write(root / "counter" / "__init__.py", "")
    write(root / "counter" / "state.py", STATE)
    write(root / "counter" / "app.py", APP)
    process = DevProcess(root, ["counter.app:app", "--codegen-out", "generated"])
    try:
        process.wait_serving()
        yield process, root
    finally:
        process.stop()


def test_dev_rpc_app_serves_render_and_generates_client(dev: tuple[DevProcess, Path]) -> None:
    process, root = dev
    response = httpx.get(process.url + f"{API}/render", headers={"x-belay-page": "/rooms/a"})
    assert response.json() == {"count": 1, "room": "a"}
    index = root / "generated" / "index.ts"
    assert index.exists()
    assert "hello" not in "".join(p.read_text() for p in (root / "generated").rglob("*.ts"))


def test_dev_rpc_new_action_is_served_and_client_regenerated(
    dev: tuple[DevProcess, Path],
) -> None:
    process, root = dev
    mark = len(process.lines)
    write(root / "counter" / "app.py", APP.replace("# NEW ACTION", NEW_ACTION))

    def call() -> httpx.Response | None:
        response = httpx.post(
            process.url + f"{API}/hello", params={"name": "ada"}, json={}, timeout=2
        )
        return response if response.status_code == 200 else None

    response = wait_until(call, 10, "the new action to answer")
    assert response.json() == {"passthrough": "hello ada"}
    process.wait_for_line(r"codegen wrote .*generated", start=mark)
    generated = "".join(p.read_text() for p in (root / "generated").rglob("*.ts"))
    assert "hello" in generated


def test_dev_rpc_debug_error_page_for_browsers_json_for_api(
    dev: tuple[DevProcess, Path],
) -> None:
    process, _ = dev
    page = {"x-belay-page": "/rooms/broken"}
    html = httpx.get(process.url + f"{API}/render", headers={**page, "accept": "text/html"})
    assert html.status_code == 500
    assert html.headers["content-type"].startswith("text/html")
    assert "render exploded" in html.text
    api = httpx.get(process.url + f"{API}/render", headers={**page, "accept": "*/*"})
    assert api.status_code == 500
    assert api.headers["content-type"].startswith("application/json")
    assert "render exploded" in api.text


def test_dev_rpc_reload_with_an_open_stream_is_prompt(dev: tuple[DevProcess, Path]) -> None:
    process, root = dev
    reader = StreamReader(process.url + f"{API}/ticks", timeout=5)
    wait_until(lambda: reader.data, 5, "a streamed tick")
    mark = len(process.lines)
    write(
        root / "counter" / "state.py", STATE.replace("room: str", "room: str\n    extra: int = 0")
    )
    wait_until(
        lambda: (
            "extra"
            in httpx.get(process.url + f"{API}/render", headers={"x-belay-page": "/rooms/z"}).text
        ),
        10,  # a hang watchdog; bench/bench_reload.py reports the reload time with a stream
        "the new render model",
    )
    process.wait_for_line(r"reloaded counter\.state, counter\.app in", start=mark)
    # The old RPCApp's lifespan shutdown closes its streams; clients resume on the new code.
    assert reader.ended.wait(5), "the old app's stream was closed, not left running"
