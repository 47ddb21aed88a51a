"""A scripted ASGI peer for stream tests: ``receive`` on cue, ``send`` recorded."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import anyio


@dataclass
class Peer:
    """Plays the server side of one request.

    ``receive()`` blocks until ``disconnect()``; ``send()`` records each message,
    can raise ``fail_with`` on the body message number ``fail_at`` (1-based), or
    block from body message number ``block_at`` (a client that stopped reading)
    until ``disconnect()``, then return as hypercorn does once the socket is gone.
    """

    fail_at: int | None = None
    fail_with: BaseException = field(default_factory=lambda: ConnectionResetError("peer gone"))
    block_at: int | None = None
    lazy_receive: bool = False  # receive() always awaits first, even after a disconnect
    receives: int = 0  # how many times receive() was called
    messages: list[dict[str, Any]] = field(default_factory=list)
    _gone: anyio.Event = field(default_factory=anyio.Event)
    _sent: anyio.Event = field(default_factory=anyio.Event)

    def disconnect(self) -> None:
        self._gone.set()

    async def receive(self) -> dict[str, Any]:
        self.receives += 1
        # Like hypercorn and uvicorn, a queued disconnect is returned without
        # awaiting; ``lazy_receive`` models servers that always await first.
        if self.lazy_receive or not self._gone.is_set():
            await self._gone.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            number = len(self.bodies) + 1
            if number == self.fail_at:
                raise self.fail_with
            if self.block_at is not None and number >= self.block_at:
                self._sent.set()
                await self._gone.wait()
                return
        self.messages.append(message)
        self._sent.set()

    async def wait_sent(self, count: int) -> None:
        """Wait until ``count`` body messages have been recorded."""
        while len(self.bodies) < count:
            self._sent = anyio.Event()
            await self._sent.wait()

    @property
    def start(self) -> dict[str, Any]:
        return self.messages[0]

    @property
    def status(self) -> int:
        return int(self.start["status"])

    @property
    def headers(self) -> dict[bytes, bytes]:
        return dict(self.start["headers"])

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["type"] == "http.response.body"]

    @property
    def body(self) -> bytes:
        return b"".join(m["body"] for m in self.bodies)

    @property
    def ended(self) -> bool:
        return bool(self.bodies) and not self.bodies[-1].get("more_body", False)
