"""Random HTTP/1.1 requests, malformed ones included, and a raw-socket client for them.

``FuzzRequests(seed)`` draws requests for the hardening app (``tests/e2e/hardening_apps``):
random methods, routes, query strings, headers, bodies and body framings (a body
shorter than its ``Content-Length``, chunked, truncated chunked, ``Expect:
100-continue``, bytes that are not UTF-8). ``exchange`` sends one over a plain
socket and reads the first answer, or notices the server closing.
"""

from __future__ import annotations

import contextlib
import random
from dataclasses import dataclass

import anyio
import anyio.abc

API = b"/internal/api"
ROUTES = (
    b"BoardController/render",
    b"BoardController/lookup",
    b"BoardController/add",
    b"BoardController/steps",
    b"BoardController/resume",
    b"BoardController/quiet",
    b"BoardController/nothing",
    b"Nobody/render",
    b"BoardController",
    b"BoardController/render/extra",
    b"",
)
METHODS = (b"GET", b"POST", b"POST", b"POST", b"HEAD", b"OPTIONS", b"PUT", b"DELETE", b"BREW")
NAMES = (b"steps", b"count", b"ratio", b"tags", b"ident", b"day", b"mood", b"flag", b"page")
NAMES_MORE = (b"zoom", b"board", b"text", b"%ff", b"", b"a%00b")
VALUES = (
    b"1",
    b"-1",
    b"0",
    b"",
    b"9" * 20,
    b"1" * 20,
    b"9" * 5000,
    b"x" * 10240,
    b"1e400",
    b"-1e400",
    b"nan",
    b"inf",
    b"%ff%fe",
    b"%00",
    b"%C3%A9",
    b"%E2%80%A8",
    b"%",
    b"%zz",
    b"true",
    b"maybe",
    b"calm",
    b"2024-02-30",
    b"00000000-0000-0000-0000-000000000000",
    b"+5",
    b"1_000",
    b"0x10",
    b"%0d%0aSet-Cookie:%20x=1",
)
PAGES = (
    b"/boards/lobby",
    b"/boards/lobby?page=2&zoom=1.5",
    b"/boards/" + b"a" * 10000,
    b"/boards/%ff%fe",
    b"/boards/a%00b",
    b"/boards/lobby?page=" + b"9" * 30,
    b"/boards/lobby?zoom=1e400",
    b"/boards/lobby?zoom=nan",
    b"http://[::1",
    b"http://example.com/boards/x?page=1",
    b"/other/place",
    b"\xff\xfe\xfd",
    b"",
    b"/boards/",
    b"//boards//lobby",
)
ORIGINS = (b"http://evil.example", b"null", b"http://[::1", b"\xff" * 300, b"http://127.0.0.1")
CONTENT_TYPES = (
    b"application/json",
    b"application/json; charset=utf-8",
    b"application/vnd.x+json",
    b"text/plain",
    b"multipart/form-data; boundary=x",
    b"application/json; charset=\xff",
    b"",
    b";;;",
)
BODIES = (
    b'{"text": "hello"}',
    b"{}",
    b"",
    b"null",
    b'{"text": 1e400}',
    b'{"text": "\\ud800"}',
    b"[" * 5000 + b"]" * 5000,
    b'{"text": "' + b"y" * 4000 + b'"}',
    b"\xff\xfe\x00garbage",
    b'{"text": "a", "text": "b"}',
    b"{",
)
ODD_HEADERS = (
    (b"last-event-id", b"9" * 10000),
    (b"last-event-id", b"\xff\xfe"),
    (b"last-event-id", b"5"),
    (b"accept", b"text/html"),
    (b"sec-fetch-site", b"cross-site"),
    (b"referer", b"/boards/from-referer?page=3"),
    (b"x-belay-page", b"/boards/" + b"%ff" * 2000),
    (b"access-control-request-method", b"POST"),
    (b"cookie", b"user=\xff\x01"),
    (b"x-odd", b"\x01\x02\x7f"),
    (b"host", b"evil.example"),
)


@dataclass(frozen=True)
class FuzzRequest:
    """One request's raw bytes, and whether it leaves its body unfinished."""

    data: bytes
    stalls: bool
    label: str
    head: bool  # a HEAD request: its answer has headers only


class FuzzRequests:
    """A seeded source of random, often malformed, requests."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)

    def draw(self) -> FuzzRequest:
        pick = self.random.choice
        route = pick(ROUTES[:6]) if self.random.random() < 0.8 else pick(ROUTES)
        usual = b"GET" if route.endswith(b"render") else b"POST"
        method = usual if self.random.random() < 0.85 else pick(METHODS)
        target = API + b"/" + route + self._query()
        headers: list[tuple[bytes, bytes]] = [(b"host", b"127.0.0.1")]
        if self.random.random() < 0.4:
            headers.append((b"x-belay-page", pick(PAGES)))
        if self.random.random() < 0.15:
            headers.append((b"origin", pick(ORIGINS)))
        if self.random.random() < 0.8:
            json_type = self.random.random() < 0.7
            headers.append(
                (b"content-type", CONTENT_TYPES[0] if json_type else pick(CONTENT_TYPES))
            )
        for _ in range(self.random.choice((0, 0, 1, 2))):
            headers.append(pick(ODD_HEADERS))
        if self.random.random() < 0.5:
            headers.append((b"connection", b"close"))
        body = pick(BODIES)
        framing = pick(("exact",) * 6 + ("short", "chunked", "truncated", "expect"))
        framing = framing if body or framing in ("short", "truncated") else "exact"
        data, stalls = self._frame(method, target, headers, body, framing)
        label = f"{method!r} {target[:80]!r} {framing}"
        return FuzzRequest(data, stalls, label, head=method == b"HEAD")

    def _query(self) -> bytes:
        if self.random.random() < 0.2:
            return b""
        pairs = []
        for _ in range(self.random.randrange(1, 5)):
            name = self.random.choice(NAMES if self.random.random() < 0.8 else NAMES_MORE)
            value = self.random.choice(VALUES if self.random.random() < 0.6 else VALUES[:4])
            pairs.append(name + b"=" + value)
        return b"?" + b"&".join(pairs)

    def _frame(
        self,
        method: bytes,
        target: bytes,
        headers: list[tuple[bytes, bytes]],
        body: bytes,
        framing: str,
    ) -> tuple[bytes, bool]:
        if framing == "chunked" or framing == "truncated":
            headers.append((b"transfer-encoding", b"chunked"))
            chunks = b"".join(
                b"%x\r\n%s\r\n" % (len(body[i : i + 700]), body[i : i + 700])
                for i in range(0, len(body), 700)
            )
            ending = b"0\r\n\r\n" if framing == "chunked" else b""
            return _head(method, target, headers) + chunks + ending, framing == "truncated"
        declared = len(body) + (self.random.randrange(1, 5000) if framing == "short" else 0)
        headers.append((b"content-length", str(declared).encode()))
        if framing == "expect":
            headers.append((b"expect", b"100-continue"))
            if self.random.random() < 0.5:  # a client that waits for the 100 and never sends
                return _head(method, target, headers), bool(body)
        return _head(method, target, headers) + body, framing == "short"


def _head(method: bytes, target: bytes, headers: list[tuple[bytes, bytes]]) -> bytes:
    lines = [method + b" " + target + b" HTTP/1.1", *(k + b": " + v for k, v in headers)]
    return b"\r\n".join(lines) + b"\r\n\r\n"


@dataclass(frozen=True)
class FuzzAnswer:
    """The first response to a request (status 0 if the server closed without one)."""

    status: int
    head: bytes
    body: bytes


async def exchange(port: int, data: bytes, *, head: bool = False) -> FuzzAnswer:
    """Send ``data`` and read the first final response, or the server's close.

    ``head``: the request is a HEAD, whose answer has no body whatever it declares.
    """
    async with await anyio.connect_tcp("127.0.0.1", port) as stream:
        # The server may answer and close before taking it all: read the answer then.
        with contextlib.suppress(anyio.BrokenResourceError, ConnectionError):
            await stream.send(data)
        return await _read_answer(stream, head)


async def _read_answer(stream: anyio.abc.SocketStream, head_only: bool) -> FuzzAnswer:
    buffer = b""
    while True:
        end = buffer.find(b"\r\n\r\n")
        if end >= 0:
            head, buffer = buffer[:end], buffer[end + 4 :]
            status = int(head.split(b" ", 2)[1])
            if 100 <= status < 200:
                continue  # 100 Continue: the final answer follows
            if head_only:
                return FuzzAnswer(status, head, b"")
            return FuzzAnswer(status, head, await _read_body(stream, head, buffer))
        chunk = await _receive(stream)
        if not chunk:
            return FuzzAnswer(0, buffer, b"")
        buffer += chunk


async def _read_body(stream: anyio.abc.SocketStream, head: bytes, buffer: bytes) -> bytes:
    lower = head.lower()
    length = None
    for line in lower.split(b"\r\n")[1:]:
        if line.startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    chunked = b"transfer-encoding: chunked" in lower
    while True:
        if length is not None and len(buffer) >= length:
            return buffer[:length]
        if chunked and (buffer.endswith(b"\r\n0\r\n\r\n") or buffer == b"0\r\n\r\n"):
            return buffer
        chunk = await _receive(stream)
        if not chunk:
            return buffer
        buffer += chunk


async def _receive(stream: anyio.abc.SocketStream) -> bytes:
    try:
        return await stream.receive()
    except (anyio.EndOfStream, anyio.BrokenResourceError, ConnectionError):
        return b""
