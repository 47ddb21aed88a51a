"""AppSwapper: forwards to the current app and runs each app's lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from devserver.swapper import AppSwapper

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    # asyncio only: the swapper runs each app's lifespan in an asyncio task, as the dev
    # server serves with hypercorn's asyncio worker.
    return "asyncio"


def make_app(name: str, events: list[str]) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        events.append(f"{name} up")
        yield {"name": name}
        events.append(f"{name} down")

    async def who(request: Request) -> PlainTextResponse:
        return PlainTextResponse(f"{name}:{request.state.name}")

    return Starlette(routes=[Route("/", who)], lifespan=lifespan)


@asynccontextmanager
async def lifespan_running(
    swapper: AppSwapper,
) -> AsyncIterator[tuple[httpx.AsyncClient, Any, Any]]:
    """``swapper`` serving a lifespan in a task (5 s hang watchdog), and an HTTP client to it.

    Yields (client, the server's send end of the lifespan messages, its receive end).
    """
    to_app, from_server = anyio.create_memory_object_stream[dict[str, Any]](10)
    to_server, from_app = anyio.create_memory_object_stream[dict[str, Any]](10)
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=swapper), base_url="http://t")
    async with to_app, from_server, to_server, from_app:
        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg, http:
                tg.start_soon(swapper, scope, from_server.receive, to_server.send)
                yield http, to_app, from_app


async def test_swapper_swaps_with_lifespan() -> None:
    events: list[str] = []
    swapper = AppSwapper(make_app("old", events))
    async with lifespan_running(swapper) as (http, to_app, from_app):
        await to_app.send({"type": "lifespan.startup"})
        assert (await from_app.receive())["type"] == "lifespan.startup.complete"
        assert (await http.get("/")).text == "old:old"

        await swapper.swap(make_app("new", events))
        assert (await http.get("/")).text == "new:new"

        await to_app.send({"type": "lifespan.shutdown"})
        assert (await from_app.receive())["type"] == "lifespan.shutdown.complete"
    assert events == ["old up", "new up", "old down", "new down"]


async def test_swapper_app_without_lifespan_support() -> None:
    async def bare(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise RuntimeError("only http")
        await PlainTextResponse("bare")(scope, receive, send)

    swapper = AppSwapper(make_app("old", []))
    async with lifespan_running(swapper) as (http, to_app, from_app):
        await to_app.send({"type": "lifespan.startup"})
        await from_app.receive()
        await swapper.swap(bare)
        assert (await http.get("/")).text == "bare"
        await to_app.send({"type": "lifespan.shutdown"})
        assert (await from_app.receive())["type"] == "lifespan.shutdown.complete"
