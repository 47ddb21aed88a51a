"""Odd query, path and header values of any size or encoding are a 4xx, never a 5xx.

Sent as raw bytes to a real hypercorn on 127.0.0.1, so values no HTTP client
library would send (latin-1 bytes, NUL, 10 KB headers) reach the app.
"""

from __future__ import annotations

from collections.abc import Iterator

import anyio
import orjson
import pytest

from tests.e2e.hardening_apps import build_hardening_app
from tests.support.fuzz import FuzzAnswer, exchange
from tests.support.server import ServerHandle, running_server

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

BOARD = b"/internal/api/BoardController"
HUGE_INT = b"9" * 10240
INT_20 = b"99999999999999999999"  # past 64 bits: orjson cannot write it back


@pytest.fixture(scope="module")
def server() -> Iterator[ServerHandle]:
    with running_server(build_hardening_app(body_timeout=5.0)) as handle:
        yield handle


def post(target: bytes, *headers: bytes, body: bytes = b"") -> bytes:
    lines = [b"POST " + BOARD + target + b" HTTP/1.1", b"host: 127.0.0.1", *headers]
    lines.append(b"content-length: %d" % len(body))
    return b"\r\n".join([*lines, b"connection: close"]) + b"\r\n\r\n" + body


def get(target: bytes, *headers: bytes) -> bytes:
    lines = [b"GET " + BOARD + target + b" HTTP/1.1", b"host: 127.0.0.1", *headers]
    return b"\r\n".join([*lines, b"connection: close"]) + b"\r\n\r\n"


JSON = b"content-type: application/json"
NOTE = b'{"text": "hi"}'

CASES: dict[str, bytes] = {
    # the reported one: a 10 KB string, then a 20-digit number, to a streaming action
    "stream steps 10KB then 20 digits": post(b"/steps?steps=" + b"x" * 10240 + b"&steps=" + INT_20),
    "stream steps 20 digits": post(b"/steps?steps=" + INT_20),
    "stream steps 10K digits": post(b"/steps?steps=" + HUGE_INT),
    "stream steps 1e400": post(b"/steps?steps=1e400"),
    "stream steps NUL": post(b"/steps?steps=%00"),
    "int 20 digits": post(b"/lookup?count=" + INT_20),
    "int below -2**63": post(b"/lookup?count=-9223372036854775809"),
    "int 10K digits": post(b"/lookup?count=" + HUGE_INT),
    "float 1e400": post(b"/lookup?ratio=1e400"),
    "float -1e400": post(b"/lookup?ratio=-1e400"),
    "float nan": post(b"/lookup?ratio=nan"),
    "float inf": post(b"/lookup?ratio=inf"),
    "float 10K digits": post(b"/lookup?ratio=" + HUGE_INT),
    "list int 20 digits": post(b"/lookup?tags=1&tags=" + INT_20),
    "enum invalid utf-8": post(b"/lookup?mood=%ff%fe"),
    "uuid invalid utf-8": post(b"/lookup?ident=%ff"),
    "date huge": post(b"/lookup?day=" + HUGE_INT),
    "bool odd": post(b"/lookup?flag=%00"),
    "render page 20 digits": get(b"/render", b"x-belay-page: /boards/x?page=" + INT_20),
    "render zoom 1e400": get(b"/render", b"x-belay-page: /boards/x?zoom=1e400"),
    "render zoom nan": get(b"/render", b"x-belay-page: /boards/x?zoom=nan"),
    "render page latin-1 bytes": get(b"/render", b"x-belay-page: /boards/\xff?page=\xfe"),
    "render page unclosed ipv6": get(b"/render", b"x-belay-page: http://[::1"),
    "render page other path": get(b"/render", b"x-belay-page: /" + b"z" * 10000),
    "render referer 20 digits": get(b"/render", b"referer: /boards/x?page=" + INT_20),
    "sideeffect page 20 digits": post(
        b"/add?board=x", JSON, b"x-belay-page: /boards/x?page=" + INT_20, body=NOTE
    ),
    "sideeffect page nan": post(
        b"/add?board=x", JSON, b"x-belay-page: /boards/x?zoom=nan", body=NOTE
    ),
    "content-type latin-1": post(b"/add?board=x", b"content-type: text/\xff", body=NOTE),
    "content-type huge": post(b"/add?board=x", b"content-type: " + b"a" * 10000, body=NOTE),
    "content-length 30 digits": (
        b"POST "
        + BOARD
        + b"/add HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: "
        + b"9" * 30
        + b"\r\nconnection: close\r\n\r\n"
    ),
    "origin latin-1": post(b"/add?board=x", JSON, b"origin: \xff" * 1, body=NOTE),
    "origin huge": post(b"/add?board=x", JSON, b"origin: http://" + b"o" * 10000, body=NOTE),
    "origin unclosed ipv6": post(b"/add?board=x", JSON, b"origin: http://[::1", body=NOTE),
    "last-event-id 10K digits then negative steps": post(
        b"/steps?steps=-1", b"last-event-id: " + HUGE_INT
    ),
    "path action latin-1": post(b"/%ff%fe"),
    "path controller huge": (
        b"GET /internal/api/" + b"C" * 10000 + b"/render HTTP/1.1\r\nhost: 127.0.0.1\r\n"
        b"connection: close\r\n\r\n"
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
async def test_hardening_values_odd_value_is_a_4xx_with_json_detail(
    server: ServerHandle, name: str
) -> None:
    with anyio.fail_after(20):
        answer = await exchange(server.port, CASES[name])
    assert 400 <= answer.status < 500, (answer.status, answer.body[:300])
    assert b"traceback" not in answer.body.lower()
    if b"server: hypercorn" in answer.head.lower() and not answer.body:
        return  # hypercorn refused the request line itself, before the app
    assert "detail" in orjson.loads(answer.body), answer.body[:300]


async def test_hardening_values_last_event_id_odd_bytes_reach_the_stream(
    server: ServerHandle,
) -> None:
    """Latin-1 bytes in Last-Event-ID are handed over as text; the stream answers normally."""
    with anyio.fail_after(20):
        answer: FuzzAnswer = await exchange(
            server.port, post(b"/resume", b"last-event-id: \xff\xfe" + b"\x01" * 3)
        )
    assert answer.status == 200
    assert b"event: end" in answer.body


async def test_hardening_values_in_range_values_still_work(server: ServerHandle) -> None:
    bound = b"9223372036854775807"
    with anyio.fail_after(20):
        lookup = await exchange(server.port, post(b"/lookup?count=" + bound + b"&ratio=1e300"))
        stream = await exchange(server.port, post(b"/steps?steps=-9223372036854775808"))
    assert lookup.status == 200
    assert orjson.loads(lookup.body)["passthrough"]["count"] == bound.decode()
    assert stream.status == 409  # the app's own error: the bound lets the minimum through
