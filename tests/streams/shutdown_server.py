"""A hypercorn process serving EventStreams, driven by test_shutdown.py.

Usage: python shutdown_server.py REPORT_PATH (trigger|plain) GRACEFUL_TIMEOUT

Prints the port once listening. ``trigger`` serves with
``streams.shutdown_trigger(registry)``; ``plain`` lets hypercorn handle the
signals itself, to show what happens without it. On exit it writes how many
generators were opened, ran their ``finally`` and had ``on_close`` run.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from typing import Any

import orjson
from hypercorn.asyncio import serve

from streams import shutdown_trigger
from streams.registry import StreamRegistry
from streams.response import EventStream
from streams.settings import ErrorPayload, StreamSettings
from tests.support.server import bound_socket, make_config

registry = StreamRegistry()
counts = {"opened": 0, "finally": 0, "on_close": 0}


async def ticks(path: str) -> AsyncIterator[object]:
    counts["opened"] += 1
    try:
        yield {"n": 0}
        if path == "/ticking":
            for n in range(1, 10_000):
                await asyncio.sleep(0.2)
                yield {"n": n}
        await asyncio.Event().wait()  # blocked in an await, forever
    finally:
        counts["finally"] += 1


async def on_close() -> None:
    counts["on_close"] += 1


def render_error(exc: BaseException) -> ErrorPayload:
    return ErrorPayload(500, b'{"detail":"Internal Server Error"}')


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await registry.close_all()  # second line of defence; normally a no-op here
                await send({"type": "lifespan.shutdown.complete"})
                return
    await receive()  # the empty request body
    stream = EventStream(
        ticks(scope["path"]),
        encode=orjson.dumps,
        render_error=render_error,
        settings=StreamSettings(ping_interval=5),
        registry=registry,
        on_close=on_close,
    )
    await stream(scope, receive, send)


def main() -> None:
    report, mode, graceful = sys.argv[1], sys.argv[2], float(sys.argv[3])
    sock = bound_socket()  # connections queue (backlog 2048) until hypercorn accepts them
    config = make_config(sock.fileno(), graceful_timeout=graceful, backlog=2048)
    print(sock.getsockname()[1], flush=True)
    trigger = shutdown_trigger(registry) if mode == "trigger" else None
    asyncio.run(serve(app, config, shutdown_trigger=trigger))  # type: ignore[arg-type]
    with open(report, "w") as file:
        json.dump(counts, file)


if __name__ == "__main__":
    main()
