"""The app process: ``python -m devserver.worker --listen-fd N --control-fd M``.

It starts as a warm spare: third-party packages imported, no user code. On
``Start`` it imports the user's app and serves it with hypercorn on the
listening socket it inherited from the supervisor (so a replacement process
serves the same port with no re-bind). Then it answers ``ReloadModules`` by
reloading in place and swapping the served app. When the control channel
closes (the supervisor is gone), it exits at once.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import logging
import os
import signal
import socket
import sys
import sysconfig
import time
from pathlib import Path
from typing import Any

import orjson

from devserver.clientgen import run_codegen
from devserver.console import describe_error, format_details
from devserver.errorpage import DevErrorMiddleware, StartupErrorApp, enable_debug
from devserver.front import DevFront, RequestLog
from devserver.hosts import HostPolicy
from devserver.listener import hypercorn_config
from devserver.messages import (
    Channel,
    ChannelClosedError,
    Message,
    Notify,
    Preload,
    Ready,
    ReloadDone,
    ReloadFailed,
    ReloadModules,
    Shutdown,
    Start,
    Started,
    StartFailed,
)
from devserver.notify import Notifier
from devserver.reloader import ModuleReloader
from devserver.rpcapps import close_streams
from devserver.swapper import AppSwapper
from devserver.target import Target, TargetError, import_target, put_cwd_first

logger = logging.getLogger("belay.dev")

BASE_PRELOAD = (
    "starlette.applications",
    "starlette.routing",
    "starlette.responses",
    "starlette.requests",
    "hypercorn.asyncio",
    "hypercorn.config",
    "pydantic",
    "orjson",
    "rpc",
    "streams",
    "codegen",
)


def preload(names: tuple[str, ...], *, optional: bool = False) -> None:
    """Import modules ahead of time; a failure is never fatal.

    ``optional`` modules (our default list) may be absent or unused by the app,
    so an ImportError is expected there and not worth a console line; the app's
    own import will report it if the app needs the module.
    """
    for name in names:
        if name in sys.modules:
            continue
        try:
            importlib.import_module(name)
        except ImportError as exc:
            if not optional:
                logger.warning("belay: preloading %s failed: %s", name, exc)
        except Exception as exc:
            logger.warning("belay: preloading %s failed: %s", name, exc)


def third_party_packages() -> tuple[str, ...]:
    """Top-level packages loaded from site-packages (what a spare should preload)."""
    dirs = {Path(sysconfig.get_paths()[key]).resolve() for key in ("purelib", "platlib")}
    found: set[str] = set()
    for name, module in list(sys.modules.items()):
        filename = getattr(module, "__file__", None)
        if "." in name or name.startswith("_") or not isinstance(filename, str):
            continue
        if any(Path(filename).resolve().is_relative_to(d) for d in dirs):
            found.add(name)
    return tuple(sorted(found))


class AppProcess:
    """The app process state machine: spare -> serving -> reloading in place."""

    def __init__(self, channel: Channel, listen_fd: int) -> None:
        self.channel = channel
        self.listen_fd = listen_fd
        self.target: Target | None = None
        self.start: Start | None = None
        self.reloader: ModuleReloader | None = None
        self.raw_app: object = None
        self.swapper: Any = None
        self.notifier: Notifier | None = None
        self._broadcasts: set[asyncio.Task[int]] = set()
        self.stop = asyncio.Event()
        self.server: asyncio.Task[None] | None = None

    async def run(self) -> None:
        """Answer control messages until told to shut down."""
        preload(BASE_PRELOAD, optional=True)
        await self.channel.send(Ready(pid=os.getpid()))
        while True:
            message = await self.channel.receive()
            if isinstance(message, Shutdown):
                await self.shutdown()
                return
            await self.handle(message)

    async def handle(self, message: Message) -> None:
        """Dispatch one request from the supervisor."""
        if isinstance(message, Preload):
            preload(message.modules)
        elif isinstance(message, Start):
            await self.channel.send(await self.start_app(message))
        elif isinstance(message, ReloadModules):
            await self.channel.send(await self.reload(message))
        elif isinstance(message, Notify) and self.notifier is not None:
            # In a task: a slow browser must not hold up the next control message.
            task = asyncio.create_task(self.notifier.broadcast(orjson.loads(message.text)))
            self._broadcasts.add(task)
            task.add_done_callback(self._broadcasts.discard)

    async def start_app(self, start: Start) -> Started | StartFailed:
        """Import and serve the user's app."""
        began = time.perf_counter()
        self.start = start
        self.target = Target.parse(start.target)
        roots = [Path(d) for d in start.watch_dirs]
        self.reloader = ModuleReloader(roots)
        put_cwd_first()
        self.notifier = Notifier(HostPolicy.build(start.bound_host, start.allowed_hosts))
        try:
            self.raw_app = import_target(self.target)
        except TargetError as exc:
            return StartFailed(error=str(exc), details="", not_found=True)
        except BaseException as exc:
            # Serve the error itself, so a browser shows it instead of hanging.
            failed = StartFailed(
                describe_error(exc, roots),
                format_details(exc, roots),
                not_found=False,
                serving=True,
            )
            error_app = StartupErrorApp(exc, roots=roots, live_reload=True)
            problem = await self.serve_app(error_app)
            return failed if problem is None else problem
        self.reloader.graph()  # warm the path and AST caches before the first save
        problem = await self.serve_app(self.prepare(self.raw_app))
        if problem is not None:
            return problem
        codegen, codegen_error = self.codegen()
        ms = (time.perf_counter() - began) * 1000
        return Started(os.getpid(), ms, third_party_packages(), codegen, codegen_error)

    async def serve_app(self, app: Any) -> StartFailed | None:
        """Start hypercorn serving ``app``; wait for its lifespan startup."""
        self.swapper = AppSwapper(app)
        self.server = asyncio.create_task(self.serve())
        started = asyncio.ensure_future(self.swapper.started.wait())
        await asyncio.wait({started, self.server}, timeout=30, return_when=asyncio.FIRST_COMPLETED)
        if not self.server.done():
            return None
        error = self.server.exception() or RuntimeError("server stopped")
        roots = self.reloader.roots if self.reloader else []
        return StartFailed(describe_error(error, roots), format_details(error), not_found=False)

    def prepare(self, app: object) -> Any:
        """Dev mode for ``app``: RPCApps get ``debug = True``; all get the error middleware."""
        enable_debug(app)
        assert self.reloader is not None
        return DevErrorMiddleware(
            app,
            roots=self.reloader.roots,
            on_error=self.report_error,
            live_reload=True,
        )

    def report_error(self, exc: BaseException) -> None:
        """Print a request's unhandled exception to the console."""
        assert self.reloader is not None
        print(f"belay: error: {describe_error(exc, self.reloader.roots)}", file=sys.stderr)
        print(format_details(exc, self.reloader.roots), file=sys.stderr, flush=True)

    async def serve(self) -> None:
        """Run hypercorn on the inherited socket until ``self.stop`` is set."""
        from hypercorn.asyncio import serve

        config = hypercorn_config(
            [f"fd://{self.listen_fd}"], access_log=False, graceful_timeout=0.2, loglevel="WARNING"
        )
        assert self.notifier is not None
        assert self.start is not None
        log = RequestLog() if self.start.request_log else None
        front = DevFront(self.swapper, self.notifier, log=log)
        await serve(front, config, shutdown_trigger=self.stop.wait)  # type: ignore[arg-type]

    async def reload(self, message: ReloadModules) -> ReloadDone | ReloadFailed:
        """Reload in place and swap in the re-resolved app."""
        assert self.reloader is not None
        assert self.target is not None
        began = time.perf_counter()
        outcome = self.reloader.reload([Path(p) for p in message.paths])
        if not outcome.ok:
            return ReloadFailed(outcome.error, outcome.details, needs_restart=outcome.needs_restart)
        previous = self.raw_app
        # Open streams still run the old functions, which now read the reloaded
        # modules' globals: end them before the loop runs them again (nothing above
        # awaited), so clients reconnect to the new app. Never awaited: a stream's
        # cleanup must not delay the reload.
        close_streams(previous)
        try:
            app = import_target(self.target)
        except BaseException as exc:
            error = str(exc) if isinstance(exc, TargetError) else describe_error(exc)
            return ReloadFailed(error, format_details(exc), needs_restart=True)
        if app is not previous:
            try:
                await self.swapper.swap(self.prepare(app))
            except Exception as exc:  # the new app's lifespan startup failed
                return ReloadFailed(describe_error(exc), format_details(exc), needs_restart=True)
            self.raw_app = app
        ms = (time.perf_counter() - began) * 1000
        codegen, codegen_error = self.codegen()
        return ReloadDone(outcome.modules, ms, codegen, codegen_error)

    def codegen(self) -> tuple[tuple[str, ...], str]:
        """Run codegen when asked to; (changed files, error text)."""
        if self.start is None or not self.start.codegen_out:
            return (), ""
        try:
            return run_codegen(self.raw_app, self.start.codegen_out), ""
        except Exception as exc:
            return (), describe_error(exc)

    async def shutdown(self) -> None:
        """Stop hypercorn; open RPC streams are closed first so their cleanups run."""
        asyncio.get_running_loop().set_exception_handler(quiet_cancellations)
        close_streams(self.raw_app)
        if self.notifier is not None:
            await self.notifier.close_all()
        self.stop.set()
        if self.server is not None:
            with contextlib.suppress(Exception, asyncio.TimeoutError):
                await asyncio.wait_for(self.server, timeout=1.5)


def quiet_cancellations(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """While shutting down, connections cancelled by hypercorn are expected, not errors."""
    if isinstance(context.get("exception"), asyncio.CancelledError):
        return
    loop.default_exception_handler(context)


async def run_app_process(listen_fd: int, control_fd: int) -> None:
    """Connect the control channel and run :class:`AppProcess`."""
    sock = socket.socket(fileno=control_fd)
    reader, writer = await asyncio.open_connection(sock=sock, limit=1 << 22)
    process = AppProcess(Channel(reader, writer), listen_fd)
    try:
        await process.run()
    except ChannelClosedError:
        os._exit(0)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the app process."""
    parser = argparse.ArgumentParser(prog="devserver.worker")
    parser.add_argument("--listen-fd", type=int, required=True)
    parser.add_argument("--control-fd", type=int, required=True)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the supervisor's to handle
    asyncio.run(run_app_process(args.listen_fd, args.control_fd))
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
