"""experimental_render_reload through RPCApp: same JSON as a full render, less work."""

from __future__ import annotations

import logging

import pytest

from rpc import RPCApp
from rpc.testing import RPCTestClient
from tests.rpc import render_reload_apps as apps

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
def reset_calls() -> None:
    for key in apps.CALLS:
        apps.CALLS[key] = 0


async def test_render_reload_slice_answers_what_the_full_render_would() -> None:
    app = RPCApp(controllers=[apps.BoardController()])
    async with RPCTestClient(app) as client:
        for action in ("add_sliced", "add_full", "add_sliced"):
            response = await client.action(
                "BoardController",
                action,
                params={"board": "b1", "points": 3},
                page="/boards/b1?bonus=2",
            )
            assert response.status_code == 200
        sliced = await client.action(
            "BoardController",
            "add_sliced",
            params={"board": "b1", "points": 1},
            page="/boards/b1?bonus=2",
        )
        full = await client.action(
            "BoardController",
            "add_full",
            params={"board": "b1", "points": 0},
            page="/boards/b1?bonus=2",
        )
    assert sliced.json()["sideeffect"] == full.json()["sideeffect"]
    assert full.json()["sideeffect"] == {"label": "b1:112", "score": 112}


async def test_render_reload_skips_dropped_work_and_unused_dependencies() -> None:
    app = RPCApp(controllers=[apps.BoardController()])
    async with RPCTestClient(app) as client:
        response = await client.action(
            "BoardController",
            "add_sliced",
            params={"board": "b2", "points": 5},
            page="/boards/b2",
        )
    assert response.json() == {"sideeffect": {"label": "b2:105", "score": 105}, "passthrough": None}
    assert apps.CALLS == {"expensive": 0, "unused_dependency": 0, "used_dependency": 1}


async def test_render_reload_full_sideeffect_does_the_whole_render() -> None:
    app = RPCApp(controllers=[apps.BoardController()])
    async with RPCTestClient(app) as client:
        await client.action(
            "BoardController", "add_full", params={"board": "b3", "points": 1}, page="/boards/b3"
        )
    assert apps.CALLS == {"expensive": 1, "unused_dependency": 1, "used_dependency": 1}


async def test_render_reload_sliced_render_checks_the_page_values() -> None:
    app = RPCApp(controllers=[apps.BoardController()])
    async with RPCTestClient(app) as client:
        response = await client.action(
            "BoardController",
            "add_sliced",
            params={"board": "b4", "points": 1},
            page="/boards/b4?bonus=lots",
        )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "bonus"]


async def test_render_reload_fallback_logs_once_and_renders_fully(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="belay"):
        app = RPCApp(controllers=[apps.EarlyReturnController()])
    warnings = [r.getMessage() for r in caplog.records if r.name == "belay.rpc"]
    assert len(warnings) == 1
    assert warnings[0].startswith(
        "EarlyReturnController.toggle: experimental_render_reload falls back to a full render:"
    )
    assert "return" in warnings[0]
    async with RPCTestClient(app) as client:
        response = await client.action("EarlyReturnController", "toggle")
    assert response.json() == {"sideeffect": {"on": True}, "passthrough": None}
    assert apps.CALLS["expensive"] == 1  # the full render ran
