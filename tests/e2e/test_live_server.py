"""Live page state through a real hypercorn: per-viewer renders, broadcasts, failures."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import anyio
import httpx
import pytest

from rpc import RPCApp
from rpc.broadcast import LIVE_CHANNEL, page_key
from rpc.controller import LiveNotServedError
from rpc.errors import HTTPError
from tests.e2e.live_apps import (
    BOOK,
    LEVEL_CALLS,
    PREFIX,
    Board,
    BoardController,
    GaugeController,
    LedgerController,
    RoomStore,
    build_live_app,
)
from tests.e2e.live_viewers import LiveViewer, until
from tests.support.redis import RedisServer
from tests.support.server import running_server

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

WATCHDOG = 60.0


@pytest.fixture
def anyio_backend() -> str:
    # asyncio only: the tests reach into the in-thread hypercorn's asyncio loop
    # (run_coroutine_threadsafe) and abandon connections with asyncio streams.
    return "asyncio"


async def _post(client: httpx.AsyncClient, base: str, action: str, page: str, **kw: object) -> None:
    response = await client.post(
        f"{base}{PREFIX}/BoardController/{action}",
        params={"room": page.rsplit("/", 1)[-1]},
        headers={"x-belay-page": page, "x-viewer": "caller"},
        **kw,  # type: ignore[arg-type]
    )
    assert response.status_code == 200, response.text


async def test_live_viewers_each_get_their_own_rendering_of_a_sideeffect() -> None:
    app, _, _ = build_live_app()
    with running_server(app) as server:
        base = server.base_url
        alice = LiveViewer(base, "BoardController", "/rooms/lobby", viewer="alice")
        bob = LiveViewer(base, "BoardController", "/rooms/lobby", viewer="bob")
        async with httpx.AsyncClient(timeout=30) as client, anyio.create_task_group() as tasks:
            with anyio.fail_after(WATCHDOG):
                tasks.start_soon(alice.follow, client)
                tasks.start_soon(bob.follow, client)
                await until(lambda: bool(alice.frames and bob.frames))
                assert alice.frames[0]["viewer"] == "alice"
                assert bob.frames[0]["viewer"] == "bob"
                assert alice.frames[0]["notes"] == []
                assert alice.frames[0]["count"] == 0

                await _post(client, base, "add", "/rooms/lobby", json={"text": "hi"})
                await until(lambda: alice.state["notes"] == ["hi"] and bob.state["notes"] == ["hi"])
                # The broadcast was rendered for each viewer, with its own request.
                assert alice.frames[-1]["secret"] == "secret-of-alice"
                assert bob.frames[-1]["secret"] == "secret-of-bob"
                seen_by_alice = str(alice.frames)
                seen_by_bob = str(bob.frames)
                assert "bob" not in seen_by_alice
                assert "caller" not in seen_by_alice
                assert "alice" not in seen_by_bob
                assert "caller" not in seen_by_bob
                tasks.cancel_scope.cancel()


async def test_live_reload_fields_arrive_as_partial_states_and_quiet_sideeffects_send_nothing() -> (
    None
):
    app, _, _ = build_live_app()
    with running_server(app) as server:
        base = server.base_url
        viewer = LiveViewer(base, "BoardController", "/rooms/lobby", viewer="carol")
        async with httpx.AsyncClient(timeout=30) as client, anyio.create_task_group() as tasks:
            with anyio.fail_after(WATCHDOG):
                tasks.start_soon(viewer.follow, client)
                await until(lambda: bool(viewer.frames))
                await _post(client, base, "quiet", "/rooms/lobby")  # not broadcast
                await _post(client, base, "bump", "/rooms/lobby")
                await until(lambda: len(viewer.frames) == 2)
                # quiet sent nothing; bump sent only its reload field, with both changes in it.
                assert viewer.frames[1] == {"count": 101}
                assert viewer.state["count"] == 101
                assert viewer.state["viewer"] == "carol"
                tasks.cancel_scope.cancel()


async def test_live_broadcast_from_a_background_task_reaches_only_that_page() -> None:
    app, board, _ = build_live_app()
    with running_server(app) as server:
        base = server.base_url
        lobby = LiveViewer(base, "BoardController", "/rooms/lobby", viewer="a")
        other = LiveViewer(base, "BoardController", "/rooms/other", viewer="b")
        async with httpx.AsyncClient(timeout=30) as client, anyio.create_task_group() as tasks:
            with anyio.fail_after(WATCHDOG):
                tasks.start_soon(lobby.follow, client)
                tasks.start_soon(other.follow, client)
                await until(lambda: bool(lobby.frames and other.frames))
                board.store.counts["lobby"] = 7
                board.store.counts["other"] = 9

                async def background() -> None:
                    await board.broadcast("/rooms/lobby", reload=(Board.count,))

                asyncio.run_coroutine_threadsafe(background(), server.loop).result(timeout=30)
                await until(lambda: lobby.state["count"] == 7)
                assert lobby.frames[-1] == {"count": 7}
                # Then a full broadcast of the other page: only it re-renders.
                future = asyncio.run_coroutine_threadsafe(
                    board.broadcast("/rooms/other?unused=1"), server.loop
                )
                future.result(timeout=30)
                await until(lambda: other.state["count"] == 9)
                assert other.frames[-1]["viewer"] == "b"
                assert len(other.frames) == 2
                assert len(lobby.frames) == 2
                tasks.cancel_scope.cancel()


async def test_live_render_error_reaches_only_the_failing_viewer() -> None:
    app, _, _ = build_live_app()
    with running_server(app) as server:
        base = server.base_url
        boom = LiveViewer(base, "BoardController", "/rooms/lobby", viewer="boom")
        fine = LiveViewer(base, "BoardController", "/rooms/lobby", viewer="fine")
        async with httpx.AsyncClient(timeout=30) as client, anyio.create_task_group() as tasks:
            with anyio.fail_after(WATCHDOG):
                tasks.start_soon(boom.follow, client)
                tasks.start_soon(fine.follow, client)
                await until(lambda: bool(boom.frames and fine.frames))
                await _post(client, base, "breaks", "/rooms/lobby")
                await until(lambda: boom.ended and len(fine.frames) == 2)
                assert boom.errors == [
                    {
                        "status": 409,
                        "type": "ViewerBroken",
                        "body": {"detail": "this viewer's render is broken"},
                    }
                ]
                assert fine.errors == []
                assert not fine.ended
                await _post(client, base, "bump", "/rooms/lobby")
                await until(lambda: fine.state["count"] == 1)
                tasks.cancel_scope.cancel()


async def test_live_page_that_does_not_match_is_a_400_and_bad_values_a_422() -> None:
    app, _, _ = build_live_app()
    with running_server(app) as server:
        async with httpx.AsyncClient(timeout=30) as client:
            with anyio.fail_after(WATCHDOG):
                wrong = LiveViewer(server.base_url, "BoardController", "/nowhere/lobby")
                await wrong.follow(client)
                assert wrong.status == 400
                assert "does not match" in wrong.errors[0]["detail"]
                post = await client.post(
                    f"{server.base_url}{PREFIX}/BoardController/live",
                    headers={"x-belay-page": "/rooms/lobby"},
                )
                assert post.status_code == 405


async def test_live_broadcast_errors_are_clear() -> None:
    unserved = BoardController(RoomStore())
    with pytest.raises(LiveNotServedError, match="not served by an RPCApp"):
        await unserved.broadcast("/rooms/lobby")
    _, board, _ = build_live_app()
    with pytest.raises(HTTPError, match="does not match"):
        await board.broadcast("/elsewhere")
    with pytest.raises(ValueError, match="not fields of Board"):
        await board.broadcast("/rooms/lobby", reload=("nope",))


async def test_live_render_without_request_is_shared_by_every_viewer() -> None:
    app, _, scores = build_live_app()
    with running_server(app) as server:
        base = server.base_url
        viewers = [LiveViewer(base, "ScoreController", "/scores/ann") for _ in range(5)]
        async with httpx.AsyncClient(timeout=30) as client, anyio.create_task_group() as tasks:
            with anyio.fail_after(WATCHDOG):
                for viewer in viewers:
                    tasks.start_soon(viewer.follow, client)
                await until(lambda: all(v.frames for v in viewers))
                before = LEVEL_CALLS[0]
                scores.points["ann"] = 3
                future = asyncio.run_coroutine_threadsafe(
                    scores.broadcast("/scores/ann"), server.loop
                )
                future.result(timeout=30)
                await until(lambda: all(len(v.frames) == 2 for v in viewers))
                # render() ran once for all five viewers of the page on this worker.
                assert LEVEL_CALLS[0] - before == 1
                assert all(v.frames[1] == {"name": "ann", "points": 3, "level": 3} for v in viewers)
                tasks.cancel_scope.cancel()


async def test_live_viewers_use_the_render_slice_of_the_reload_fields() -> None:
    app, _, _ = build_live_app()
    with running_server(app) as server:
        base = server.base_url
        viewers = [LiveViewer(base, "ScoreController", "/scores/bo") for _ in range(3)]
        async with httpx.AsyncClient(timeout=30) as client, anyio.create_task_group() as tasks:
            with anyio.fail_after(WATCHDOG):
                for viewer in viewers:
                    tasks.start_soon(viewer.follow, client)
                await until(lambda: all(v.frames for v in viewers))
                before = LEVEL_CALLS[0]
                response = await client.post(
                    f"{base}{PREFIX}/ScoreController/score_sliced",
                    params={"name": "bo"},
                    headers={"x-belay-page": "/scores/bo"},
                )
                assert response.json()["sideeffect"] == {"points": 10}
                await until(lambda: all(len(v.frames) == 2 for v in viewers))
                assert all(v.frames[1] == {"points": 10} for v in viewers)
                # Neither the caller's render nor the viewers' ran the part the slice skips.
                assert LEVEL_CALLS[0] == before
                tasks.cancel_scope.cancel()


async def test_live_abandoned_viewers_leave_no_subscription_behind() -> None:
    app, _, _ = build_live_app()
    key = page_key("BoardController", {"room": "lobby"})
    request = (
        b"GET " + PREFIX.encode() + b"/BoardController/live HTTP/1.1\r\nhost: 127.0.0.1\r\n"
        b"x-belay-page: /rooms/lobby\r\n\r\n"
    )
    with running_server(app) as server:

        async def connect_and_abandon() -> None:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(request)
            await reader.readuntil(b"\n\n")  # the head and the first state have arrived
            writer.close()

        with anyio.fail_after(WATCHDOG * 2):
            for _ in range(20):
                async with anyio.create_task_group() as tasks:
                    for _ in range(50):
                        tasks.start_soon(connect_and_abandon)
            await until(
                lambda: (
                    app.stream_registry.open_count == 0
                    and app.broker.subscriber_count(LIVE_CHANNEL, key) == 0
                ),
                watchdog=WATCHDOG,
            )
        assert app._dispatcher.live.hub.pages == 0


async def test_live_state_crosses_two_servers_sharing_one_redis(redis_server: RedisServer) -> None:
    store = RoomStore()  # one database behind both servers
    app_a, _, _ = build_live_app(redis_server.url(), store)
    app_b, board_b, _ = build_live_app(redis_server.url(), store)
    with running_server(app_a) as server_a, running_server(app_b) as server_b:
        on_a = LiveViewer(server_a.base_url, "BoardController", "/rooms/lobby", viewer="ann")
        on_b = LiveViewer(server_b.base_url, "BoardController", "/rooms/lobby", viewer="ben")
        async with httpx.AsyncClient(timeout=30) as client, anyio.create_task_group() as tasks:
            with anyio.fail_after(WATCHDOG):
                tasks.start_soon(on_a.follow, client)
                tasks.start_soon(on_b.follow, client)
                await until(lambda: bool(on_a.frames and on_b.frames))
                # Tab A's sideeffect on server A reaches the viewer on server B.
                await _post(client, server_a.base_url, "add", "/rooms/lobby", json={"text": "x"})
                await until(lambda: on_a.state["notes"] == ["x"] and on_b.state["notes"] == ["x"])
                assert on_b.frames[-1]["secret"] == "secret-of-ben"
                assert on_a.frames[-1]["secret"] == "secret-of-ann"
                # broadcast() from a background task on server B reaches both.
                store.counts["lobby"] = 42
                future = asyncio.run_coroutine_threadsafe(
                    board_b.broadcast("/rooms/lobby", reload=(Board.count,)), server_b.loop
                )
                future.result(timeout=30)
                await until(lambda: on_a.state["count"] == 42 and on_b.state["count"] == 42)
                assert on_a.frames[-1] == {"count": 42}
                assert "ben" not in str(on_a.frames)
                assert "ann" not in str(on_b.frames)
                tasks.cancel_scope.cancel()


async def test_live_changes_during_a_render_coalesce_into_one_more_render() -> None:
    gauges = GaugeController()
    app = RPCApp(controllers=[gauges])
    with running_server(app) as server:
        viewer = LiveViewer(server.base_url, "GaugeController", "/gauges")

        def on_server(coroutine: Coroutine[Any, Any, None]) -> None:
            asyncio.run_coroutine_threadsafe(coroutine, server.loop).result(timeout=30)

        async def hold() -> None:
            gauges.gate = asyncio.Event()

        async def release() -> None:
            assert gauges.gate is not None
            gate, gauges.gate = gauges.gate, None
            gate.set()

        async with httpx.AsyncClient(timeout=30) as client, anyio.create_task_group() as tasks:
            with anyio.fail_after(WATCHDOG):
                tasks.start_soon(viewer.follow, client)
                await until(lambda: bool(viewer.frames))
                on_server(hold())
                gauges.values["a"] = 1
                on_server(gauges.broadcast("/gauges", reload=("a",)))
                await until(lambda: gauges.held == 1)  # the viewer is rendering "a"
                for name, value in (("b", 2), ("c", 3), ("b", 4)):
                    gauges.values[name] = value
                    on_server(gauges.broadcast("/gauges", reload=(name,)))
                renders = gauges.renders
                on_server(release())
                await until(lambda: len(viewer.frames) == 3)
                assert viewer.frames[1:] == [{"a": 1}, {"b": 4, "c": 3}]
                assert gauges.renders == renders + 1  # three changes, one render
                tasks.cancel_scope.cancel()


async def test_live_viewers_see_what_a_yield_dependency_committed_after_the_answer() -> None:
    BOOK.committed = BOOK.pending = 0
    app = RPCApp(controllers=[LedgerController()])
    with running_server(app) as server:
        viewer = LiveViewer(server.base_url, "LedgerController", "/ledger")
        async with httpx.AsyncClient(timeout=30) as client, anyio.create_task_group() as tasks:
            with anyio.fail_after(WATCHDOG):
                tasks.start_soon(viewer.follow, client)
                await until(lambda: bool(viewer.frames))

                async def add(amount: int, committed: int) -> None:
                    response = await client.post(
                        f"{server.base_url}{PREFIX}/LedgerController/add",
                        params={"amount": amount},
                    )
                    # The caller's own re-render ran before the commit...
                    assert response.json()["sideeffect"] == {"total": committed - amount}
                    # ...but the broadcast went out after it: the viewer's render sees it
                    # (a render before the commit would show the old total, and no
                    # later notification would ever correct it).
                    await until(lambda: viewer.state.get("total") == committed)

                await add(5, 5)
                await add(7, 12)
                assert [frame["total"] for frame in viewer.frames] == [0, 5, 12]
                tasks.cancel_scope.cancel()


async def test_live_viewer_attaches_again_when_the_broker_closes_under_it(
    redis_server: RedisServer,
) -> None:
    app, _, _ = build_live_app(redis_server.url())
    with running_server(app) as server:
        viewer = LiveViewer(server.base_url, "BoardController", "/rooms/lobby", viewer="eve")
        key = page_key("BoardController", {"room": "lobby"})
        async with httpx.AsyncClient(timeout=30) as client, anyio.create_task_group() as tasks:
            with anyio.fail_after(WATCHDOG):
                tasks.start_soon(viewer.follow, client)
                await until(lambda: bool(viewer.frames))
                # What a drained registry's close hook does: the broker lets go of
                # every subscriber; the viewer attaches again and renders everything.
                asyncio.run_coroutine_threadsafe(app.broker.aclose(), server.loop).result(30)
                await until(lambda: len(viewer.frames) >= 2)
                assert viewer.frames[1]["viewer"] == "eve"  # a full state
                await until(lambda: app.broker.subscriber_count(LIVE_CHANNEL, key) == 1)
                await _post(client, server.base_url, "bump", "/rooms/lobby")
                await until(lambda: len(viewer.frames) >= 3)
                assert viewer.frames[2:] == [{"count": 1}]
                assert not viewer.ended
                tasks.cancel_scope.cancel()
