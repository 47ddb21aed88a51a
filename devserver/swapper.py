"""The ASGI app hypercorn serves in the dev app process: it forwards to the current app.

Swapping the app after a reload is an attribute assignment, so the server, its
listening socket and its open connections stay as they are; requests already
running finish on the old app. The swapper answers hypercorn's lifespan itself
and runs each app's lifespan by hand: a new app gets its startup before it is
served, the old one its shutdown afterwards (in the background, bounded).
"""

from __future__ import annotations

import asyncio
from collections.abc import MutableMapping
from typing import Any

from devserver.lifespan import LifespanRunner

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
