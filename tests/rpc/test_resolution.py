"""Depends: kinds, sub-dependencies, caching, cleanup timing and order, overrides, cycles."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.requests import Request

from rpc import ControllerBase, DeclarationError, Depends, RPCApp, passthrough
from tests.rpc import apps
from tests.rpc.asgi import call, json_post
from tests.rpc.conftest import API
from tests.rpc.dependency_apps import Recorder, build

pytestmark = pytest.mark.anyio

DEP = f"{API}/DepController"


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


async def test_resolution_all_dependency_kinds(recorder: Recorder) -> None:
    result = await json_post(build(recorder), f"{DEP}/kinds")
    assert result.status == 200
    assert result.json() == {"passthrough": ["sync", "async", "sync-res", "async-res"]}


async def test_resolution_sync_dependencies_run_off_the_loop(recorder: Recorder) -> None:
    await json_post(build(recorder), f"{DEP}/kinds")
    loop_thread = threading.get_ident()
    assert recorder.threads["sync_value"] != loop_thread
    assert recorder.threads["sync_resource"] != loop_thread


async def test_resolution_cleanup_after_response_in_reverse_order(recorder: Recorder) -> None:
    await json_post(build(recorder), f"{DEP}/kinds", log=recorder.log)
    assert recorder.log == [
        "sync_value",
        "async_value",
        "sync_resource setup",
        "async_resource setup",
        "action",
        "response sent",
        "async_resource cleanup",
        "sync_resource cleanup",
    ]


async def test_resolution_render_cleanup_after_response(recorder: Recorder) -> None:
    result = await call(build(recorder), "GET", f"{DEP}/render", log=recorder.log)
    assert result.json() == {"counted": 0, "resource": "async-res", "user": "anonymous"}
    assert recorder.log == [
        "counted 0",
        "async_resource setup",
        "render",
        "response sent",
        "async_resource cleanup",
    ]


async def test_resolution_failing_action_exception_reaches_yield_dependencies(
    recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="belay"):
        result = await json_post(build(recorder), f"{DEP}/fails", log=recorder.log)
    assert result.status == 500
    assert recorder.log == [
        "sync_resource setup",
        "async_resource setup",
        "action",
        "response sent",
        "async_resource saw RuntimeError",
        "async_resource cleanup",
        "sync_resource saw RuntimeError",
        "sync_resource cleanup",
    ]
    assert len([r for r in caplog.records if r.exc_info]) == 1


async def test_resolution_failing_sync_action_reaches_async_dependency(
    recorder: Recorder,
) -> None:
    result = await json_post(build(recorder), f"{DEP}/sync_fails")
    assert result.status == 500
    assert "async_resource saw ValueError" in recorder.log


async def test_resolution_sub_dependencies_and_request(recorder: Recorder) -> None:
    result = await json_post(build(recorder), f"{DEP}/nested")
    assert result.json() == {"passthrough": "0:POST"}


async def test_resolution_dependency_used_twice_is_called_once(recorder: Recorder) -> None:
    result = await json_post(build(recorder), f"{DEP}/twice")
    assert result.json() == {"passthrough": [0, 0]}
    assert recorder.log == ["counted 0"]


async def test_resolution_cache_is_per_request(recorder: Recorder) -> None:
    app = build(recorder)
    await json_post(app, f"{DEP}/twice")
    result = await json_post(app, f"{DEP}/twice")
    assert result.json() == {"passthrough": [1, 10]}


async def test_resolution_use_cache_false_calls_again(recorder: Recorder) -> None:
    result = await json_post(build(recorder), f"{DEP}/uncached")
    assert result.json() == {"passthrough": [0, 1]}
    assert recorder.log == ["counted 0", "counted 1"]


async def test_resolution_cache_shared_with_sideeffect_render(recorder: Recorder) -> None:
    result = await json_post(build(recorder), f"{DEP}/touch", log=recorder.log)
    assert result.json() == {
        "sideeffect": {"counted": 0, "resource": "async-res", "user": "anonymous"},
        "passthrough": 0,
    }
    assert recorder.log == [
        "counted 0",
        "action",
        "async_resource setup",
        "render",
        "response sent",
        "async_resource cleanup",
    ]


async def test_resolution_overrides_replace_dependency(recorder: Recorder) -> None:
    app = build(recorder)

    async def fake_counted() -> int:
        return 42

    app.dependency_overrides[recorder.counted] = fake_counted
    result = await json_post(app, f"{DEP}/twice")
    assert result.json() == {"passthrough": [42, 420]}
    assert recorder.log == []
    app.dependency_overrides.clear()
    result = await json_post(app, f"{DEP}/twice")
    assert result.json() == {"passthrough": [0, 0]}


async def test_resolution_override_with_yield_dependency(recorder: Recorder) -> None:
    app = build(recorder)

    def fake_resource():  # type: ignore[no-untyped-def]
        recorder.log.append("fake setup")
        yield "fake-res"
        recorder.log.append("fake cleanup")

    app.dependency_overrides[recorder.async_resource] = fake_resource
    result = await json_post(app, f"{DEP}/kinds", log=recorder.log)
    assert result.json()["passthrough"][3] == "fake-res"
    log = recorder.log
    assert log.index("fake setup") < log.index("response sent") < log.index("fake cleanup")
    assert "async_resource setup" not in recorder.log


async def test_resolution_overrides_reach_render(recorder: Recorder) -> None:
    app = build(recorder)
    app.dependency_overrides[recorder.counted] = lambda: 7
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        response = await http.get(f"{DEP}/render")
    assert response.json()["counted"] == 7


def test_resolution_dependency_cycle_fails_at_construction() -> None:
    class Cyclic(ControllerBase):
        async def render(self) -> apps.HomeState:
            return apps.HomeState(title="", page=0)

        @passthrough
        async def act(self, value: int = Depends(apps.cycle_a)) -> int:
            return value

    with pytest.raises(
        DeclarationError,
        match=(
            r"dependency cycle: tests\.rpc\.apps\.cycle_a -> tests\.rpc\.apps\.cycle_b -> "
            r"tests\.rpc\.apps\.cycle_a"
        ),
    ):
        RPCApp([Cyclic()])


def test_resolution_dependency_with_query_style_parameter_fails_at_construction() -> None:
    def needs_value(limit: int) -> int:
        return limit

    class BadDep(ControllerBase):
        async def render(self) -> apps.HomeState:
            return apps.HomeState(title="", page=0)

        @passthrough
        async def act(self, value: int = Depends(needs_value)) -> int:
            return value

    with pytest.raises(DeclarationError, match=r"needs_value.*limit"):
        RPCApp([BadDep()])


async def test_resolution_render_depends_sees_headers_and_cookies(
    client: httpx.AsyncClient,
) -> None:
    page = {"x-belay-page": "/rooms/lobby"}
    response = await client.get(f"{API}/RoomController/render", headers={**page, "x-user": "ada"})
    assert response.json()["viewer"] == "ada"
    response = await client.get(
        f"{API}/RoomController/render", headers={**page, "cookie": "user=grace"}
    )
    assert response.json()["viewer"] == "grace"


async def test_resolution_sideeffect_render_depends_sees_real_request(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        f"{API}/RoomController/increment",
        params={"room": "lobby"},
        json={"count": 2},
        headers={"x-belay-page": "/rooms/lobby", "cookie": "user=grace"},
    )
    assert response.status_code == 200, response.text
    state = response.json()["sideeffect"]
    assert state["viewer"] == "grace"
    assert state["lastUser"] == "grace"
    assert state["count"] == 2


async def test_resolution_api_exception_in_dependency_answers_and_cleans_up(
    recorder: Recorder,
) -> None:
    result = await json_post(build(recorder), f"{DEP}/guarded", log=recorder.log)
    assert result.status == 403
    assert result.json() == {"detail": "denied"}
    assert recorder.log == [
        "async_resource setup",
        "denied",
        "response sent",
        "async_resource saw Denied",
        "async_resource cleanup",
    ]


async def test_resolution_failing_cleanup_is_logged_not_sent(
    recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="belay"):
        result = await json_post(build(recorder), f"{DEP}/leaky")
    assert result.status == 200
    assert result.json() == {"passthrough": "broken"}
    [record] = [r for r in caplog.records if r.exc_info]
    assert "cleanup failed" in str(record.exc_info[1])  # type: ignore[index]


async def test_resolution_overrides_dict_can_be_replaced(recorder: Recorder) -> None:
    """As in FastAPI, assigning a new dict works as well as mutating the old one."""
    app = build(recorder)
    app.dependency_overrides = {recorder.counted: lambda: 5}
    result = await json_post(app, f"{DEP}/twice")
    assert result.json() == {"passthrough": [5, 50]}
    app.dependency_overrides = {}
    result = await json_post(app, f"{DEP}/twice")
    assert result.json() == {"passthrough": [0, 0]}


class Pager:
    """A class dependency: its constructor's parameters are resolved."""

    def __init__(self, request: Request, size: int = 10) -> None:
        self.size = size
        self.method = request.method


class AsyncCallable:
    """A callable-object dependency whose ``__call__`` is async."""

    async def __call__(self, request: Request) -> str:
        return f"called:{request.method}"


class AsyncGenCallable:
    def __init__(self, log: list[str]) -> None:
        self.log = log

    async def __call__(self) -> AsyncIterator[str]:
        self.log.append("setup")
        yield "resource"
        self.log.append("cleanup")


async def test_resolution_class_and_callable_object_dependencies() -> None:
    log: list[str] = []
    resource = AsyncGenCallable(log)

    class Objects(ControllerBase):
        async def render(self) -> apps.HomeState:
            return apps.HomeState(title="", page=0)

        @passthrough
        async def act(
            self,
            pager: Pager = Depends(Pager),  # noqa: B008
            called: str = Depends(AsyncCallable()),
            held: str = Depends(resource),
        ) -> list[Any]:
            return [pager.size, pager.method, called, held]

    result = await json_post(RPCApp([Objects()]), f"{API}/Objects/act", log=log)
    assert result.status == 200, result.body
    assert result.json() == {"passthrough": [10, "POST", "called:POST", "resource"]}
    assert log == ["setup", "response sent", "cleanup"]
