"""The generated client under Node against a real hypercorn serving the fixture app.

The TS suite (``ts/client.test.ts``) is compiled with ``tsc --strict`` to a temp
directory and run with ``node --test``; afterwards the server-side facts it
relied on (stream ``finally`` blocks, resume ids) are checked here too.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

import pytest

from codegen import generate_client
from tests.codegen.fixture_app import StreamLog, build_app
from tests.codegen.node import TS_TESTS, mark_module, run_node_tests, run_tsc
from tests.support.server import running_server

Message = MutableMapping[str, Any]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Message, Callable[[], Awaitable[Message]], Send], Awaitable[None]]


class CutStreams:
    """Forced disconnects: a request with ``X-Test-Cut-After: N`` (and no
    ``Last-Event-ID``) loses its connection right after N stream items, the way
    a dropped network would: the app raises, so hypercorn aborts the response
    mid-body."""

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
            if remaining <= 0:
                raise ConnectionAbortedError("connection cut by the test")
            if message["type"] == "http.response.body":
                remaining -= message.get("body", b"").count(b"data: ")
            await send(message)

        await self.app(scope, receive, cutting_send)
        if remaining <= 0:
            raise ConnectionAbortedError("connection cut by the test")


@pytest.mark.e2e
def test_client_e2e_node_suite_against_live_server(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    generate_client(build_app(), src / "generated")
    shutil.copyfile(TS_TESTS / "client.test.ts", src / "client.test.ts")
    mark_module(src)
    assert run_tsc(sorted(src.rglob("*.ts")), out_dir=out, extra=("--rootDir", str(src))) == ""
    mark_module(out)

    log = StreamLog()
    with running_server(CutStreams(build_app(log)), graceful_timeout=1.0) as server:
        env = {**os.environ, "BELAY_BASE_URL": server.base_url}
        report = run_node_tests([out / "client.test.js"], env=env)

    assert "test_client_tracked_stream_resumes_with_last_event_id_after_a_cut" in report
    assert "fail 0" in report
    assert log.closed.count("forever") >= 4  # break, abort, return() and the cut
    assert log.resumed_from[-2:] == [None, "2"]
