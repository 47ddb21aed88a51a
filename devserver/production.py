"""``belay serve``: production hypercorn, no reloader, no tracebacks.

The parent binds the sockets once (hypercorn's ``Config.create_sockets``) and
runs ``workers`` processes (spawned, as hypercorn does) that each serve the app
with ``hypercorn.asyncio.serve`` on those sockets. Each worker imports the
target with the current directory first on ``sys.path`` and turns ``debug`` off
on every app in it that has one (RPCApps found through mounts and middleware,
and Starlette/FastAPI apps), so production never shows a traceback.

The listening sockets get a production backlog (``--backlog``, default
:data:`~devserver.listener.BACKLOG`): after a restart every open tab reconnects
at once, and hypercorn's default of 100 makes a burst of connects wait out the
client's 1 s SYN retry.

Shutdown is graceful *and* prompt: hypercorn on its own waits its whole
graceful timeout for open streams, which never end by themselves. Each
worker's ``shutdown_trigger`` is ``streams.shutdown_trigger``: on SIGTERM it
closes the RPCApps' open streams (their cleanups run) before hypercorn drains
the remaining requests.
"""

from __future__ import annotations

import asyncio
import functools
import multiprocessing
import signal
import socket
import sys
from collections.abc import Awaitable, Callable
from multiprocessing.connection import wait
from typing import Any

from devserver.listener import BACKLOG, hypercorn_config
from devserver.rpcapps import disable_debug, find_rpc_apps
from devserver.target import Target, import_target
from streams.shutdown import wait_for_signal

GRACEFUL_TIMEOUT = 3.0


def load_production_app(text: str) -> object:
    """Import ``text`` (``module:attr``) for production serving: debug off everywhere."""
    app = import_target(Target.parse(text))
    disable_debug(app)
    return app


def stream_aware_trigger(
    app: object, signals: tuple[signal.Signals, ...]
) -> Callable[[], Awaitable[None]]:
    """Wait for one of ``signals``, then close ``app``'s open RPC streams (if it has any)."""
    waiter = functools.partial(wait_for_signal, signals)
    registries = [a.stream_registry for a in find_rpc_apps(app) if hasattr(a, "stream_registry")]
    if not registries:
        return waiter
    from streams import shutdown_trigger

    return shutdown_trigger(*registries, wait=waiter)


def run_worker(target: str, config: Any, fds: list[int], *, child: bool) -> None:
    """One worker: import the app and serve it on the inherited sockets until SIGTERM."""
    from hypercorn.asyncio import serve

    if child:  # Ctrl-C reaches the whole group; the parent turns it into one SIGTERM
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    signals: tuple[signal.Signals, ...] = (
        (signal.SIGTERM,) if child else (signal.SIGINT, signal.SIGTERM)
    )
    app: Any = load_production_app(target)  # an ASGI app, checked by hypercorn
    config.bind = [f"fd://{fd}" for fd in fds]
    config.workers = 1
    asyncio.run(serve(app, config, shutdown_trigger=stream_aware_trigger(app, signals)))


def _spawned_worker(target: str, config: Any, sockets: list[Any]) -> None:
    run_worker(target, config, [sock.detach() for sock in sockets], child=True)


def listen(config: Any, binds: list[str]) -> list[socket.socket] | None:
    """The listening sockets for ``binds``, or None (reported in one line) when one is taken."""
    sockets: list[socket.socket] = []
    for bind in binds:
        config.bind = [bind]
        try:
            sockets.extend(config.create_sockets().insecure_sockets)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            print(f"belay: cannot listen on {bind}: {reason}", file=sys.stderr, flush=True)
            for sock in sockets:
                sock.close()
            return None
    config.bind = binds
    return sockets


def serve_production(
    target: Target, *, binds: list[str], workers: int, backlog: int = BACKLOG
) -> int:
    """Serve ``target`` on ``binds`` with ``workers`` processes until SIGINT/SIGTERM.

    Returns the exit code: 1 when a bind address is taken (one line on stderr).
    """
    config = hypercorn_config(
        binds, access_log=True, graceful_timeout=GRACEFUL_TIMEOUT, backlog=backlog
    )
    sockets = listen(config, binds)
    if sockets is None:
        return 1
    if workers == 1:
        run_worker(str(target), config, [sock.detach() for sock in sockets], child=False)
        return 0
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=_spawned_worker, args=(str(target), config, sockets))
        for _ in range(workers)
    ]
    stopping = False

    def forward(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True
        for process in processes:
            if process.pid is not None and process.exitcode is None:
                process.terminate()  # SIGTERM: the worker's graceful shutdown

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, forward)
    for process in processes:
        process.start()
    wait([process.sentinel for process in processes])
    if not stopping:  # a worker died by itself: stop the others too
        forward(signal.SIGTERM, None)
    for process in processes:
        process.join()
    clean = all(process.exitcode in (0, -signal.SIGTERM) for process in processes)
    return 0 if stopping and clean else 1
