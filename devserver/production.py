"""``belay serve``: production hypercorn, no reloader, no tracebacks.

The parent binds the sockets once (hypercorn's ``Config.create_sockets``) and
runs ``workers`` processes (spawned, as hypercorn does) that each serve the app
with ``hypercorn.asyncio.serve`` on those sockets. Each worker imports the
target with the current directory first on ``sys.path`` and turns ``debug`` off
on every RPCApp, so production never shows a traceback.

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
from collections.abc import Awaitable, Callable
from multiprocessing.connection import wait
from typing import Any

from devserver.rpcapps import find_rpc_apps, set_debug
from devserver.target import Target, import_target


def load_production_app(text: str) -> object:
    """Import ``text`` (``module:attr``) for production serving."""
    app = import_target(Target.parse(text))
    set_debug(app, False)
    return app


def make_config(binds: list[str]) -> Any:
    """The hypercorn config for ``binds`` (access log on, errors to stderr)."""
    from hypercorn.config import Config

    config = Config()
    config.bind = binds
    config.accesslog = "-"
    config.errorlog = "-"
    return config


async def wait_for_signals(signals: tuple[int, ...]) -> None:
    """Return when the process receives one of ``signals``."""
    received = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in signals:
        loop.add_signal_handler(signum, received.set)
    await received.wait()


def stream_aware_trigger(app: object, signals: tuple[int, ...]) -> Callable[[], Awaitable[None]]:
    """Wait for one of ``signals``, then close ``app``'s open RPC streams (if it has any)."""
    waiter = functools.partial(wait_for_signals, signals)
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
    signals = (signal.SIGTERM,) if child else (signal.SIGINT, signal.SIGTERM)
    app: Any = load_production_app(target)  # an ASGI app, checked by hypercorn
    config.bind = [f"fd://{fd}" for fd in fds]
    config.workers = 1
    asyncio.run(serve(app, config, shutdown_trigger=stream_aware_trigger(app, signals)))


def _spawned_worker(target: str, config: Any, sockets: list[Any]) -> None:
    run_worker(target, config, [sock.detach() for sock in sockets], child=True)


def serve_production(target: Target, *, binds: list[str], workers: int) -> int:
    """Serve ``target`` on ``binds`` with ``workers`` processes until SIGINT/SIGTERM."""
    config = make_config(binds)
    sockets = config.create_sockets().insecure_sockets
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
