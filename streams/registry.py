"""One registry per app: the open streams, their cap, and closing them all."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import anyio

from streams.logtext import log_exception

logger = logging.getLogger("belay.streams")


class StreamLease:
    """One open stream's place in a registry; ``stop()`` ends the stream early."""

    __slots__ = ("_registry", "_scope", "stopped")

    def __init__(self, registry: StreamRegistry) -> None:
        self._registry = registry
        self._scope: anyio.CancelScope | None = None
        self.stopped = False

    def attach(self, scope: anyio.CancelScope) -> None:
        """Bind the cancel scope that ``stop()`` cancels (cancelled at once if stopped)."""
        self._scope = scope
        if self.stopped:
            scope.cancel()

    def stop(self) -> None:
        """Ask the stream to close now, without an ``end`` event."""
        self.stopped = True
        if self._scope is not None:
            self._scope.cancel()

    def release(self) -> None:
        """The stream has finished (generator closed, cleanup run)."""
        self._registry._release(self)


class StreamRegistry:
    """Tracks an app's open streams, caps them, and closes them on shutdown or reload.

    Safe to create outside an event loop (at import time, in an app constructor).
    """

    def __init__(self, max_streams: int | None = None) -> None:
        if max_streams is not None and (isinstance(max_streams, bool) or max_streams < 1):
            raise ValueError(f"max_streams must be >= 1 or None, got {max_streams!r}")
        self.max_streams = max_streams
        self._open: set[StreamLease] = set()
        self._drained: anyio.Event | None = None
        self._close_hooks: list[Callable[[], Awaitable[None]]] = []

    def add_close_hook(self, hook: Callable[[], Awaitable[None]]) -> None:
        """Run ``hook()`` after every ``close_all()`` (e.g. to close a channel broker).

        ``close_all()`` is what shutdown triggers, lifespans and reloads call, so
        this reaches an app even where no lifespan does (mounted in another app).
        """
        self._close_hooks.append(hook)

    @property
    def open_count(self) -> int:
        """How many streams are open right now."""
        return len(self._open)

    def try_open(self) -> StreamLease | None:
        """A lease for a new stream, or None when ``max_streams`` are already open."""
        if self.max_streams is not None and len(self._open) >= self.max_streams:
            return None
        lease = StreamLease(self)
        self._open.add(lease)
        return lease

    def close_all_nowait(self) -> None:
        """Tell every open stream to close now (streams opened later are not affected)."""
        for lease in list(self._open):
            lease.stop()

    async def close_all(self) -> None:
        """Close every open stream and wait until all have finished their cleanup.

        Bound the wait with ``anyio.move_on_after`` if a cleanup might hang.
        """
        self.close_all_nowait()
        while self._open:
            if self._drained is None:  # shared: concurrent callers all wake up
                self._drained = anyio.Event()
            await self._drained.wait()
        for hook in self._close_hooks:
            try:
                await hook()
            except Exception as exc:
                log_exception(logger, "a stream registry close hook failed", exc)

    def _release(self, lease: StreamLease) -> None:
        self._open.discard(lease)
        if not self._open and self._drained is not None:
            self._drained.set()
            self._drained = None
