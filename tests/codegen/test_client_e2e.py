"""The generated client under Node against a real hypercorn serving the fixture app.

The TS suite (``ts/client.test.ts``) is compiled with ``tsc --strict`` to a temp
directory and run with ``node --test``; afterwards the server-side facts it
relied on (stream ``finally`` blocks, resume ids) are checked here too. A
second suite keeps a tracked stream open while the server is stopped and a new
one started on the same port.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

import pytest

from codegen import generate_client
from rpc.description import describe_app
from tests.codegen.fixture_app import StreamLog, build_app
from tests.codegen.node import TS_TESTS, mark_module, run_node_tests, run_tsc
from tests.codegen.scripted import ScriptedStreams
from tests.support.polling import wait_until
from tests.support.server import ServerHandle, running_server, start_server

Message = MutableMapping[str, Any]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Message, Callable[[], Awaitable[Message]], Send], Awaitable[None]]


class CutStreams:
    """Forced disconnects: a request with ``X-Test-Cut-After: N`` (and no
    ``Last-Event-ID``) loses its connection after N stream items and most of the
    next one, the way a dropped network would: the app raises, so hypercorn
    aborts the response mid-body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Message, receive: Any, send: Send) -> None:
        headers = dict(scope.get("headers", []))
        limit = headers.get(b"x-test-cut-after")
        if scope["type"] != "http" or limit is None or b"last-event-id" in headers:
            await self.app(scope, receive, send)
            return
        remaining = int(limit)

        async def cutting_send(message: Message) -> None:
            nonlocal remaining
            body = message.get("body", b"") if message["type"] == "http.response.body" else b""
            if remaining <= 0:
                if body:  # the next event goes out without its last 4 bytes: cut mid-line
                    await send({**message, "body": body[:-4], "more_body": True})
                raise ConnectionAbortedError("connection cut by the test")
            remaining -= body.count(b"data: ")
            await send(message)

        await self.app(scope, receive, cutting_send)
        if remaining <= 0:
            raise ConnectionAbortedError("connection cut by the test")


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generated client and the TS suites, compiled once with tsc --strict."""
    root = tmp_path_factory.mktemp("client")
    src, out = root / "src", root / "out"
    generate_client(describe_app(build_app()), src / "generated")
    for name in ("client.test.ts", "restart.test.ts", "scripted.test.ts"):
        shutil.copyfile(TS_TESTS / name, src / name)
    mark_module(src)
    assert run_tsc(sorted(src.rglob("*.ts")), out_dir=out, extra=("--rootDir", str(src))) == ""
    mark_module(out)
    return out


@pytest.mark.e2e
def test_client_e2e_node_suite_against_live_server(compiled: Path) -> None:
    log = StreamLog()
    with running_server(CutStreams(build_app(log)), graceful_timeout=1.0) as server:
        env = {**os.environ, "BELAY_BASE_URL": server.base_url}
        report = run_node_tests([compiled / "client.test.js"], env=env)

    assert "test_client_tracked_stream_resumes_with_last_event_id_after_a_cut" in report
    assert "fail 0" in report
    assert log.closed.count("forever") >= 4  # break, abort, return() and the cut
    assert log.resumed_from[-2:] == [None, "2"]


@pytest.mark.e2e
def test_client_e2e_tracked_stream_resumes_across_server_restart(compiled: Path) -> None:
    log = StreamLog()
    app = build_app(log)
    first = start_server(app, graceful_timeout=0.5)
    env = {**os.environ, "BELAY_BASE_URL": first.base_url}
    args = ["node", "--test", "--test-reporter=spec", str(compiled / "restart.test.js")]
    node = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    second: ServerHandle | None = None
    try:
        wait_until(lambda: log.sent >= 3, 10, "three items sent")
        # What a production shutdown does first (streams.shutdown_trigger): close the
        # open streams without an end event, then stop; the port is free again.
        first.loop.call_soon_threadsafe(app.stream_registry.close_all_nowait)
        first.stop()
        second = start_server(
            build_app(log), port=first.port, graceful_timeout=0.5
        )  # new process state, same log
        output, _ = node.communicate(timeout=60)
    finally:
        if node.poll() is None:
            node.kill()
            node.communicate(timeout=5)
        if second is not None:
            second.stop()
    text = output.decode()
    assert node.returncode == 0, text
    assert "test_client_tracked_stream_resumes_across_a_server_restart" in text
    assert log.resumed_from[0] is None
    assert len(log.resumed_from) >= 2
    assert log.resumed_from[-1] is not None
    assert int(log.resumed_from[-1]) >= 2


@pytest.mark.e2e
def test_client_e2e_scripted_resets_auth_and_live_state(compiled: Path) -> None:
    scripted = ScriptedStreams(build_app())
    with running_server(scripted, graceful_timeout=0.5) as server:
        env = {**os.environ, "BELAY_BASE_URL": server.base_url}
        report = run_node_tests([compiled / "scripted.test.js"], env=env)
    assert "test_scripted_live_server_state_merges_partials_and_starts_over_on_reconnect" in report
    assert "fail 0" in report
    live = [r for r in scripted.requests if r.script == "live"]
    assert len(live) == 2
    assert all(r.headers.get("x-belay-page") == "/rooms/lobby" for r in live)
    assert all("last-event-id" not in r.headers for r in live)  # each reconnect starts over
    resumed = [r.headers.get("last-event-id") for r in scripted.requests if r.script == "reset"]
    assert resumed.count("e1-2") == 2  # both reset runs resumed after the last id seen
