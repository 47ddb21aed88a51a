"""The browser notification server, run by the supervisor on its own port.

It lives in the supervisor, not the app process, so browsers stay connected
across app restarts. ``GET /ws`` is the websocket; ``GET /belay-dev.js`` serves
the snippet (which then derives the websocket address from its own URL).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from devserver.snippet import snippet_text

HELLO = orjson.dumps({"type": "hello"}).decode()


class Notifier:
    """Keeps the connected browsers and broadcasts reload messages to them."""

    def __init__(self) -> None:
        self._clients: set[WebSocket] = set()
        self.app = Starlette(
            routes=[
                WebSocketRoute("/ws", self._socket),
                Route("/belay-dev.js", self._snippet),
            ]
        )

    @property
    def client_count(self) -> int:
        """How many browsers are connected."""
        return len(self._clients)

    async def broadcast(self, payload: dict[str, Any]) -> int:
        """Send ``payload`` as JSON to every connected browser; return how many got it."""
        text = orjson.dumps(payload).decode()
        sent = 0
        for client in list(self._clients):
            try:
                await asyncio.wait_for(client.send_text(text), timeout=1.0)
                sent += 1
            except (TimeoutError, WebSocketDisconnect, RuntimeError, OSError):
                self._clients.discard(client)
        return sent

    async def _socket(self, websocket: WebSocket) -> None:
        await websocket.accept()
        self._clients.add(websocket)
        try:
            await websocket.send_text(HELLO)  # registered: reloads will reach this socket
            while True:
                await websocket.receive_text()
        except WebSocketDisconnect:
            pass
        finally:
            self._clients.discard(websocket)

    async def _snippet(self, request: Request) -> Response:
        return Response(
            snippet_text(),
            media_type="text/javascript",
            headers={"cache-control": "no-store"},
        )


async def serve_notifier(notifier: Notifier, sock: socket.socket, *, stop: asyncio.Event) -> None:
    """Serve ``notifier`` on the bound ``sock`` until ``stop`` is set."""
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    config = Config()
    config.bind = [f"fd://{os.dup(sock.fileno())}"]  # hypercorn closes the fd it gets
    config.accesslog = None
    config.loglevel = "WARNING"
    config.graceful_timeout = 0.1
    with contextlib.suppress(asyncio.CancelledError):
        await serve(notifier.app, config, shutdown_trigger=stop.wait)  # type: ignore[arg-type]
