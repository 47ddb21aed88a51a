"""The browser notification websocket, served by each app process on the app's own port.

``GET /__belay/dev`` (websocket) and ``GET /__belay/dev.js`` (the page snippet)
are answered before the user's app sees the request. The supervisor decides
when browsers should reload and sends the message to the serving app process
over the control channel (``messages.Notify``); the process broadcasts it.

Because the websocket lives on the app's host and port, a tab reconnects to
whatever serves there next: a replacement app process or a restarted
``belay dev``. Every process has its own ``id``, sent in the ``hello``; a tab
that reconnects names the process it knew (``?last=ID``), and when that is
another process the page is out of date, so it is sent a reload at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import MutableMapping
from typing import Any
from urllib.parse import parse_qs

import orjson
from starlette.websockets import WebSocket, WebSocketDisconnect

from devserver.hosts import HostPolicy
from devserver.snippet import snippet_text

NOTIFY_PATH = "/__belay/dev"
SNIPPET_PATH = "/__belay/dev.js"
SEND_TIMEOUT_S = 1.0

Scope = MutableMapping[str, Any]


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of header ``name`` (lower-case bytes), decoded as latin-1."""
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


class Notifier:
    """The connected browsers of this app process, and the reload broadcast to them."""

    def __init__(self, hosts: HostPolicy) -> None:
        self.hosts = hosts
        self.id = secrets.token_hex(8)
        self._clients: set[WebSocket] = set()
        self._restart_message: dict[str, Any] | None = None
        self.snippet = snippet_text().encode()

    @property
    def client_count(self) -> int:
        """How many browsers are connected."""
        return len(self._clients)

    async def broadcast(self, payload: dict[str, Any]) -> int:
        """Send ``payload`` as JSON to every connected browser; return how many got it.

        A restart message is also kept for tabs that reconnect from the process
        this one replaced.
        """
        if payload.get("restart"):
            self._restart_message = payload
        text = orjson.dumps(payload).decode()
        sent = 0
        for client in list(self._clients):
            try:
                await asyncio.wait_for(client.send_text(text), timeout=SEND_TIMEOUT_S)
                sent += 1
            except (TimeoutError, WebSocketDisconnect, RuntimeError, OSError):
                self._clients.discard(client)
        return sent

    def first_message(self, last: str) -> dict[str, Any]:
        """What a tab gets on connect: ``hello``, or a reload when it knew another process."""
        if last and last != self.id:
            message = self._restart_message or {"type": "reload", "modules": [], "codegen": []}
            return {**message, "restart": True, "id": self.id}
        return {"type": "hello", "id": self.id}

    async def serve_socket(self, scope: Scope, receive: Any, send: Any) -> None:
        """The websocket endpoint (ASGI): refuse a foreign ``Origin``, then stream messages."""
        websocket = WebSocket(scope, receive, send)
        if not self.hosts.allows_origin(header(scope, b"origin"), header(scope, b"host")):
            await websocket.close(code=1008, reason="origin not allowed")
            return
        last = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("last", [""])[0]
        await websocket.accept()
        self._clients.add(websocket)
        try:
            await websocket.send_text(orjson.dumps(self.first_message(last)).decode())
            while True:
                await websocket.receive_text()
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass
        finally:
            self._clients.discard(websocket)

    async def close_all(self) -> None:
        """Close every browser socket (going away), so tabs reconnect to what serves next."""
        for client in list(self._clients):
            with contextlib.suppress(TimeoutError, RuntimeError, OSError):
                await asyncio.wait_for(client.close(code=1001), timeout=SEND_TIMEOUT_S)
        self._clients.clear()

    async def send_snippet(self, send: Any) -> None:
        """Answer ``GET /__belay/dev.js``."""
        headers = [
            (b"content-type", b"text/javascript; charset=utf-8"),
            (b"cache-control", b"no-store"),
            (b"content-length", str(len(self.snippet)).encode()),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": self.snippet})
