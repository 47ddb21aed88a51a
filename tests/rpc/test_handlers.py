"""The request path: sync code in worker threads, sideeffect envelopes, cancellation."""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable

import anyio
import httpx
import pytest
from starlette.types import Receive

from rpc import ControllerBase, RenderBase, RPCApp, sideeffect
from tests.rpc.apps import RoomController
from tests.rpc.asgi import http_scope
from tests.rpc.conftest import API
from tests.rpc.dependency_apps import Recorder, build
from tests.support.polling import poll_until

pytestmark = pytest.mark.anyio

ROOM = f"{API}/RoomController"
PAGE = {"x-belay-page": "/rooms/lobby"}


async def test_handlers_sync_action_runs_in_worker_thread() -> None:
    controller = RoomController()
    app = RPCApp([controller])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        response = await http.post(f"{ROOM}/slow", params={"seconds": "0"})
        await http.post(f"{ROOM}/bump", params={"room": "lobby"}, headers=PAGE)
    assert response.status_code == 200
    loop_thread = threading.get_ident()
    assert response.json()["passthrough"] != loop_thread
    assert len(controller.threads) == 2
    assert loop_thread not in controller.threads


async def test_handlers_sync_action_does_not_block_the_loop() -> None:
    controller = RoomController()
    app = RPCApp([controller])
    finished: list[str] = []
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:

        async def gated() -> None:
            await http.post(f"{ROOM}/gated")
            finished.append("gated")

        try:
            with anyio.fail_after(10):
                async with anyio.create_task_group() as tg:
                    tg.start_soon(gated)
                    await poll_until(controller.entered.is_set, within=10, what="gated to run")
                    # ``gated`` now holds a worker thread until the gate opens; a blocked
                    # loop could not answer ``fast`` and the watchdog would fire.
                    await http.post(f"{ROOM}/fast")
                    finished.append("fast")
                    controller.gate.set()
        finally:
            controller.gate.set()
    assert finished == ["fast", "gated"]


async def test_handlers_sideeffect_envelope_full_render(client: httpx.AsyncClient) -> None:
    response = await client.post(
        f"{ROOM}/increment", params={"room": "lobby"}, json={"count": 5}, headers=PAGE
    )
    assert response.json() == {
        "sideeffect": {
            "room": "lobby",
            "step": 1,
            "count": 5,
            "viewer": "anonymous",
            "lastUser": "anonymous",
        },
        "passthrough": None,
    }


async def test_handlers_sideeffect_reload_field_ref_sends_only_those(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(f"{ROOM}/bump", params={"room": "lobby"}, headers=PAGE)
    assert response.json() == {"sideeffect": {"count": 1}, "passthrough": 1}


async def test_handlers_sideeffect_reload_names_use_wire_aliases(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(f"{ROOM}/named", params={"room": "lobby"}, headers=PAGE)
    assert response.json() == {"sideeffect": {"count": 0, "lastUser": "named"}, "passthrough": None}


async def test_handlers_sideeffect_empty_reload_sends_no_fields(
    client: httpx.AsyncClient,
) -> None:
    """``reload=()`` is typed ``Pick<State, never>`` by codegen: the wire must agree."""
    response = await client.post(f"{ROOM}/quiet", params={"room": "lobby"}, headers=PAGE)
    assert response.json() == {"sideeffect": {}, "passthrough": None}


async def test_handlers_passthrough_envelope(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{ROOM}/peek", params={"room": "lobby"})
    assert response.json() == {
        "passthrough": {"room": "lobby", "step": 0, "count": 0, "viewer": "", "lastUser": ""}
    }


async def test_handlers_sideeffect_bad_page_refused_before_the_action_runs() -> None:
    controller = RoomController()
    app = RPCApp([controller])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        response = await http.post(
            f"{ROOM}/bump", params={"room": "lobby"}, headers={"x-belay-page": "/elsewhere"}
        )
    assert response.status_code == 400
    assert controller.counts == {}


async def test_handlers_cancelled_action_still_cleans_up_dependencies() -> None:
    """A request cancelled mid-action (server shutdown, timeout) must still run cleanup."""
    recorder = Recorder()
    app = build(recorder)
    scope = http_scope("POST", f"{API}/DepController/hang")

    async def receive() -> dict[str, object]:
        await anyio.sleep_forever()
        raise AssertionError

    async def send(message: object) -> None:
        pass

    async def request(*, task_status: anyio.abc.TaskStatus[None]) -> None:
        task_status.started()
        await app(scope, _body_then(receive), send)

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            await tg.start(request)
            await recorder.started.wait()
            tg.cancel_scope.cancel()
    assert recorder.log[-1] == "async_resource cleanup"


def _body_then(receive: Callable[[], Awaitable[dict[str, object]]]) -> Receive:
    sent = False

    async def wrapped() -> dict[str, object]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        return await receive()

    return wrapped


class SyncState(RenderBase):
    thread: int


class SyncRender(ControllerBase):
    def render(self) -> SyncState:
        return SyncState(thread=threading.get_ident())

    @sideeffect
    def touch(self) -> int:
        return threading.get_ident()


async def test_handlers_sync_render_runs_in_worker_thread() -> None:
    app = RPCApp([SyncRender()])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        state = (await http.get(f"{API}/SyncRender/render")).json()
        touched = (await http.post(f"{API}/SyncRender/touch")).json()
    loop_thread = threading.get_ident()
    assert state["thread"] != loop_thread
    assert touched["sideeffect"]["thread"] != loop_thread
    assert touched["passthrough"] != loop_thread
