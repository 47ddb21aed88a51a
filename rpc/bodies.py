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


def check_content_type(headers: Headers, body: bytes | None = None) -> None:
    """415 unless the request says it is JSON.

    Called before the body is read (``body=None``: refuse a declared non-JSON
    type early) and after (a non-empty body needs a JSON content type).
    """
    content_type = headers.get("content-type")
    if content_type is None:
        if body:
            raise HTTPError(415, "action bodies must be sent as Content-Type: application/json")
        return
    media = content_type.split(";", 1)[0].strip().lower()
    if media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    ):
        return
    raise HTTPError(415, f"actions take application/json bodies, got {content_type!r}")


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
    if not _on_asyncio():
        received = bytearray()
        try:
            with anyio.fail_after(time_limit):
                return await _receive_all(receive, limit, received, receive())
        except TimeoutError:
            raise _timed_out(received, time_limit) from None
    # The usual body is whole in the first message and already there. Taken
    # without a suspension it needs no timer, and a timer per request costs more
    # than reading and validating a small body. Only a receive() that suspends
    # is awaited under the time limit: an asyncio timeout, which (unlike a
    # cancel scope) may be entered while the receive() it covers is under way.
    waiting = receive().__await__()
    try:
        suspended = waiting.send(None)
    except StopIteration as done:
        message: Message = done.value
        if message["type"] == "http.request" and not message.get("more_body", False):
            return _whole(message, limit)
        first = _resumed(None, message)
    else:
        first = _resumed(waiting, suspended)
    # One growing buffer rather than a list of chunks: past a few hundred KB it
    # lives in its own memory mapping, so a dropped body goes back to the OS.
    received = bytearray()
    try:
        async with asyncio.timeout(time_limit):
            return await _receive_all(receive, limit, received, first)
    except TimeoutError:
        raise _timed_out(received, time_limit) from None


def _on_asyncio() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _timed_out(received: bytearray, time_limit: float | None) -> HTTPError:
    received.clear()  # released now, not when the 408 has been sent
    return HTTPError(
        408,
        f"the request body did not arrive within {time_limit:g} seconds",
        headers={"Connection": "close"},
    )


def _whole(message: Message, limit: int) -> bytes:
    """The body of a request that came in one message."""
    chunk: bytes = message.get("body", b"")
    if len(chunk) > limit:
        raise HTTPError(413, f"request body exceeds the limit of {limit} bytes")
    return chunk


@types.coroutine
def _resumed(
    waiting: Generator[Any, Any, Message] | None, suspended: Any
) -> Generator[Any, Any, Message]:
    """The first message: a ``receive()`` stepped to ``suspended``, driven on.

    Resumes ``waiting`` the way ``yield from`` would, so the event loop and
    cancellation see an ordinary await. With ``waiting`` None, ``suspended`` is
    the message itself, already received.
    """
    if waiting is None:
        message: Message = suspended
        return message
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


async def _receive_all(
    receive: Receive, limit: int, received: bytearray, first: Awaitable[Message]
) -> bytes:
    message = await first
    while True:
        if message["type"] == "http.disconnect":
            raise ClientDisconnected
        received += message.get("body", b"")
        if len(received) > limit:
            raise HTTPError(413, f"request body exceeds the limit of {limit} bytes")
        if not message.get("more_body", False):
            return bytes(received)
        message = await receive()
