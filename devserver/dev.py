"""``belay dev``: wire the socket, notifier, supervisor, watcher and coordinator together."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

from devserver.changes import ChangeFilter, WatchfilesSource, merge_watch_paths
from devserver.console import Console
from devserver.coordinator import ReloadCoordinator
from devserver.failures import display_path
from devserver.messages import StartFailed
from devserver.notify import Notifier, serve_notifier
from devserver.supervisor import StartSpec, Supervisor, bind_socket
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


def python_files(roots: list[Path]) -> list[Path]:
    """Every ``.py`` file under ``roots`` (the content-hash baseline)."""
    skip = {"__pycache__", ".git", ".venv", "venv", "node_modules", ".mypy_cache"}
    found: list[Path] = []
    for root in roots:
        for path in root.rglob("*.py"):
            if not skip.intersection(path.parts):
                found.append(path)
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


async def run_dev(options: DevOptions, console: Console | None = None) -> int:
    """Run the dev server until SIGINT/SIGTERM; the process exit code."""
    console = console or Console()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        listen = bind_socket(options.host, options.port)
    except OSError as exc:
        console.line(f"cannot listen on {options.host}:{options.port}: {exc.strerror}")
        return 1
    try:
        notify_sock = bind_socket(options.host, options.notify_port)
    except OSError as exc:
        listen.close()
        console.line(f"cannot listen on {options.host}:{options.notify_port}: {exc.strerror}")
        return 1
    port, notify_port = listen.getsockname()[1], notify_sock.getsockname()[1]
    roots = merge_watch_paths(options.watch)
    notify_url = _url(options.host, notify_port, "ws") + "/ws"
    spec = StartSpec(str(options.target), tuple(map(str, roots)), options.codegen_out, notify_url)
    supervisor = Supervisor(listen, spec)
    notifier = Notifier()
    source = WatchfilesSource(roots, stop_event=stop)  # watching from here on
    changes = ChangeFilter()
    changes.remember(python_files(roots))
    coordinator = ReloadCoordinator(
        changes=changes, app=supervisor, console=console, notify=notifier.broadcast
    )
    tasks = [asyncio.create_task(serve_notifier(notifier, notify_sock, stop))]
    try:
        first = await supervisor.restart()
        if isinstance(first, StartFailed):
            if first.not_found:
                print(f"belay: error: {first.error}", file=sys.stderr, flush=True)
                return 2
            coordinator.dirty = True
            console.error(first.error, first.details)
            url = _url(options.host, port)
            console.line(f"{url} will serve {options.target} once it imports (fix it and save)")
        else:
            console.serving(_url(options.host, port), str(options.target), first.ms, first.pid)
            console.codegen(first.codegen, first.codegen_error)
        console.line(f"watching {', '.join(display_path(r) for r in roots)}")
        console.line(f'browser reload: <script src="{SNIPPET_PATH}"></script> ({notify_url})')
        tasks.append(asyncio.create_task(coordinator.run(source)))
        tasks.append(asyncio.create_task(keep_serving(supervisor, coordinator)))
        await stop.wait()
        return 0
    finally:
        stop.set()
        for task in tasks[1:]:
            task.cancel()
        await supervisor.close()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, 2.0)
        listen.close()
        notify_sock.close()
