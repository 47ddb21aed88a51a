"""Streaming sideeffects: progress items while the action runs, then the page state.

``with_final_state`` wraps the action's generator: its items pass through,
then the page (located before the action ran, rendered with the request's own
dependencies) goes out as one ``event: state`` frame. If the generator fails
once its response has started, the state is still rendered and sent ahead of
the ``event: error``: the mutation may be partly done, and a page must never
be left showing the state from before it. A failure before the response has
started stays a plain HTTP error, as for any action.

What happens when the client leaves mid-way is the action's choice:

- ``on_disconnect="cancel"``: served like any stream; the generator is closed
  (``aclose()`` at its ``yield``, or cancelled inside an ``await``).
- ``on_disconnect="finish"`` (the default): ``FinishingResponse`` drives the
  generator from its own task, which the response only relays; a disconnect
  ends the relay, not the work. The state is still rendered, and the
  request's cleanup waits for the end of the run.

Either way, once the run and the request's cleanup are over, ``announce``
(the page-changed hook for live viewers) runs if the action's code ran at all:
even a partial or abandoned mutation may have changed the page.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import anyio
import anyio.lowlevel
import anyio.to_thread
import orjson
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from streams.framing import EVENT_STATE
from streams.response import EventStream, StreamState
from streams.tracking import NamedEvent

logger = logging.getLogger("belay.rpc")
RUN_SLICE = 0.002  # seconds a finish-mode run may go without yielding to the loop

T = TypeVar("T")
RenderState = Callable[[], Awaitable[Any]]  # the JSON-ready page state (or its reload fields)
OnClose = Callable[[], Awaitable[None]]


class ResponseWatch:
    """What one streaming sideeffect's pieces tell each other.

    ``started()``: whether its response has started (headers sent); the wrapper
    is made before the ``EventStream`` that serves it, so the stream is
    attached afterwards. ``ran``: whether the action's code began to run.
    """

    __slots__ = ("ran", "stream")

    def __init__(self) -> None:
        self.stream: EventStream | None = None
        self.ran = False

    def started(self) -> bool:
        stream = self.stream
        return stream is not None and stream.state not in (StreamState.NEW, StreamState.OPENING)


def progress_response(
    source: AsyncIterator[object] | Iterator[object],
    *,
    render: RenderState,
    serve: Callable[..., EventStream],
    close: OnClose | None,
    announce: OnClose | None,
    finish: bool,
    buffer: int,
) -> EventStream | FinishingResponse:
    """The ASGI response of a streaming sideeffect whose generator ``source`` is not started.

    ``render`` gives the page state; ``serve(items, on_close=...)`` builds the
    ``EventStream`` of the items; ``close`` is the request's cleanup and
    ``announce`` the page-changed hook, run after it. ``finish``: the run
    outlives its client (``FinishingResponse``), with a relay of ``buffer`` items.
    """
    items = source if isinstance(source, AsyncIterator) else iterate_in_thread(source)
    watch = ResponseWatch()
    wrapped = with_final_state(items, render, watch=watch)
    on_close = None
    if close is not None or announce is not None:
        on_close = functools.partial(close_then_announce, close, announce, watch)
    if not finish:
        watch.stream = serve(wrapped, on_close=on_close)
        return watch.stream

    def relay(relayed: AsyncIterator[object]) -> EventStream:
        watch.stream = serve(relayed, on_close=None)
        return watch.stream

    return FinishingResponse(wrapped, relay, on_close=on_close, buffer=buffer)


def state_event(state: Any) -> NamedEvent:
    """The ``event: state`` frame of a page state: the same envelope as a JSON sideeffect."""
    return NamedEvent(EVENT_STATE, orjson.dumps({"sideeffect": state, "passthrough": None}))


async def with_final_state(
    items: AsyncIterator[object],
    render: RenderState,
    *,
    watch: ResponseWatch,
) -> AsyncIterator[object]:
    """``items``, then the page state as a ``NamedEvent``; on failure, the state first."""
    yielded = False
    watch.ran = True
    try:
        try:
            async for item in items:
                yielded = True
                yield item
        except Exception:
            if yielded or watch.started():
                state = await _render_after_failure(render)
                if state is not None:
                    yield state_event(state)
            raise
        yield state_event(await render())
    finally:
        aclose = getattr(items, "aclose", None)
        if aclose is not None:
            await aclose()


async def _render_after_failure(render: RenderState) -> Any:
    """The state after the action failed, or None if rendering fails too (logged).

    The action's own error is what the client is told; a render failure on top
    of it is logged, not sent.
    """
    try:
        return await render()
    except Exception:
        logger.exception("re-render after a failed streaming sideeffect raised")
        return None


async def close_then_announce(
    close: OnClose | None, announce: OnClose | None, watch: ResponseWatch
) -> None:
    """The end of a streaming sideeffect: the request's cleanup, then the page-changed hook.

    In that order, so a transaction committed by a ``yield`` dependency is
    visible to what the announcement triggers (the viewers' renders).
    """
    try:
        if close is not None:
            await close()
    finally:
        if announce is not None and watch.ran:
            await announce()


async def iterate_in_thread(items: Iterator[T]) -> AsyncIterator[T]:
    """A sync generator as an async one: each step runs in a worker thread, never on the loop.

    A step in flight is not abandoned when the consumer is cancelled (the thread
    cannot be interrupted): the cancellation takes effect once the step returns,
    and the generator is then closed in a worker thread too.
    """
    done = object()
    try:
        while True:
            item: T | object = await anyio.to_thread.run_sync(next, items, done)
            if item is done:
                return
            yield cast(T, item)
    finally:
        close = getattr(items, "close", None)
        if close is not None:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(close)


@dataclass(slots=True)
class _Run:
    """Between the runner task and the relay: when to start, how the run ended, who heard."""

    go: anyio.Event = field(default_factory=anyio.Event)  # the stream pulled its first item
    error: Exception | None = None
    reported: bool = False  # the relay handed ``error`` to the stream


class FinishingResponse:
    """A streaming sideeffect that runs to its end even when its client leaves (ASGI app).

    One runner task drives ``source`` (no one else touches it, so no pending
    ``anext()`` of the user's generator is ever cancelled) and hands each item
    to the ``EventStream`` through a memory stream of ``buffer`` items. When the client
    leaves, the stream closes its end; the runner keeps going and drops what it
    would have sent. ``on_close`` (the request's cleanup) runs after the run.

    The runner starts only once the stream pulls its first item: a stream that
    is refused (``max_streams``, 503) never runs the action.
    """

    def __init__(
        self,
        source: AsyncIterator[object],
        make_stream: Callable[[AsyncIterator[object]], EventStream],
        *,
        on_close: OnClose | None,
        buffer: int,
    ) -> None:
        self._source = source
        self._make_stream = make_stream
        self._on_close = on_close
        self._buffer = buffer

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        sender, receiver = anyio.create_memory_object_stream[object](self._buffer)
        run = _Run()
        try:
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(_drive, self._source, sender, run)
                await self._make_stream(_relay(receiver, run))(scope, receive, send)
                if not run.go.is_set():  # refused: the runner has not touched the action
                    tasks.cancel_scope.cancel()
        finally:
            receiver.close()  # the relay closes it, unless the stream never pulled (refused)
            if run.error is not None and not run.reported:
                error = run.error
                logger.error("streaming sideeffect raised after its client left", exc_info=error)
            if self._on_close is not None:
                with anyio.CancelScope(shield=True):
                    await self._on_close()


async def _drive(
    source: AsyncIterator[object], sender: MemoryObjectSendStream[object], run: _Run
) -> None:
    listening = True
    async with sender:  # closing it ends the relay
        await run.go.wait()
        try:
            deadline = time.monotonic() + RUN_SLICE
            async for item in source:
                if listening:
                    listening = await _hand_over(sender, item)
                if time.monotonic() >= deadline:
                    # A generator that never awaits must not starve the loop, also
                    # once nobody reads (nothing then blocks on a full relay).
                    await anyio.lowlevel.checkpoint()
                    deadline = time.monotonic() + RUN_SLICE
        except Exception as exc:
            run.error = exc
        finally:
            aclose = getattr(source, "aclose", None)
            if aclose is not None:
                with anyio.CancelScope(shield=True):
                    await aclose()


async def _hand_over(sender: MemoryObjectSendStream[object], item: object) -> bool:
    """Queue ``item`` for the relay; False once the client has left.

    No loop turn while the relay has room: a turn per item cost 10x the
    throughput of a plain stream (measured in bench_progress.py).
    """
    try:
        try:
            sender.send_nowait(item)
        except anyio.WouldBlock:
            await sender.send(item)
    except (anyio.BrokenResourceError, anyio.ClosedResourceError):
        return False  # the client left: finish without it
    return True


async def _relay(receiver: MemoryObjectReceiveStream[object], run: _Run) -> AsyncIterator[object]:
    run.go.set()
    async with receiver:
        while True:
            try:
                item = receiver.receive_nowait()
            except anyio.WouldBlock:
                try:
                    item = await receiver.receive()
                except anyio.EndOfStream:
                    break
            except anyio.EndOfStream:
                break
            yield item
    if run.error is not None:
        run.reported = True
        raise run.error
