"""The supervisor's reload loop: change batches in, reloads or restarts out.

Pure decision logic over two seams, so tests drive it with a list of batches
and an in-process app: a :class:`~devserver.changes.ChangeSource` and an
:class:`AppControl` (the real one is :class:`~devserver.supervisor.Supervisor`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol

from devserver.assets import project_path
from devserver.changes import ChangeFilter, ChangeSource, FileChange, drop_stale_bytecode
from devserver.console import Console
from devserver.messages import (
    ChannelClosedError,
    ReloadDone,
    ReloadFailed,
    Started,
    StartFailed,
)

Notify = Callable[[dict[str, Any]], Awaitable[object]]


class AppControl(Protocol):
    """What the coordinator needs from the app process(es)."""

    async def reload(self, paths: tuple[Path, ...]) -> ReloadDone | ReloadFailed:
        """Reload in place; may raise ChannelClosedError if the process died."""
        ...

    async def restart(self) -> Started | StartFailed:
        """Replace the app process with a fresh one (the old one keeps serving on failure)."""
        ...


class ReloadCoordinator:
    """Decides, per batch, between nothing, an in-place reload and a restart."""

    def __init__(
        self,
        *,
        changes: ChangeFilter,
        app: AppControl,
        console: Console,
        notify: Notify,
        before_reload: Callable[[Path], None] = drop_stale_bytecode,
    ) -> None:
        self.changes = changes
        self.app = app
        self.console = console
        self.notify = notify
        self.before_reload = before_reload
        self.dirty = False  # the serving process is half-reloaded: restart on the next save
        self._lock = asyncio.Lock()

    async def run(self, source: ChangeSource) -> None:
        """Handle every batch ``source`` yields."""
        async for batch in source:
            await self.handle(batch)

    async def handle(self, batch: frozenset[FileChange]) -> None:
        """Handle one batch of changes."""
        async with self._lock:
            await self._handle(batch)

    async def recover(self, reason: str) -> bool:
        """The serving process died by itself: start a new one."""
        async with self._lock:
            self.console.error(f"{reason}; restarting it")
            return await self.restart(())

    async def _handle(self, batch: frozenset[FileChange]) -> None:
        decision = self.changes.decide(batch)
        for problem in decision.new_problems:
            self.console.syntax_error(problem)
        if not decision.reload:
            return
        for path in decision.reload:
            self.before_reload(path)
        if self.dirty:
            await self.restart(decision.reload)
            return
        try:
            result = await self.app.reload(decision.reload)
        except ChannelClosedError:
            self.console.error("the app process exited; restarting it")
            await self.restart(decision.reload)
            return
        if isinstance(result, ReloadDone) and not result.modules:
            self.console.unused(decision.reload)
        elif isinstance(result, ReloadDone):
            self.console.reloaded(result.modules, result.ms)
            self.console.codegen(result.codegen, result.codegen_error)
            await self.notify(reload_message(result.modules, result.codegen, restart=False))
        elif result.needs_restart:
            self.console.error(f"{result.error} (reload failed; restarting the app process)")
            self.dirty = True
            await self.restart(decision.reload, after=result.error)
        else:
            self.console.error(result.error, result.details)

    async def restart(self, paths: tuple[Path, ...], *, after: str = "") -> bool:
        """Restart the app process; True when a new process now serves the new code.

        ``after`` is the reload error that led here: when the fresh process fails
        the same way, that error is not printed twice.
        """
        result = await self.app.restart()
        if isinstance(result, StartFailed):
            self.dirty = True
            shown = (
                "requests get this error" if result.serving else "still serving the previous code"
            )
            if result.error == after:
                self.console.error(f"a fresh process fails the same way ({shown})", result.details)
            else:
                self.console.error(f"{result.error} ({shown})", result.details)
            return False
        self.dirty = False
        self.console.restarted(result.ms, result.pid)
        self.console.codegen(result.codegen, result.codegen_error)
        cwd = Path.cwd()
        files = tuple(project_path(path, cwd) for path in paths)
        await self.notify(reload_message((), result.codegen, restart=True, files=files))
        return True


def reload_message(
    modules: tuple[str, ...],
    codegen: tuple[str, ...],
    *,
    restart: bool,
    files: tuple[str, ...] = (),
) -> dict[str, Any]:
    """The JSON message browsers receive after a reload or restart."""
    message: dict[str, Any] = {"type": "reload", "modules": list(modules)}
    message["codegen"] = list(codegen)
    message["restart"] = restart
    if files:
        message["files"] = list(files)
    return message
