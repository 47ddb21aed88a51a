"""``EventStream``: one user generator served as Server-Sent Events (a plain ASGI app).

Two tasks per stream. The pump (a child task) is the only code that advances
the generator; it puts items into an ``ItemBuffer``. The writer (the calling
task) turns everything ready into one ``send``; when nothing is ready it waits
in ``receive()`` under a cancel scope that the pump cancels on news, so one
wait covers new items, the ping deadline and the client's disconnect. Whatever
ends the stream, the generator is closed with ``aclose()`` and ``on_close`` runs
afterwards, exactly once. ``StreamState`` says what the peer has been sent so far.
"""

from __future__ import annotations

import contextlib
import enum
import logging
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
POLL_EVERY = 0.25  # seconds between disconnect polls while items flow
POLL_WAIT = 0.001
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
    - ``receive()`` is awaited and cancelled repeatedly, so it must be
      cancel-safe, as every server's is (Starlette relies on the same).

    ``state`` (a ``StreamState``) tells how far the response has got.
    """

    __slots__ = (
        "_encode",
        "_headers",
        "_next_poll",
        "_on_close",
        "_registry",
        "_render_error",
        "_scope",
        "_settings",
        "_source",
        "_waiting",
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
        self._next_poll = 0.0
        self._scope: anyio.CancelScope | None = None  # the writer's, see _write
        self._waiting = False  # the writer waits for news (else its deadline is a send's)

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
        await self._send_json(send, 503, orjson.dumps({"detail": detail}))

    async def _serve(self, receive: Receive, send: Send, lease: StreamLease | None) -> None:
        buffer = ItemBuffer(self._settings.max_pending)
        try:
            async with anyio.create_task_group() as tasks:
                if lease is not None:
                    lease.attach(tasks.cancel_scope)
                tasks.start_soon(pump, self._source, buffer)
                with contextlib.suppress(_StreamStopError):  # nobody left to write to
                    await self._write(receive, send, buffer)
                tasks.cancel_scope.cancel()
        except BaseExceptionGroup as group:
            # Only the writer can fail (the pump catches everything); hand the
            # server the bare exception, as Starlette's responses do.
            if len(group.exceptions) == 1:
                raise group.exceptions[0] from None
            raise
        self._log_unreported(buffer)
        if lease is not None and lease.stopped and self._state_is_open():
            await self._finish_after_stop(send)

    async def _write(self, receive: Receive, send: Send, buffer: ItemBuffer) -> None:
        # One cancel scope at a time covers both sending and waiting: its deadline
        # is the send timeout while a send is in flight and the ping deadline
        # while idle, and the pump cancels it on news. A cancelled scope is spent,
        # so each wake-up opens the next one: an idle stream holds just one, and
        # items that keep flowing are sent under one scope, not one per send.
        settings = self._settings
        # Headers wait for the first result, so an error raised before the first
        # item is a plain HTTP error. A generator silent for open_timeout gets
        # its headers and a ping, so the client sees an idle subscription open.
        patience = min(settings.open_timeout, settings.ping_interval)
        self._next_poll = anyio.current_time() + POLL_EVERY
        ping = False
        while True:
            with anyio.CancelScope() as scope:
                self._scope = scope
                try:
                    if ping:
                        await self._ping(send)
                    if await self._write_ready(receive, send, buffer):
                        return
                    # Wait in receive() until news or the ping deadline cancels the scope.
                    scope.deadline = anyio.current_time() + patience
                    buffer.watch(scope)
                    self._waiting = True
                    await self._until_disconnect(receive)
                finally:
                    self._scope = None
                    buffer.watch(None)
            if not self._waiting:  # the deadline passed during a send
                self._peer_gone()
                logger.debug("stream send timed out after %ss", settings.send_timeout)
                raise _StreamStopError
            self._waiting = False
            ping = not buffer.has_news()  # a whole ``patience`` of silence
            patience = settings.ping_interval

    async def _write_ready(self, receive: Receive, send: Send, buffer: ItemBuffer) -> bool:
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
            if not buffer.has_news():
                # One turn of the loop lets a generator that awaits between items
                # hand over its next one, sparing the costlier idle wait.
                await anyio.lowlevel.checkpoint()
            if buffer.has_news():
                await self._poll_disconnect(receive)
        return False

    async def _ping(self, send: Send) -> None:
        if self.state is StreamState.OPENING:
            await self._start(send)
        await self._send_body(send, PING_FRAME)

    async def _poll_disconnect(self, receive: Receive) -> None:
        # While items flow the writer never waits in receive(), so every
        # POLL_EVERY seconds it gives receive() POLL_WAIT to report a
        # disconnect (servers like hypercorn keep accepting sends after one).
        now = anyio.current_time()
        if now < self._next_poll:
            return
        self._next_poll = now + POLL_EVERY
        with anyio.move_on_after(POLL_WAIT):
            await self._until_disconnect(receive)

    async def _until_disconnect(self, receive: Receive) -> None:
        """Read messages until the peer disconnects, then raise ``_StreamStopError``.

        Only that, or a cancellation, ends it: the writer's waits are timed by
        their cancel scopes.
        """
        while True:
            try:
                message = await receive()
            except Exception:  # some servers raise once the peer is gone
                break
            if message.get("type") == "http.disconnect":
                break
        self._peer_gone()
        raise _StreamStopError

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
        """One ASGI send under the send timeout; a failed or stuck send ends the stream."""
        timeout, scope = self._settings.send_timeout, self._scope
        try:
            if scope is None or timeout is None:
                with anyio.fail_after(timeout):
                    await send(message)
            else:
                scope.deadline = anyio.current_time() + timeout
                await send(message)
        except (OSError, TimeoutError) as exc:
            # A dead or departed peer is not an error of the app: no traceback.
            self._peer_gone()
            logger.debug("stream write failed: %r", exc)
            raise _StreamStopError from None

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
