"""Reading an action's request body, with its size, time and content-type limits."""

from __future__ import annotations

import asyncio
import types
from collections.abc import Awaitable, Generator
from typing import Any

import anyio
from starlette.datastructures import Headers
from starlette.types import Message, Receive

from rpc.errors import HTTPError


class ClientDisconnected(Exception):
    """The client went away while its request body was being read."""


def check_content_type(headers: Headers) -> bool:
    """415 unless a declared content type is JSON; True if one was declared.

    Called before the body is read, to refuse a declared non-JSON type early;
    a body that came without one is refused by ``check_undeclared_body``.
    """
    content_type = headers.get("content-type")
    if content_type is None:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    if media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    ):
        return True
    raise HTTPError(415, f"actions take application/json bodies, got {content_type!r}")


def check_undeclared_body(body: bytes, *, declared: bool) -> None:
    """415 for a non-empty body sent without a content type (``declared=False``)."""
    if body and not declared:
        raise HTTPError(415, "action bodies must be sent as Content-Type: application/json")


async def read_body(
    headers: Headers, receive: Receive, limit: int, *, time_limit: float | None = None
) -> bytes:
    """The whole body, refusing (413) past ``limit`` bytes without reading on.

    A declared ``Content-Length`` over the limit is refused before any read. A
    body that has not fully arrived ``time_limit`` seconds after the read began is
    a 408: a client that stalls mid-body (or promised more than it sent) must
    not hold its connection and the part already received forever.
    """
    declared = headers.get("content-length")
    if declared is not None:
        if not (declared.isascii() and declared.isdigit()):  # not "²"
            raise HTTPError(400, f"invalid Content-Length header {declared!r}")
        if int(declared) > limit:
            raise HTTPError(413, f"request body of {declared} bytes exceeds the limit of {limit}")
    try:
        asyncio.get_running_loop()
    except RuntimeError:  # not asyncio (trio): the whole read under one cancel scope
        return await _read_in_scope(receive, limit, time_limit)
    # The usual body has already arrived when it is read (in one message, or
    # two from hypercorn: the data, then an empty last part). Taken without a
    # suspension it needs no timer, and a timer per request costs more than
    # reading and validating a small body. Only from the first receive() that
    # suspends on is the rest awaited under the time limit: an asyncio timeout,
    # which (unlike a cancel scope) may be entered while that receive() is
    # under way. A body in one part is kept as it came: no buffer is made for it.
    first = b""
    body: _BodyBuffer | None = None
    while True:
        waiting = receive().__await__()
        try:
            suspended = waiting.send(None)
        except StopIteration as done:
            message: Message = done.value
        else:
            body = body or _BodyBuffer(limit, first)
            first = b""
            try:
                async with asyncio.timeout(time_limit):
                    return await _receive_all(receive, body, _resumed(waiting, suspended))
            except TimeoutError:
                raise _timed_out(body, time_limit) from None
        if message["type"] == "http.disconnect":
            raise ClientDisconnected
        chunk = message.get("body", b"")
        if body is None and not first:
            if len(chunk) > limit:
                raise _too_large(limit)
            first = chunk
        elif chunk:
            body = body or _BodyBuffer(limit, first)
            first = b""
            body.add(chunk)
        if not message.get("more_body", False):
            return first if body is None else body.whole()


class _BodyBuffer:
    """The parts of a body received so far, refused (413) past ``limit`` bytes."""

    __slots__ = ("_first", "_limit", "_rest")

    def __init__(self, limit: int, first: bytes = b"") -> None:
        self._limit = limit
        self._first = first  # the caller has checked it against the limit
        # One growing buffer rather than a list of chunks: past a few hundred KB
        # it lives in its own memory mapping, so a dropped body goes back to the OS.
        self._rest: bytearray | None = None

    def add(self, chunk: bytes) -> None:
        if not chunk:
            return
        if self._rest is None and not self._first:
            self._first = chunk  # kept as it came: a one-part body is never copied
            size = len(chunk)
        else:
            if self._rest is None:
                self._rest = bytearray(self._first)
                self._first = b""
            self._rest += chunk
            size = len(self._rest)
        if size > self._limit:
            self.clear()
            raise _too_large(self._limit)

    def whole(self) -> bytes:
        return self._first if self._rest is None else bytes(self._rest)

    def clear(self) -> None:
        self._first = b""
        if self._rest is not None:
            self._rest.clear()


def _take(body: _BodyBuffer, message: Message) -> bool:
    """Add ``message``'s part to ``body``; True once it was the last part."""
    if message["type"] == "http.disconnect":
        raise ClientDisconnected
    body.add(message.get("body", b""))
    return not message.get("more_body", False)


def _too_large(limit: int) -> HTTPError:
    return HTTPError(413, f"request body exceeds the limit of {limit} bytes")


def _timed_out(body: _BodyBuffer, time_limit: float | None) -> HTTPError:
    body.clear()  # released now, not when the 408 has been sent
    return HTTPError(
        408,
        f"the request body did not arrive within {time_limit:g} seconds",
        headers={"Connection": "close"},
    )


@types.coroutine
def _resumed(waiting: Generator[Any, Any, Message], suspended: Any) -> Generator[Any, Any, Message]:
    """The message of a ``receive()`` stepped to ``suspended``, driven on.

    Resumes ``waiting`` the way ``yield from`` would, so the event loop and
    cancellation see an ordinary await.
    """
    try:
        while True:
            try:
                sent = yield suspended
            except GeneratorExit:
                raise
            except BaseException as exc:
                suspended = waiting.throw(exc)
            else:
                suspended = waiting.send(sent)
    except StopIteration as done:
        result: Message = done.value
        return result
    finally:
        waiting.close()


async def _read_in_scope(receive: Receive, limit: int, time_limit: float | None) -> bytes:
    body = _BodyBuffer(limit)
    try:
        with anyio.fail_after(time_limit):
            return await _receive_all(receive, body, receive())
    except TimeoutError:
        raise _timed_out(body, time_limit) from None


async def _receive_all(receive: Receive, body: _BodyBuffer, first: Awaitable[Message]) -> bytes:
    message = await first
    while not _take(body, message):
        message = await receive()
    return body.whole()
