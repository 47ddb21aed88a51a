"""Reading an action's request body, with its size, time and content-type limits."""

from __future__ import annotations

import anyio
from starlette.datastructures import Headers
from starlette.types import Receive

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
    # One growing buffer rather than a list of chunks: past a few hundred KB it
    # lives in its own memory mapping, so a dropped body goes back to the OS.
    received = bytearray()
    try:
        with anyio.fail_after(time_limit):
            return await _receive_all(receive, limit, received)
    except TimeoutError:
        received.clear()  # released now, not when the 408 has been sent
        raise HTTPError(
            408,
            f"the request body did not arrive within {time_limit:g} seconds",
            headers={"Connection": "close"},
        ) from None


async def _receive_all(receive: Receive, limit: int, received: bytearray) -> bytes:
    first = True
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnected
        chunk: bytes = message.get("body", b"")
        more = message.get("more_body", False)
        if first and not more and len(chunk) <= limit:
            return chunk  # the usual case: the whole body in one message, no copy
        first = False
        received += chunk
        if len(received) > limit:
            raise HTTPError(413, f"request body exceeds the limit of {limit} bytes")
        if not more:
            return bytes(received)
