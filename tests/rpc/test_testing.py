"""RPCTestClient, used the way a user's own test would use it."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from rpc.testing import RPCTestClient, parse_events
from tests.rpc.apps import build_app

pytestmark = pytest.mark.anyio


async def test_testing_client_user_style_flow() -> None:
    async with RPCTestClient(build_app()) as client:
        state = await client.render("RoomController", page="/rooms/lobby")
        assert state["count"] == 0
        response = await client.action(
            "RoomController",
            "increment",
            params={"room": "lobby"},
            body={"count": 5},
            page="/rooms/lobby",
            headers={"x-user": "ada"},
        )
        assert response.status_code == 200
        assert response.json()["sideeffect"]["count"] == 5
        assert response.json()["sideeffect"]["viewer"] == "ada"
        state = await client.render("RoomController", page="/rooms/lobby")
        assert state["count"] == 5


async def test_testing_client_returns_error_responses() -> None:
    async with RPCTestClient(build_app()) as client:
        response = await client.action("RoomController", "peek", params={"room": "full"})
        assert response.status_code == 409
        assert response.json() == {"detail": "room is full", "capacity": 12}
        with pytest.raises(httpx.HTTPStatusError):
            await client.render("RoomController")


async def test_testing_client_overrides_and_mounted_app() -> None:
    rpc_app = build_app()
    outer = Starlette(routes=[Mount("/rpc", app=rpc_app)])
    with pytest.raises(TypeError, match="prefix"):
        RPCTestClient(outer)
    async with RPCTestClient(outer, prefix="/rpc/internal/api") as client:
        response = await client.action("BindingController", "create", body={"name": "x", "qty": 1})
        assert response.json() == {"passthrough": {"name": "x:none", "qty": 1}}


def test_testing_parse_events_reads_sse() -> None:
    text = ': ping\n\ndata: {"n": 0}\nid: 7\n\nevent: end\ndata: null\n\n'
    events = parse_events(text)
    assert [(e.event, e.data, e.id) for e in events] == [
        ("message", {"n": 0}, "7"),
        ("end", None, None),
    ]
