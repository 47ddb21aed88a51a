"""Dev-only error responses: rpc's debug HTML page for browsers, JSON for the rest.

RPCApps render their own debug errors once ``debug`` is set (see
:func:`enable_debug`); :class:`DevErrorMiddleware` covers every other ASGI app.
Starlette-style apps send a plain 500 *and then* re-raise; the middleware holds
back a 500 response until the app returns, so the exception can still replace
it with the dev page.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from pathlib import Path
from typing import Any

import orjson

from devserver.console import describe_error, format_details
from devserver.rpcapps import set_debug
from rpc.responses import debug_page

ASGIApp = Any  # the ASGI boundary


def enable_debug(app: object) -> int:
    """Set ``debug = True`` on ``app`` and on RPCApps mounted inside it; return how many."""
    return set_debug(app, debug=True)


LIVE_RELOAD_TAG = '<script src="/__belay/dev.js"></script>'


def render_error_page(
    exc: BaseException,
    scope: MutableMapping[str, Any],
    *,
    roots: list[Path],
    heading: str,
    live_reload: bool,
) -> bytes:
    """rpc's debug page with the one-line location in the user's code and a trimmed traceback.

    With ``live_reload`` it loads the dev snippet, so the page refreshes itself
    once a fix is saved.
    """
    return debug_page(
        exc,
        method=str(scope.get("method", "")),
        path=str(scope.get("path", "")),
        headline=describe_error(exc, roots),
        trace=format_details(exc, roots),
        note=f"{heading} (shown by belay dev only).",
        tail_html=LIVE_RELOAD_TAG if live_reload else "",
    )


async def send_error_response(
    scope: MutableMapping[str, Any],
    send: Any,
    exc: BaseException,
    *,
    roots: list[Path],
    heading: str,
    live_reload: bool,
) -> None:
    """A 500: the HTML page for a GET that accepts HTML, JSON with the traceback otherwise."""
    if scope.get("method") == "GET" and _accepts_html(scope):
        page = render_error_page(exc, scope, roots=roots, heading=heading, live_reload=live_reload)
        body, kind = page, b"text/html; charset=utf-8"
    else:
        payload = {"detail": "Internal Server Error", "traceback": format_details(exc, roots)}
        body, kind = orjson.dumps(payload), b"application/json"
    headers = [(b"content-type", kind), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 500, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _accepts_html(scope: MutableMapping[str, Any]) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"accept":
            return b"text/html" in value
    return False


class DevErrorMiddleware:
    """Turn an unhandled exception into a dev error response (see module docstring)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        roots: list[Path],
        on_error: Callable[[BaseException], None],
        live_reload: bool = False,
    ) -> None:
        self.app = app
        self.roots = roots
        self.on_error = on_error
        self.live_reload = live_reload

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        held: list[dict[str, Any]] = []
        started = False

        async def guarded_send(message: dict[str, Any]) -> None:
            nonlocal started
            if held or (message["type"] == "http.response.start" and message["status"] == 500):
                held.append(message)
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, guarded_send)
        except Exception as exc:
            self.on_error(exc)
            if started:
                raise
            await send_error_response(
                scope,
                send,
                exc,
                roots=self.roots,
                heading="Unhandled exception",
                live_reload=self.live_reload,
            )
            return
        for message in held:
            await send(message)


class StartupErrorApp:
    """Served while the user's app does not import: every request shows why."""

    def __init__(self, exc: BaseException, *, roots: list[Path], live_reload: bool) -> None:
        self.exc = exc
        self.roots = roots
        self.live_reload = live_reload

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            await send_error_response(
                scope,
                send,
                self.exc,
                roots=self.roots,
                heading="The app failed to import; save a fix to reload",
                live_reload=self.live_reload,
            )
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1011})
        else:
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
