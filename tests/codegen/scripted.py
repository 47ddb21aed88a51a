"""Hand-written SSE answers in front of the fixture app, for what it cannot send yet.

A request with ``X-Test-Script: <name>`` gets that script's frames, written by
hand the way the channel and live-state servers frame them (``event: reset``,
``<epoch>-<offset>`` ids, a ``/live`` stream of full then partial states),
followed by a dropped connection or an end. ``GET .../CounterController/live``
needs no header. Every scripted request is recorded (path, headers), so the
tests can check what the client sent on each (re)connect.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import anyio
import orjson

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Message, Receive, Send], Awaitable[None]]

LIVE_PATH = "/internal/api/CounterController/live"
SSE = [(b"content-type", b"text/event-stream; charset=utf-8"), (b"cache-control", b"no-store")]


def item(data: object, event_id: str | None = None) -> bytes:
    """A data frame, ``id:`` last as Belay's framing writes it."""
    frame = b"data: " + orjson.dumps(data) + b"\n"
    return frame + (b"" if event_id is None else f"id: {event_id}\n".encode()) + b"\n"


def reset(position: str) -> bytes:
    return b"event: reset\ndata: " + orjson.dumps({"position": position}) + b"\n\n"


END = b"event: end\ndata: {}\n\n"


@dataclass
class Answer:
    """One scripted answer: a status, frames, and whether the connection is then cut."""

    frames: list[bytes] = field(default_factory=list)
    status: int = 200
    cut: bool = False
    hold: bool = False  # stay open (pinging) until the client leaves
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)


def answer_for(script: str, attempt: int) -> Answer:
    """What the ``attempt``-th request (0-based) of a script gets."""
    if script == "reset":
        if attempt == 0:
            return Answer([item({"n": 1}, "e1-1"), item({"n": 2}, "e1-2")], cut=True)
        # A resumed connection repeats e1-2 (dropped by the client), then the
        # history is lost: reset to a new epoch and go on from there.
        return Answer(
            [
                item({"n": 2}, "e1-2"),
                item({"n": 3}, "e1-3"),
                reset("e2-0"),
                item({"n": 4}, "e2-1"),
                END,
            ]
        )
    if script == "expired":
        if attempt == 0:
            return Answer([item({"n": 1}, "a-1")], cut=True)
        body = orjson.dumps({"detail": "not allowed", "reason": "token expired"})
        headers = [(b"content-type", b"application/json"), (b"x-belay-error-type", b"NotAllowed")]
        return Answer([body], status=403, headers=headers)
    if script == "live":
        if attempt == 0:
            full, partial = {"count": 1, "room": "lobby"}, {"count": 2}
            return Answer([item(full), item(partial)], cut=True)
        return Answer([item({"count": 5, "room": "lobby"}), item({"count": 6})], hold=True)
    raise ValueError(f"unknown test script {script!r}")


@dataclass
class ScriptedRequest:
    script: str
    path: str
    headers: dict[str, str]


class ScriptedStreams:
    """ASGI wrapper: scripted answers for marked requests, the app for the rest."""

    def __init__(self, app: ASGIApp, *, live_holds: bool = False) -> None:
        self.app = app
        self.requests: list[ScriptedRequest] = []
        # live_holds: every `/live` request gets a full state, a partial one, then stays open.
        self.live_holds = live_holds
        self.open_live = 0

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        path: str = scope["path"]
        marked = headers.get("x-test-script") if path.endswith("/forever") else None
        script = "live" if path == LIVE_PATH else marked
        if script is None:
            await self.app(scope, receive, send)
            return
        # A stream's first request has no Last-Event-ID; `/live` counts its requests.
        resumed = "last-event-id" in headers
        lives = sum(1 for r in self.requests if r.script == "live")
        attempt = lives if script == "live" else int(resumed)
        self.requests.append(ScriptedRequest(script, path, headers))
        answer = answer_for(script, attempt)
        if script == "live" and self.live_holds:
            answer = Answer([item({"count": 10, "room": "lobby"}), item({"count": 11})], hold=True)
        start = answer.headers if answer.status != 200 else SSE
        await send({"type": "http.response.start", "status": answer.status, "headers": start})
        for frame in answer.frames:
            await send({"type": "http.response.body", "body": frame, "more_body": True})
        if answer.cut:
            # Raising mid-body makes hypercorn abort the connection, as a network drop would.
            raise ConnectionAbortedError("connection cut by the test")
        if answer.hold:
            self.open_live += script == "live"
            try:
                await hold(receive, send)
            finally:
                self.open_live -= script == "live"
            return
        await send({"type": "http.response.body", "body": b""})


async def hold(receive: Receive, send: Send) -> None:
    """Keep the response open, pinging, until the client disconnects."""
    while True:
        with anyio.move_on_after(0.5):
            if (await receive())["type"] == "http.disconnect":
                return
        await send({"type": "http.response.body", "body": b": ping\n", "more_body": True})
