"""Driving an ASGI app by hand: a scripted ``receive`` and a recording ``send``.

Used where httpx hides what matters: how many times the app read the body,
and what happened before or after the response was sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio
import orjson


@dataclass
class ASGIResult:
    """What the app sent, plus how often it called ``receive``."""

    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    receive_calls: int = 0

    def json(self) -> Any:
        return orjson.loads(self.body)


def http_scope(
    method: str,
    path: str,
    *,
    query: bytes = b"",
    headers: Iterable[tuple[str, str]] = (),
    root_path: str = "",
) -> dict[str, Any]:
    raw = [(b"host", b"testserver")]
    raw += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": root_path,
        "query_string": query,
        "headers": raw,
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }


async def call(
    app: Any,
    method: str,
    path: str,
    *,
    query: bytes = b"",
    headers: Iterable[tuple[str, str]] = (),
    chunks: Sequence[bytes] = (b"",),
    log: list[str] | None = None,
) -> ASGIResult:
    """Call ``app`` once; the body arrives as ``chunks`` (then the client waits forever).

    When ``log`` is given, ``"response sent"`` is appended once the final body
    message has been sent, so tests can order cleanup against it.
    """
    result = ASGIResult()
    scope = http_scope(method, path, query=query, headers=headers)

    async def receive() -> dict[str, Any]:
        index = result.receive_calls
        result.receive_calls += 1
        if index < len(chunks):
            more = index < len(chunks) - 1
            return {"type": "http.request", "body": chunks[index], "more_body": more}
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            result.status = message["status"]
            result.headers = {k.decode(): v.decode() for k, v in message.get("headers", [])}
        elif message["type"] == "http.response.body":
            result.body += message.get("body", b"")
            if not message.get("more_body", False) and log is not None:
                log.append("response sent")

    with anyio.fail_after(5):
        await app(scope, receive, send)
    return result


def json_post(
    app: Any,
    path: str,
    body: Any = None,
    *,
    query: bytes = b"",
    headers: Iterable[tuple[str, str]] = (),
    log: list[str] | None = None,
) -> Any:
    """``call`` for a JSON action POST (a coroutine)."""
    content = b"" if body is None else orjson.dumps(body)
    all_headers = [("content-type", "application/json"), *headers]
    return call(app, "POST", path, query=query, headers=all_headers, chunks=(content,), log=log)
