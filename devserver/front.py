"""The ASGI front of the dev app process: host check, dev routes, request log.

Every request passes through here before the app (the swapper) sees it:

1. A foreign ``Host`` is refused with 403 (see :mod:`devserver.hosts`), for
   every route: actions, streams, debug pages, the websocket.
2. ``/__belay/dev`` (websocket) and ``/__belay/dev.js`` are answered by the
   :class:`~devserver.notify.Notifier`.
3. Everything else goes to the app, and one line is logged when the response
   ends: ``GET /path 200 3 ms``. A 404 for ``/favicon.ico`` is not logged
   (browsers ask for it on every page).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

import orjson

from devserver.notify import NOTIFY_PATH, SNIPPET_PATH, Notifier, Scope, header

ASGIApp = Any  # the ASGI boundary


def forbidden_host_body(host: str) -> bytes:
    """The JSON answer to a request with a foreign ``Host``."""
    message = (
        f"host {host!r} is not allowed by the belay dev server; "
        "start it with --allowed-host NAME to allow it"
    )
    return orjson.dumps({"error": {"code": "forbidden_host", "message": message}})


def printable(raw: bytes) -> str:
    """``raw`` for a log line: non-printable bytes escaped, so a path cannot forge lines."""
    return raw.decode("ascii", "backslashreplace").encode("unicode_escape").decode("ascii")


def request_path(scope: Scope) -> bytes:
    """The path as the client sent it (percent-encoded, without the query)."""
    raw = scope.get("raw_path")
    return bytes(raw) if raw else str(scope.get("path", "")).encode("utf-8")


class RequestLog:
    """Writes ``METHOD PATH STATUS MS`` lines to ``out`` (stdout by default)."""

    def __init__(self, out: Callable[[], TextIO] = lambda: sys.stdout) -> None:
        self._out = out

    def line(self, method: str, path: str, status: int, ms: float, *, note: str = "") -> None:
        """One request's line (status 0: the client went away before an answer)."""
        shown = str(status) if status else "---"
        text = f"belay: {method} {path} {shown} {ms:.0f} ms{note}"
        print(text, file=self._out(), flush=True)


class DevFront:
    """The dev app process's outermost ASGI app."""

    def __init__(self, app: ASGIApp, notifier: Notifier, *, log: RequestLog | None) -> None:
        self.app = app
        self.notifier = notifier
        self.log = log

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        host = header(scope, b"host")
        if not self.notifier.hosts.allows_host(host):
            await self._refuse(kind, host or "", send)
            if self.log is not None:
                method = scope.get("method", "WEBSOCKET")
                note = f" (Host {printable((host or '').encode('latin-1'))} refused)"
                self.log.line(method, printable(request_path(scope)), 403, 0, note=note)
            return
        path = scope.get("path", "")
        if kind == "websocket" and path == NOTIFY_PATH:
            await self.notifier.serve_socket(scope, receive, send)
        elif kind == "http" and path == SNIPPET_PATH:
            await self.notifier.send_snippet(send)
        elif kind == "http" and self.log is not None:
            await self._logged(scope, receive, send, self.log)
        else:
            await self.app(scope, receive, send)

    async def _logged(self, scope: Scope, receive: Any, send: Any, log: RequestLog) -> None:
        began = time.perf_counter()
        status = 0

        async def watch(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            if not (status == 404 and scope.get("path") == "/favicon.ico"):
                ms = (time.perf_counter() - began) * 1000
                log.line(scope.get("method", "GET"), printable(request_path(scope)), status, ms)

    async def _refuse(self, kind: str, host: str, send: Any) -> None:
        body = forbidden_host_body(host)
        start = {
            "status": 403,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
        if kind == "websocket":  # ASGI websocket denial response
            await send({"type": "websocket.http.response.start", **start})
            await send({"type": "websocket.http.response.body", "body": body})
        else:
            await send({"type": "http.response.start", **start})
            await send({"type": "http.response.body", "body": body})
