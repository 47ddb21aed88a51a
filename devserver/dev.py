"""``belay dev``: wire the socket, supervisor, watchers and coordinator together."""

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

from devserver.assets import AssetWatch, ReloadPattern
from devserver.changes import SKIPPED_DIRS, ChangeFilter, WatchfilesSource, merge_watch_paths
from devserver.console import Console, display_path
from devserver.coordinator import ReloadCoordinator, reload_message
from devserver.hosts import is_loopback_host
from devserver.listener import bind_socket
from devserver.messages import Start, Started, StartFailed
from devserver.notify import NOTIFY_PATH, SNIPPET_PATH
from devserver.supervisor import Supervisor
from devserver.target import Target


@dataclass(frozen=True)
class DevOptions:
    """The resolved ``belay dev`` arguments."""

    target: Target
    host: str
    port: int
    watch: tuple[Path, ...]
    codegen_out: str
    allowed_hosts: tuple[str, ...] = ()
    reload_on: tuple[str, ...] = ()
    request_log: bool = True


def _url(host: str, port: int, scheme: str = "http") -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}:{port}"


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


def exposure_warning(host: str) -> str:
    """The warning for binding ``host`` ("" for a loopback address)."""
    if is_loopback_host(host):
        return ""
    return (
        f"warning: listening on {host}, not only on this machine: anyone on your network "
        "can call your actions and read debug tracebacks. Use --host 127.0.0.1 unless "
        "you need this."
    )


def bind_app_socket(options: DevOptions, console: Console) -> socket.socket | None:
    """The app's listening socket, or None (reported) when the port is taken."""
    try:
        return bind_socket(options.host, options.port)
    except OSError as exc:
        console.line(f"cannot listen on {options.host}:{options.port}: {exc.strerror}")
        return None


async def reload_on_assets(watch: AssetWatch, supervisor: Supervisor, console: Console) -> None:
    """Tell browsers to reload when a ``--reload-on`` file changes."""
    async for files in watch:
        shown = ", ".join(files[:5]) + (f" (+{len(files) - 5} more)" if len(files) > 5 else "")
        console.line(f"{shown} changed; reloading browsers")
        await supervisor.notify(reload_message((), (), restart=False, files=files))


class DevSession:
    """One ``belay dev`` run: the supervisor, the watchers and the reload loop."""

    def __init__(self, options: DevOptions, listen: socket.socket, *, console: Console) -> None:
        self.options = options
        self.console = console
        self.stop = asyncio.Event()
        self.listen = listen
        self.roots = merge_watch_paths(options.watch)
        self.url = _url(options.host, self.listen.getsockname()[1])
        self.notify_url = _url(options.host, self.listen.getsockname()[1], "ws") + NOTIFY_PATH
        start = Start(
            str(options.target),
            tuple(map(str, self.roots)),
            options.codegen_out,
            allowed_hosts=options.allowed_hosts,
            bound_host=options.host,
            request_log=options.request_log,
        )
        self.supervisor = Supervisor(self.listen, start)
        self.source = WatchfilesSource(self.roots, stop_event=self.stop)  # watching from here on
        cwd = Path.cwd()
        patterns = [ReloadPattern.parse(value, cwd=cwd) for value in options.reload_on]
        self.assets = AssetWatch(patterns, cwd=cwd, stop_event=self.stop) if patterns else None
        changes = ChangeFilter()
        changes.remember(python_files(self.roots))
        self.coordinator = ReloadCoordinator(
            changes=changes, app=self.supervisor, console=console, notify=self.supervisor.notify
        )
        self.tasks: list[asyncio.Task[None]] = []

    async def run(self) -> int:
        """Serve until ``stop``; the exit code (2 when the target does not exist)."""
        first = await self._unless_stopped(self.supervisor.restart())
        if first is None:  # Ctrl-C while the app was still importing
            return 0
        if isinstance(first, StartFailed) and first.not_found:
            print(f"belay: error: {first.error}", file=sys.stderr, flush=True)
            return 2
        self.announce(first)
        self.tasks.append(asyncio.create_task(self.coordinator.run(self.source)))
        self.tasks.append(asyncio.create_task(keep_serving(self.supervisor, self.coordinator)))
        if self.assets is not None:
            watch = reload_on_assets(self.assets, self.supervisor, self.console)
            self.tasks.append(asyncio.create_task(watch))
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
        if self.options.reload_on:
            self.console.line(f"browsers reload when {', '.join(self.options.reload_on)} change")
        snippet = f'<script src="{SNIPPET_PATH}"></script>'
        self.console.line(f"browser reload: {snippet} ({self.notify_url})")
        warning = exposure_warning(self.options.host)
        if warning:
            self.console.line(warning)

    async def close(self) -> None:
        """Stop the watchers and the reload loop, then every process."""
        self.stop.set()
        for task in self.tasks:
            task.cancel()
        await self.supervisor.close()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, 2.0)


async def run_dev(options: DevOptions, console: Console | None = None) -> int:
    """Run the dev server until SIGINT/SIGTERM; the process exit code."""
    console = console or Console()
    listen = bind_app_socket(options, console)
    if listen is None:
        return 1
    session = DevSession(options, listen, console=console)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, session.stop.set)
    try:
        return await session.run()
    finally:
        await session.close()
        listen.close()
