"""``EventStream``: one user generator served as Server-Sent Events (a plain ASGI app).

Three parts per stream, each waiting on one thing:

- the pump (a child task) is the only code that advances the generator; it
  puts items into an ``ItemBuffer``, and nothing cancels it before the end;
- the writer (the calling task) turns everything ready into one ``send``, then
  parks on ``ItemBuffer.news()``, which the pump completes on news: a plain
  wake-up, no cancellation;
- the watch (``streams.watch``) waits in ``receive()`` for the client's
  disconnect, all the time, and runs the timing checks when due: a ping is due
  (it asks the parked writer for one) or the send in flight has run out of
  ``send_timeout``. A disconnect or a timed-out send cancels the stream. On
  asyncio it is a bare ``asyncio`` task in ``receive()`` and a loop timer, not
  an anyio child task (~3 KB more per idle stream, over the 30 KB budget); on
  trio a child task under a cancel scope whose deadline is the next check.

Why not one task waiting in ``receive()`` under a scope the pump cancels on
news (the previous design, two tasks): a cancelled scope is spent, so every
event woke every idle stream by raising and catching a cancellation, and
opened and timed a new scope. With one event fanned out to 10,000 streams the
exceptions, tracebacks and timer handles each wake left behind, alive until
the next event, made Python's garbage collector the larger part of the cost.
Now a wake leaves one future (asyncio), the timing checks run once per
interval instead of once per event, and a disconnect is noticed at once, even
while items flow: a fan-out about twice as fast (``bench/bench_fanout.py``,
and the channel row of ``bench/bench_channels.py``) for no more memory per
idle stream than before (``bench/bench_streams.py --baseline-root``).

Whatever ends the stream, the generator is closed with ``aclose()`` and
``on_close`` runs afterwards, exactly once. ``StreamState`` says what the peer
has been sent so far.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import anyio
import anyio.lowlevel
import orjson

from streams.buffer import ItemBuffer, pump
from streams.framing import END_FRAME, PING_FRAME, frame_error
from streams.logtext import log_exception
from streams.registry import StreamLease, StreamRegistry
from streams.settings import ErrorPayload, StreamSettings
from streams.tracking import frame_items
from streams.wakeup import running_asyncio_loop
from streams.watch import PeerWatch, watch_in_task

logger = logging.getLogger("belay.streams")

Scope = Any  # the ASGI boundary: plain dicts and callables, as servers hand them over
Receive = Callable[[], Awaitable[Any]]
Send = Callable[[Any], Awaitable[None]]
Encode = Callable[[object], bytes]
RenderError = Callable[[BaseException], ErrorPayload]
OnClose = Callable[[], Awaitable[None]]
Headers = Sequence[tuple[bytes, bytes]]

SSE_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-store"),
    (b"x-accel-buffering", b"no"),
    (b"x-content-type-options", b"nosniff"),
]
JSON_TYPE = (b"content-type", b"application/json")
NO_SNIFF_OR_STORE = ((b"x-content-type-options", b"nosniff"), (b"cache-control", b"no-store"))
FINAL_SEND_TIMEOUT = 0.1  # shutdown must not wait on a peer that stopped reading


class StreamState(enum.Enum):
    """Where one ``EventStream`` is in its response (like hypercorn's ``ASGIHTTPState``).

    ``NEW -> OPENING -> STREAMING -> CLOSED``; ``OPENING`` may go straight to
    ``CLOSED`` (a plain HTTP answer), and ``OPENING`` or ``STREAMING`` may end in
    ``PEER_GONE``. ``CLOSED`` and ``PEER_GONE`` are final: nothing more is sent.
    """

    NEW = enum.auto()  # created, serving no request yet
    OPENING = enum.auto()  # serving, nothing sent: an error is still a status and JSON body
    STREAMING = enum.auto()  # the 200 SSE headers are out: errors travel as ``event: error``
    CLOSED = enum.auto()  # the last body message went to ``send`` (it carried the outcome)
    PEER_GONE = enum.auto()  # the peer disconnected, or a send failed or timed out


class _StreamStopError(Exception):
    """The peer is gone (disconnected, or a send failed or timed out): stop quietly."""


class EventStream:
    """Serve ``source`` (an async generator, created but not started) as SSE.

    ``encode`` turns one yielded item (unwrapped from ``TrackedItem``) into JSON
    bytes; ``render_error`` turns an exception into an ``ErrorPayload``;
    ``on_close`` runs after the generator has been closed, exactly once;
    ``headers`` (such as CORS headers) are added to every response start, the
    stream's and an error's. The instance is an ASGI app for one request whose
    body has been read.

    - Headers wait for the first item: an exception before it (or an ``encode``
      failure on it) is a plain HTTP error. After ``open_timeout`` (or a whole
      ``ping_interval`` if shorter) without one, the 200 headers and a ping go
      out, so a subscription that has nothing to say yet is seen as open.
    - A generator stopped while suspended at ``yield`` is closed by ``aclose()``;
      one stopped inside an ``await`` is cancelled there (anyio semantics: its
      ``finally`` runs, awaits in it need ``anyio.CancelScope(shield=True)``).
    - ``receive()`` is awaited while ``send()`` runs in another task, and is
      cancelled when the stream ends (on trio also once per timing check), so
      it must be cancel-safe, as every server's is (Starlette relies on the same).

    ``state`` (a ``StreamState``) tells how far the response has got.
    """

    __slots__ = (
        "_buffer",
        "_encode",
        "_headers",
        "_last_send",
        "_on_close",
        "_ping_due",
        "_registry",
        "_render_error",
        "_scope",
        "_sending",
        "_settings",
        "_source",
        "state",
    )

    def __init__(
        self,
        source: AsyncIterator[object],
        *,
        encode: Encode,
        render_error: RenderError,
        settings: StreamSettings | None = None,
        registry: StreamRegistry | None = None,
        on_close: OnClose | None = None,
        headers: Headers = (),
    ) -> None:
        self._source = source
        self._encode = encode
        self._render_error = render_error
        self._settings = settings or StreamSettings()
        self._registry = registry
        self._on_close = on_close
        self._headers = tuple(headers)
        self.state = StreamState.NEW
        self._last_send = 0.0  # time.monotonic() when the latest send began
        self._sending = False  # a send is in flight (the watch times it)
        self._ping_due = False  # set by the watch, done by the writer
        self._buffer: ItemBuffer | None = None  # while serving
        self._scope: anyio.CancelScope | None = None  # the stream's task group, while serving

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.state is not StreamState.NEW:
            raise RuntimeError("an EventStream serves one request only")
        self.state = StreamState.OPENING
        lease = self._registry.try_open() if self._registry is not None else None
        try:
            if self._registry is not None and lease is None:
                await self._reject_full(send)
            else:
                await self._serve(receive, send, lease)
        finally:
            try:
                with anyio.CancelScope(shield=True):
                    await self._close_source_then_cleanup()
            finally:
                if lease is not None:
                    lease.release()

    async def _reject_full(self, send: Send) -> None:
        limit = self._registry.max_streams if self._registry is not None else None
        detail = f"too many open streams (max_streams={limit}); retry later"
        # No watch runs for this answer: it is timed here.
        with anyio.move_on_after(self._settings.send_timeout) as timer:
            with contextlib.suppress(_StreamStopError):
                await self._send_json(send, 503, orjson.dumps({"detail": detail}))
        if timer.cancelled_caught:
            self._peer_gone()

    async def _serve(self, receive: Receive, send: Send, lease: StreamLease | None) -> None:
        buffer = self._buffer = ItemBuffer(self._settings.max_pending)
        self._last_send = time.monotonic()
        loop = running_asyncio_loop()
        peer = None
        try:
            async with anyio.create_task_group() as tasks:
                self._scope = tasks.cancel_scope
                if lease is not None:
                    lease.attach(tasks.cancel_scope)
                tasks.start_soon(pump, self._source, buffer)
                if loop is not None:
                    peer = PeerWatch(loop, receive, self._check_timing, self._disconnected)
                    peer.start()
                else:
                    tasks.start_soon(watch_in_task, receive, self._check_timing, self._disconnected)
                # The writer, inline (its frame lives as long as the stream): send
                # what is ready, park until there is more or a ping is due.
                with contextlib.suppress(_StreamStopError):  # nobody left to write to
                    while not await self._write_ready(send, buffer):
                        await buffer.news()
                        if self._ping_due:
                            self._ping_due = False
                            if (
                                not buffer.has_news()
                            ):  # news goes out instead (and resets the timer)
                                await self._ping(send)
                tasks.cancel_scope.cancel()
        except BaseExceptionGroup as group:
            # Only the writer can fail (the pump and the watch catch everything);
            # hand the server the bare exception, as Starlette's responses do.
            if len(group.exceptions) == 1:
                raise group.exceptions[0] from None
            raise
        finally:
            if peer is not None:
                peer.stop()
            self._scope = self._buffer = None
        self._log_unreported(buffer)
        if lease is not None and lease.stopped and self._state_is_open():
            await self._finish_after_stop(send)

    async def _write_ready(self, send: Send, buffer: ItemBuffer) -> bool:
        """Send what is ready, for as long as more keeps coming; True once the stream is over."""
        while buffer.has_news():
            items = buffer.take()
            chunk, error = frame_items(items, self._encode)
            finished = buffer.finished
            if error is None and finished is not None:
                error = finished.error
            if self.state is StreamState.OPENING:
                if error is not None and not chunk:
                    payload = self._render_error(error)
                    await self._send_json(send, payload.status, payload.body, extra=payload.headers)
                    return True
                await self._start(send)
            if error is not None or finished is not None:
                await self._send_last(send, chunk, error)
                return True
            await self._send_body(send, chunk)
            buffer.accepted(len(items))
        return False

    async def _ping(self, send: Send) -> None:
        if self.state is StreamState.OPENING:
            await self._start(send)
        await self._send_body(send, PING_FRAME)

    def _check_timing(self, now: float) -> float | None:
        """The watch's timing check at ``now`` (time.monotonic()): the next one, or None.

        A ping is due after a whole ``ping_interval`` since the last write began
        (before the headers, ``open_timeout`` if shorter): it asks the parked
        writer for one. A send in flight past ``send_timeout`` stops the stream
        (None). These checks are the only timers while the stream lives, one per
        interval, not one per event.
        """
        settings = self._settings
        send_timeout = settings.send_timeout if settings.send_timeout is not None else math.inf
        if self._sending:
            check = self._last_send + send_timeout
            if now >= check:
                self._peer_gone()
                logger.debug("stream send timed out after %ss", settings.send_timeout)
                self._stop_stream()
                return None
            return check
        if self.state is StreamState.OPENING:
            quiet = min(settings.open_timeout, settings.ping_interval)
        else:
            quiet = settings.ping_interval
        check = self._last_send + quiet
        if now >= check:
            self._ping_due = True
            if self._buffer is not None:
                self._buffer.wake()
            check = now + quiet
        # A send that starts before the next check must not outlive its timeout.
        return min(check, now + send_timeout)

    def _disconnected(self) -> None:
        """The watch heard the peer leave (or ``receive()`` failed): stop the stream."""
        self._peer_gone()
        self._stop_stream()

    def _stop_stream(self) -> None:
        if self._scope is not None:
            self._scope.cancel()

    async def _start(self, send: Send) -> None:
        headers = [*SSE_HEADERS, *self._headers] if self._headers else SSE_HEADERS
        await self._send({"type": "http.response.start", "status": 200, "headers": headers}, send)
        self.state = StreamState.STREAMING

    async def _send_body(self, send: Send, body: bytes) -> None:
        await self._send({"type": "http.response.body", "body": body, "more_body": True}, send)

    async def _send_last(self, send: Send, chunk: bytes, error: Exception | None) -> None:
        tail = END_FRAME if error is None else frame_error(self._render_error(error).event_data)
        message = {"type": "http.response.body", "body": chunk + tail, "more_body": False}
        self.state = StreamState.CLOSED  # first: a last send cut short is never followed
        await self._send(message, send)

    async def _send_json(
        self, send: Send, status: int, body: bytes, *, extra: tuple[tuple[bytes, bytes], ...] = ()
    ) -> None:
        length = (b"content-length", str(len(body)).encode())
        headers = [JSON_TYPE, *NO_SNIFF_OR_STORE, length, *extra, *self._headers]
        self.state = StreamState.CLOSED  # first: an answer cut short is never followed
        await self._send(
            {"type": "http.response.start", "status": status, "headers": headers}, send
        )
        await self._send({"type": "http.response.body", "body": body, "more_body": False}, send)

    async def _send(self, message: dict[str, Any], send: Send) -> None:
        """One ASGI send (timed by the watch); a failed send ends the stream."""
        self._last_send = time.monotonic()
        self._sending = True
        try:
            await send(message)
        except OSError as exc:
            # A dead or departed peer is not an error of the app: no traceback.
            self._peer_gone()
            logger.debug("stream write failed: %r", exc)
            raise _StreamStopError from None
        finally:
            self._sending = False

    async def _finish_after_stop(self, send: Send) -> None:
        """Shutdown or reload: end the body without ``event: end`` so clients resume."""
        with anyio.CancelScope(shield=True), anyio.move_on_after(FINAL_SEND_TIMEOUT):
            try:
                if self.state is StreamState.STREAMING:
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                else:
                    body = orjson.dumps({"detail": "server is shutting down"})
                    await self._send_json(send, 503, body)
            except (OSError, _StreamStopError):
                pass  # the peer left at the same moment; nothing more to tell it

    def _state_is_open(self) -> bool:
        """True while the response may still send: it is neither closed nor its peer gone."""
        return self.state in (StreamState.OPENING, StreamState.STREAMING)

    def _peer_gone(self) -> None:
        # A CLOSED stream stays CLOSED: its outcome was handed to its last send,
        # and a failing last send does not make it unreported.
        if self.state is not StreamState.CLOSED:
            self.state = StreamState.PEER_GONE

    def _log_unreported(self, buffer: ItemBuffer) -> None:
        """Log an exception the peer never heard of (it left, or the generator raised on close)."""
        finished = buffer.finished
        if finished is None or finished.error is None or self.state is StreamState.CLOSED:
            return  # a clean end, or the error went out with the last message
        log_exception(logger, "stream generator raised after the stream stopped", finished.error)

    async def _close_source_then_cleanup(self) -> None:
        try:
            await self._close_source()
        finally:
            if self._on_close is not None:
                await self._on_close()

    async def _close_source(self) -> None:
        aclose = getattr(self._source, "aclose", None)
        if aclose is None:
            return
        with anyio.move_on_after(self._settings.close_timeout) as scope:
            try:
                await aclose()
            except Exception as exc:
                log_exception(logger, "async generator raised while being closed", exc)
        if scope.cancelled_caught:
            logger.warning("async generator did not close within %ss", self._settings.close_timeout)
