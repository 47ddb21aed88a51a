"""Servers for bench_streams.py: one process per variant, the same hypercorn config.

Usage: python bench/streams_server.py VARIANT   (prints its port, serves until SIGTERM)

Each variant is one function returning a ``Variant``: the ASGI app plus the raw
HTTP requests the client sends for "N events" and for "one event, then idle".
``belay`` is a real ``RPCApp`` streaming action (POST, query parameter bound,
items serialised by rpc's pydantic adapter); ``EventStream (bare)`` is the
streams layer alone, to show what the rpc layer costs.
"""

from __future__ import annotations

import asyncio
import socket
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import orjson
from hypercorn.asyncio import serve
from hypercorn.config import Config
from pydantic import BaseModel, TypeAdapter
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from rpc import ControllerBase, RPCApp, passthrough
from streams import shutdown_trigger
from streams.registry import StreamRegistry
from streams.response import EventStream
from streams.settings import ErrorPayload


class Tick(BaseModel):
    n: int
    label: str


class Page(BaseModel):
    title: str


@dataclass(frozen=True)
class Variant:
    app: Any
    events_request: Callable[[int], bytes]  # raw HTTP/1.1 request for `count` events
    idle_request: bytes  # one event, then nothing
    registry: StreamRegistry | None = None


def get_request(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n".encode()


async def ticks(count: int) -> AsyncIterator[Tick]:
    for n in range(count):
        yield Tick(n=n, label="tick")


async def idle() -> AsyncIterator[Tick]:
    yield Tick(n=0, label="hello")
    await asyncio.Event().wait()


def make_encode() -> Callable[[object], bytes]:
    """Encode one yielded item as rpc does: validate/serialise by the declared model, orjson."""
    adapter: TypeAdapter[Any] = TypeAdapter(Tick)

    def encode(item: object) -> bytes:
        return orjson.dumps(adapter.dump_python(item, mode="json", by_alias=True))

    return encode


def render_error(exc: BaseException) -> ErrorPayload:
    return ErrorPayload(500, b'{"detail":"Internal Server Error"}')


class BenchController(ControllerBase):
    """The Belay variant: real streaming actions of an RPCApp."""

    async def render(self) -> Page:
        return Page(title="bench")

    @passthrough
    async def events(self, count: int) -> AsyncIterator[Tick]:
        for n in range(count):
            yield Tick(n=n, label="tick")

    @passthrough
    async def idle(self) -> AsyncIterator[Tick]:
        yield Tick(n=0, label="hello")
        await asyncio.Event().wait()


def post_request(path: str) -> bytes:
    head = f"POST {path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: 0\r\n\r\n"
    return head.encode()


def belay_variant() -> Variant:
    """A streaming ``@passthrough`` of an ``RPCApp``, served as ``belay serve`` will."""
    app = RPCApp([BenchController()])
    base = "/internal/api/BenchController"
    return Variant(
        app,
        lambda n: post_request(f"{base}/events?count={n}"),
        post_request(f"{base}/idle"),
        app.stream_registry,
    )


def bare_event_stream_variant() -> Variant:
    """``streams.EventStream`` alone behind a bare ASGI app: what RPCApp adds shows as the gap."""
    registry = StreamRegistry()
    encode = make_encode()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await receive()  # the empty request body
        if scope["path"] == "/events":
            source = ticks(int(scope["query_string"].decode().partition("=")[2]))
        else:
            source = idle()
        stream = EventStream(source, encode=encode, render_error=render_error, registry=registry)
        await stream(scope, receive, send)

    return Variant(app, lambda n: get_request(f"/events?count={n}"), get_request("/idle"), registry)


def sse_starlette_variant() -> Variant:
    from sse_starlette import EventSourceResponse

    async def as_dicts(source: AsyncIterator[Tick]) -> AsyncIterator[dict[str, str]]:
        async for tick in source:
            yield {"data": tick.model_dump_json()}

    async def events(request: Request) -> EventSourceResponse:
        return EventSourceResponse(as_dicts(ticks(int(request.query_params["count"]))))

    async def idle_one(request: Request) -> EventSourceResponse:
        return EventSourceResponse(as_dicts(idle()))

    app = Starlette(routes=[Route("/events", events), Route("/idle", idle_one)])
    return Variant(app, lambda n: get_request(f"/events?count={n}"), get_request("/idle"))


def streaming_variant() -> Variant:
    async def frames(source: AsyncIterator[Tick]) -> AsyncIterator[bytes]:
        async for tick in source:
            yield b"data: " + tick.model_dump_json().encode() + b"\n\n"

    def respond(source: AsyncIterator[Tick]) -> StreamingResponse:
        headers = {"cache-control": "no-store"}
        return StreamingResponse(frames(source), media_type="text/event-stream", headers=headers)

    async def events(request: Request) -> StreamingResponse:
        return respond(ticks(int(request.query_params["count"])))

    async def idle_one(request: Request) -> StreamingResponse:
        return respond(idle())

    app = Starlette(routes=[Route("/events", events), Route("/idle", idle_one)])
    return Variant(app, lambda n: get_request(f"/events?count={n}"), get_request("/idle"))


VARIANTS: dict[str, Callable[[], Variant]] = {
    "belay": belay_variant,
    "EventStream (bare)": bare_event_stream_variant,
    "sse-starlette": sse_starlette_variant,
    "StreamingResponse": streaming_variant,
}


def make_config(sock: socket.socket) -> Config:
    config = Config()
    config.bind = [f"fd://{sock.fileno()}"]
    config.backlog = 4096
    config.accesslog = None
    config.graceful_timeout = 1.0
    return config


def main() -> None:
    variant = VARIANTS[sys.argv[1]]()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(4096)
    print(sock.getsockname()[1], flush=True)
    registries = [variant.registry] if variant.registry is not None else []
    trigger = shutdown_trigger(*registries)
    asyncio.run(serve(variant.app, make_config(sock), shutdown_trigger=trigger))


if __name__ == "__main__":
    main()
