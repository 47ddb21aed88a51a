"""Drive one ASGI app's lifespan by hand, so a swapped-in app gets its startup too."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

ASGIApp = Any  # the ASGI boundary: (scope, receive, send) -> awaitable


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
