"""A request body that stops arriving times out (408), over a real hypercorn on 127.0.0.1."""

from __future__ import annotations

import anyio
import anyio.abc
import httpx
import orjson
import pytest

from rpc import RPCApp
from tests.e2e.hardening_apps import build_hardening_app
from tests.support.fuzz import exchange
from tests.support.server import running_server

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

BOARD = b"/internal/api/BoardController"
HEAD = b"POST " + BOARD + b"/add?board=lobby HTTP/1.1\r\nhost: 127.0.0.1\r\n"
JSON = b"content-type: application/json\r\n"
TIMEOUT = 0.5  # the app's body timeout; watchdogs below give it 20x or more


def assert_timed_out(status: int, body: bytes) -> None:
    assert status == 408, (status, body[:200])
    assert "did not arrive within 0.5 seconds" in orjson.loads(body)["detail"]


async def read_to_close(stream: anyio.abc.SocketStream) -> bytes:
    """Everything until the server closes the connection."""
    data = b""
    while True:
        try:
            data += await stream.receive()
        except (anyio.EndOfStream, anyio.BrokenResourceError, ConnectionError):
            return data


async def test_hardening_body_shorter_than_content_length_is_408_then_closed() -> None:
    with running_server(build_hardening_app(body_timeout=TIMEOUT)) as server:
        with anyio.fail_after(10):
            async with await anyio.connect_tcp("127.0.0.1", server.port) as stream:
                await stream.send(HEAD + JSON + b'content-length: 50\r\n\r\n{"text"')
                raw = await read_to_close(stream)  # also proves the server closed it
        head, _, body = raw.partition(b"\r\n\r\n")
        assert_timed_out(int(head.split(b" ")[1]), body)
        assert b"connection: close" in head.lower()
        assert b"x-content-type-options: nosniff" in head.lower()
        async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
            state = await http.get(
                f"{BOARD.decode()}/render", headers={"x-belay-page": "/boards/lobby"}
            )
        assert state.json()["notes"] == 0  # the action never ran


@pytest.mark.parametrize(
    "request_bytes",
    [
        pytest.param(
            HEAD + JSON + b'transfer-encoding: chunked\r\n\r\n5\r\n{"tex\r\n', id="chunked"
        ),
        pytest.param(
            HEAD + JSON + b"expect: 100-continue\r\ncontent-length: 14\r\n\r\n", id="expect"
        ),
        pytest.param(
            b"POST " + BOARD + b"/steps HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: 2\r\n\r\n{",
            id="stream-action",
        ),
    ],
)
async def test_hardening_body_stalled_bodies_time_out(request_bytes: bytes) -> None:
    with running_server(build_hardening_app(body_timeout=TIMEOUT)) as server:
        with anyio.fail_after(10):
            answer = await exchange(server.port, request_bytes)
    assert_timed_out(answer.status, answer.body)


async def test_hardening_body_many_stalled_megabyte_bodies_are_all_dropped() -> None:
    """64 clients each send ~1 MB of a declared 1 MiB body, then stop: all are dropped."""
    body = b'{"text": "' + b"x" * 1_000_000
    declared = 1024 * 1024
    answers: list[bytes] = []
    # A longer limit here: each client's megabyte must be sent before its 408
    # closes the connection, also on a loaded machine.
    with running_server(build_hardening_app(body_timeout=3.0)) as server:

        async def stall() -> None:
            async with await anyio.connect_tcp("127.0.0.1", server.port) as stream:
                await stream.send(HEAD + JSON + b"content-length: %d\r\n\r\n" % declared + body)
                answers.append(await read_to_close(stream))

        with anyio.fail_after(60):
            async with anyio.create_task_group() as tasks:
                for _ in range(64):
                    tasks.start_soon(stall)
    assert len(answers) == 64
    assert all(a.startswith(b"HTTP/1.1 408") for a in answers), {a[:12] for a in answers}


async def test_hardening_body_complete_body_is_served_normally() -> None:
    with running_server(build_hardening_app(body_timeout=TIMEOUT)) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
            added = await http.post(
                f"{BOARD.decode()}/add",
                params={"board": "lobby"},
                json={"text": "hi"},
                headers={"x-belay-page": "/boards/lobby"},
            )
    assert added.status_code == 200
    assert added.json()["sideeffect"]["notes"] == 1


def test_hardening_body_timeout_must_be_positive_or_none() -> None:
    for bad in (0, -1.0, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="body_timeout"):
            build_hardening_app(body_timeout=bad)
    assert isinstance(build_hardening_app(body_timeout=None), RPCApp)
