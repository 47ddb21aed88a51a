"""A real hypercorn server on 127.0.0.1 for end-to-end tests.

``running_server(app)`` serves an ASGI app from a background thread with its own
event loop and yields the base URL. The listening socket is bound before the
server starts (port 0, handed to hypercorn as ``fd://``), so there is no race
on the port and no polling.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from hypercorn.asyncio import serve
from hypercorn.config import Config


@dataclass
class ServerHandle:
    """A running in-thread hypercorn server."""

    base_url: str
    port: int
    loop: asyncio.AbstractEventLoop
    _stop: asyncio.Event
    _thread: threading.Thread
    errors: list[BaseException] = field(default_factory=list)

    def stop(self, timeout: float = 10.0) -> None:
        """Trigger hypercorn's shutdown and wait for it (at most ``timeout`` s)."""
        self.loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise RuntimeError(f"server on port {self.port} did not stop within {timeout}s")

    async def task_count(self) -> int:
        """How many tasks the server's loop has (call from an asyncio loop)."""

        async def count() -> int:
            return len(asyncio.all_tasks())

        future = asyncio.run_coroutine_threadsafe(count(), self.loop)
        return await asyncio.wrap_future(future)

    async def settled_task_count(self, *, at_most: int, within: float = 10.0) -> int:
        """The task count once it is down to ``at_most``, or after ``within`` s, whichever first.

        A closed connection's tasks end shortly after the client sees the socket
        close; polling (rather than sleeping a fixed time) waits just long enough.
        """
        count = await self.task_count()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(within):
                while count > at_most:
                    await asyncio.sleep(0.01)
                    count = await self.task_count()
        return count


def bound_socket(port: int = 0) -> socket.socket:
    """A listening TCP socket on 127.0.0.1 (a free port unless ``port`` is given)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(2048)
    return sock


def make_config(fd: int, **options: Any) -> Config:
    config = Config()
    config.bind = [f"fd://{fd}"]
    config.accesslog = None
    config.graceful_timeout = options.pop("graceful_timeout", 5.0)
    for name, value in options.items():
        setattr(config, name, value)
    return config


def start_server(app: Any, *, port: int = 0, **config_options: Any) -> ServerHandle:
    """Start hypercorn serving ``app`` in a thread; call ``.stop()`` when done.

    ``port`` serves on a given port (e.g. to come back where clients reconnect).
    """
    sock = bound_socket(port)
    port = sock.getsockname()[1]
    fd = sock.detach()
    config = make_config(fd, **config_options)
    serving = threading.Event()
    state: dict[str, Any] = {}

    def run() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        stop = asyncio.Event()
        state["loop"], state["stop"] = loop, stop

        async def shutdown_trigger() -> None:
            # hypercorn awaits this once its listeners and its own tasks are all up:
            # from here on the server is in its steady state (tests count its tasks).
            serving.set()
            await stop.wait()

        try:
            loop.run_until_complete(serve(app, config, shutdown_trigger=shutdown_trigger))
        except BaseException as exc:
            state.setdefault("errors", []).append(exc)
        finally:
            serving.set()  # a failed start must not keep the caller waiting
            loop.close()

    thread = threading.Thread(target=run, name=f"hypercorn-{port}", daemon=True)
    thread.start()
    serving.wait(10)
    return ServerHandle(
        base_url=f"http://127.0.0.1:{port}",
        port=port,
        loop=state["loop"],
        _stop=state["stop"],
        _thread=thread,
        errors=state.setdefault("errors", []),
    )


@contextmanager
def running_server(app: Any, **config_options: Any) -> Iterator[ServerHandle]:
    """Serve ``app`` on 127.0.0.1 for the duration of the block."""
    handle = start_server(app, **config_options)
    try:
        yield handle
    finally:
        handle.stop()
