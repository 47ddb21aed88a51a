"""Closing open streams when the server shuts down.

hypercorn (0.18) tells an application nothing about a shutdown until it is too
late for streams: on SIGTERM it closes idle keep-alive connections, then waits
up to ``graceful_timeout`` for every open request, and only then cancels them
and sends ``lifespan.shutdown``. An open stream never ends by itself, so the
server waits out the whole timeout (on Python 3.12+ ``Server.wait_closed()``
may even wait forever). The one public hook that runs *before* that wait is the
``shutdown_trigger`` of ``hypercorn.asyncio.serve``: ``shutdown_trigger()``
below closes every stream there, so the graceful wait finds nothing to wait for.
"""

from __future__ import annotations

import signal
from collections.abc import Awaitable, Callable

import anyio

from streams.registry import StreamRegistry

DEFAULT_SIGNALS = (signal.SIGINT, signal.SIGTERM)


async def wait_for_signal(signals: tuple[signal.Signals, ...] = DEFAULT_SIGNALS) -> None:
    """Return when the process receives one of ``signals`` (main thread only)."""
    with anyio.open_signal_receiver(*signals) as received:
        async for _ in received:
            return


def shutdown_trigger(
    *registries: StreamRegistry,
    wait: Callable[[], Awaitable[object]] | None = None,
    timeout: float = 5.0,
) -> Callable[[], Awaitable[None]]:
    """A ``shutdown_trigger`` for ``hypercorn.asyncio.serve`` that closes streams first.

    It waits for ``wait()`` (default: SIGINT or SIGTERM), then closes every open
    stream of ``registries`` (generators closed, cleanups run, no ``end`` event
    so tracked clients resume elsewhere) and waits up to ``timeout`` seconds for
    them to finish before letting hypercorn proceed with its own shutdown.
    """
    waiter = wait if wait is not None else wait_for_signal

    async def trigger() -> None:
        await waiter()
        for registry in registries:
            registry.close_all_nowait()
        with anyio.move_on_after(timeout):
            for registry in registries:
                await registry.close_all()

    return trigger
