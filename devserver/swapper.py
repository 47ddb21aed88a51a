"""The ASGI app hypercorn serves in the dev app process: it forwards to the current app.

Swapping the app after a reload is an attribute assignment, so the server, its
listening socket and its open connections stay as they are; requests already
running finish on the old app. The swapper answers hypercorn's lifespan itself
and runs each app's lifespan by hand: a new app gets its startup before it is
served, the old one its shutdown afterwards (in the background, bounded).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import MutableMapping
from typing import Any

ASGIApp = Any  # the ASGI boundary


class AppSwapper:
    """Forwards every request to the current app."""

    def __init__(self, app: ASGIApp) -> None:
        self._runner = LifespanRunner(app)
        self._lifespan_started = False
        self._retired: set[asyncio.Task[None]] = set()
        self.started = asyncio.Event()

    @property
    def app(self) -> ASGIApp:
        """The app requests go to now."""
        return self._runner.app

    async def swap(self, app: ASGIApp) -> None:
        """Serve ``app`` from now on (after its lifespan startup, if lifespan runs)."""
        runner = LifespanRunner(app)
        if self._lifespan_started:
            await runner.startup()
        old, self._runner = self._runner, runner
        if self._lifespan_started:
            task = asyncio.create_task(old.shutdown())
            self._retired.add(task)
            task.add_done_callback(self._retired.discard)

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        runner = self._runner
        if runner.state:
            scope = {**scope, "state": dict(runner.state)}
        await runner.app(scope, receive, send)

    async def _lifespan(self, receive: Any, send: Any) -> None:
        message = await receive()
        if message["type"] == "lifespan.startup":
            try:
                await self._runner.startup()
            except Exception as exc:
                await send({"type": "lifespan.startup.failed", "message": str(exc)})
                raise
            self._lifespan_started = True
            self.started.set()
            await send({"type": "lifespan.startup.complete"})
            message = await receive()
        if message["type"] == "lifespan.shutdown":
            await self._runner.shutdown()
            await send({"type": "lifespan.shutdown.complete"})


class LifespanStartupError(Exception):
    """The app answered ``lifespan.startup.failed``."""


class LifespanRunner:
    """Runs ``app``'s lifespan protocol in a task: ``startup()`` now, ``shutdown()`` later.

    An app that does not speak lifespan (it raises or returns at once) is fine:
    startup and shutdown then do nothing. ``state`` is the lifespan state dict
    that request scopes receive a copy of.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.state: dict[str, Any] = {}
        self._to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._from_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def startup(self, wait_s: float = 30.0) -> None:
        """Send ``lifespan.startup`` and wait for the app's answer."""
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}}
        scope["state"] = self.state
        self._task = asyncio.create_task(self._run(scope))
        await self._to_app.put({"type": "lifespan.startup"})
        reply = await self._answer(wait_s)
        if reply is not None and reply["type"] == "lifespan.startup.failed":
            raise LifespanStartupError(str(reply.get("message", "")))

    async def shutdown(self, wait_s: float = 2.0) -> None:
        """Send ``lifespan.shutdown``, wait at most ``wait_s``, then stop the task."""
        if self._task is None or self._task.done():
            return
        await self._to_app.put({"type": "lifespan.shutdown"})
        await self._answer(wait_s)
        if not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self, scope: dict[str, Any]) -> None:
        try:
            await self.app(scope, self._to_app.get, self._from_app.put)
        except Exception:  # an app without lifespan support raises on the scope type
            return

    async def _answer(self, wait_s: float) -> dict[str, Any] | None:
        assert self._task is not None
        getter = asyncio.ensure_future(self._from_app.get())
        done, _ = await asyncio.wait(
            {getter, self._task}, timeout=wait_s, return_when=asyncio.FIRST_COMPLETED
        )
        if getter in done:
            return getter.result()
        getter.cancel()
        return None
