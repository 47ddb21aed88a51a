"""``belay dev``: wire the socket, notifier, supervisor, watcher and coordinator together."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path

from devserver.changes import ChangeFilter, WatchfilesSource, merge_watch_paths
from devserver.console import Console, display_path
from devserver.coordinator import ReloadCoordinator
from devserver.listener import bind_socket
from devserver.messages import Start, Started, StartFailed
from devserver.notify import Notifier, serve_notifier
from devserver.supervisor import Supervisor
from devserver.swapper import SNIPPET_PATH
from devserver.target import Target


@dataclass(frozen=True)
class DevOptions:
    """The resolved ``belay dev`` arguments."""

    target: Target
    host: str
    port: int
    notify_port: int
    watch: tuple[Path, ...]
    codegen_out: str


def _url(host: str, port: int, scheme: str = "http") -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}:{port}"


SKIPPED_DIRS = frozenset(
    {"__pycache__", ".git", ".hg", ".venv", "venv", "node_modules", ".mypy_cache", ".tox"}
)


def python_files(roots: list[Path]) -> list[Path]:
    """Every ``.py`` file under ``roots`` (the content-hash baseline), pruning big dirs."""
    found: list[Path] = []
    for root in roots:
        for folder, dirs, files in os.walk(root):
            dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS]
            found.extend(Path(folder, name) for name in files if name.endswith(".py"))
    return found


async def keep_serving(supervisor: Supervisor, coordinator: ReloadCoordinator) -> None:
    """Restart the app process when it dies by itself (a crash, os._exit, the OOM killer)."""
    while True:
        worker = supervisor.active
        if worker is None:
            await asyncio.sleep(0.25)  # nothing serves until the next good save
            continue
        code = await worker.process.wait()
        if supervisor.active is worker:  # not replaced or retired by us: it died
            supervisor.active = None
            await coordinator.recover(f"the app process {worker.pid} exited with code {code}")


def bind_sockets(options: DevOptions, console: Console) -> list[socket.socket] | None:
    """The app's and the notifier's listening sockets, or None (reported) when taken."""
    sockets: list[socket.socket] = []
    for port in (options.port, options.notify_port):
        try:
            sockets.append(bind_socket(options.host, port))
        except OSError as exc:
            console.line(f"cannot listen on {options.host}:{port}: {exc.strerror}")
            for sock in sockets:
                sock.close()
            return None
    return sockets


class DevSession:
    """One ``belay dev`` run: the supervisor, the notifier and the reload loop."""

    def __init__(
        self, options: DevOptions, sockets: list[socket.socket], *, console: Console
    ) -> None:
        self.options = options
        self.console = console
        self.stop = asyncio.Event()
        self.listen, self.notify_sock = sockets
        self.roots = merge_watch_paths(options.watch)
        self.url = _url(options.host, self.listen.getsockname()[1])
        self.notify_url = _url(options.host, self.notify_sock.getsockname()[1], "ws") + "/ws"
        start = Start(
            str(options.target), tuple(map(str, self.roots)), options.codegen_out, self.notify_url
        )
        self.supervisor = Supervisor(self.listen, start)
        self.notifier = Notifier()
        self.source = WatchfilesSource(self.roots, stop_event=self.stop)  # watching from here on
        changes = ChangeFilter()
        changes.remember(python_files(self.roots))
        self.coordinator = ReloadCoordinator(
            changes=changes, app=self.supervisor, console=console, notify=self.notifier.broadcast
        )
        self.tasks: list[asyncio.Task[None]] = []

    async def run(self) -> int:
        """Serve until ``stop``; the exit code (2 when the target does not exist)."""
        notifier = serve_notifier(self.notifier, self.notify_sock, stop=self.stop)
        self.tasks.append(asyncio.create_task(notifier))
        first = await self._unless_stopped(self.supervisor.restart())
        if first is None:  # Ctrl-C while the app was still importing
            return 0
        if isinstance(first, StartFailed) and first.not_found:
            print(f"belay: error: {first.error}", file=sys.stderr, flush=True)
            return 2
        self.announce(first)
        self.tasks.append(asyncio.create_task(self.coordinator.run(self.source)))
        self.tasks.append(asyncio.create_task(keep_serving(self.supervisor, self.coordinator)))
        await self.stop.wait()
        return 0

    async def _unless_stopped(
        self, work: Coroutine[object, object, Started | StartFailed]
    ) -> Started | StartFailed | None:
        """``work``'s result, or None when ``stop`` is set first (``work`` is cancelled)."""
        task = asyncio.create_task(work)
        stopping = asyncio.create_task(self.stop.wait())
        try:
            await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
        if task.done():
            return task.result()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return None

    def announce(self, first: Started | StartFailed) -> None:
        """The start-up lines: where the app is served, what is watched, the snippet."""
        target = str(self.options.target)
        if isinstance(first, StartFailed):
            self.coordinator.dirty = True
            self.console.error(first.error, first.details)
            self.console.line(f"{self.url} shows this error until {target} imports (save a fix)")
        else:
            self.console.serving(self.url, target, ms=first.ms, pid=first.pid)
            self.console.codegen(first.codegen, first.codegen_error)
        self.console.line(f"watching {', '.join(display_path(r) for r in self.roots)}")
        snippet = f'<script src="{SNIPPET_PATH}"></script>'
        self.console.line(f"browser reload: {snippet} ({self.notify_url})")

    async def close(self) -> None:
        """Stop the reload loop, every process, then the notifier."""
        self.stop.set()
        for task in self.tasks[1:]:
            task.cancel()
        await self.supervisor.close()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, 2.0)


async def run_dev(options: DevOptions, console: Console | None = None) -> int:
    """Run the dev server until SIGINT/SIGTERM; the process exit code."""
    console = console or Console()
    sockets = bind_sockets(options, console)
    if sockets is None:
        return 1
    session = DevSession(options, sockets, console=console)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, session.stop.set)
    try:
        return await session.run()
    finally:
        await session.close()
        for sock in sockets:
            sock.close()
