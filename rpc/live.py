"""Live page state: one viewer's ``GET .../live`` stream and its renders.

A viewer subscribes to its page's key on the app's broker (before its first
render, so no change slips between the two), sends the full state, then waits
for notifications. Each one means "re-render these fields"; everything queued
while the viewer was busy rendering is folded into one render (the union of
the fields; "all" wins). The render uses the viewer's own request, so each
viewer sees its own page. A render that reads nothing of the request (no
``Request``, no ``Depends``) is done once per page and change on this worker,
and its encoded JSON is shared by every viewer that waits for it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import anyio

from rpc.assembly import ControllerRuntime
from rpc.binding import CallPlan
from rpc.broadcast import LIVE_CHANNEL, Broadcaster, Reload, decode_change, page_key
from rpc.encoding import dump_json
from rpc.resolution import RequestCleanup, RequestScope, bind_arguments, call_plan
from rpc.specs import ParamSource
from rpc.streaming import StreamRuntime
from streams.brokers.base import CATCH_UP, DETACHED, Subscriber
from streams.positions import Delivery

_PER_REQUEST = (ParamSource.REQUEST, ParamSource.LAST_EVENT_ID, ParamSource.DEPENDS)


@dataclass(frozen=True, slots=True)
class LivePlan:
    """How to render some fields of a page: the plan, and whether it is a slice."""

    plan: CallPlan
    sliced: bool
    shared: bool  # reads nothing of the request: one render serves every viewer


class LivePlans:
    """A controller's render plans for live viewers, chosen by reload fields.

    The full ``render()`` for everything; a sideeffect's
    ``experimental_render_reload`` slice for exactly its reload fields.
    """

    def __init__(self, controller: ControllerRuntime) -> None:
        self.controller = controller
        self.full = LivePlan(controller.render.plan, False, is_shared(controller.render.plan))
        self.slices: dict[frozenset[str], LivePlan] = {}
        for action in controller.actions.values():
            sliced, fields = action.sliced_render, action.reload_include
            if sliced is not None and fields is not None:
                self.slices.setdefault(fields, LivePlan(sliced, True, is_shared(sliced)))

    def choose(self, reload: Reload) -> LivePlan:
        if reload is None:
            return self.full
        return self.slices.get(reload, self.full)


def is_shared(plan: CallPlan) -> bool:
    """True if a render reads only page values: no ``Request``, ``Depends`` nor header.

    Any dependency disqualifies it, whatever it reads: it may see the user
    through the request, or through state that middleware set for this request.
    """
    return not plan.dependencies and all(p.source not in _PER_REQUEST for p in plan.params)


@dataclass(frozen=True)
class LiveRuntime:
    """One app's live machinery: notifications, shared renders, the stream, render plans."""

    broadcaster: Broadcaster
    hub: LiveHub
    stream: StreamRuntime
    plans: dict[str, LivePlans]


class _SharedFrame:
    """One render shared by the viewers of a page on this worker, for one change."""

    __slots__ = ("done", "error", "frame", "token")

    def __init__(self, token: object) -> None:
        self.token = token
        self.done = anyio.Event()
        self.frame: bytes | None = None
        self.error: BaseException | None = None


class LiveHub:
    """This worker's live viewers of one app: shared renders per page key."""

    def __init__(self) -> None:
        self._viewers: dict[str, int] = {}
        self._shared: dict[str, _SharedFrame] = {}

    def join(self, key: str) -> None:
        self._viewers[key] = self._viewers.get(key, 0) + 1

    def leave(self, key: str) -> None:
        left = self._viewers.get(key, 0) - 1
        if left > 0:
            self._viewers[key] = left
        else:
            self._viewers.pop(key, None)
            self._shared.pop(key, None)

    @property
    def pages(self) -> int:
        """How many pages have viewers on this worker (for tests and metrics)."""
        return len(self._viewers)

    async def shared(
        self, key: str, token: object, viewer: LiveViewer, plan: LivePlan, reload: Reload
    ) -> bytes:
        """The frame for ``token``: rendered by the first viewer to ask, awaited by the rest."""
        while True:
            entry = self._shared.get(key)
            if entry is None or entry.token != token:
                entry = self._shared[key] = _SharedFrame(token)
                try:
                    entry.frame = await viewer.render_frame(plan, reload)
                except BaseException as exc:
                    entry.error = exc
                    if self._shared.get(key) is entry:
                        del self._shared[key]  # a cancelled renderer must not poison the rest
                    raise
                finally:
                    entry.done.set()
                return entry.frame
            await entry.done.wait()
            if entry.frame is not None:
                return entry.frame
            if entry.error is not None and not isinstance(
                entry.error, anyio.get_cancelled_exc_class()
            ):
                raise entry.error
            # The renderer was cancelled (its viewer left): render again.


class LiveViewer:
    """One viewer of a page: its request, its page values, and its renders."""

    __slots__ = ("_key", "_page", "_plans", "_scope")

    def __init__(self, plans: LivePlans, scope: RequestScope, values: dict[str, Any]) -> None:
        self._plans = plans
        self._scope = scope  # the page scope of the GET .../live request
        self._page = values
        self._key = page_key(plans.controller.spec.id, values)

    @property
    def key(self) -> str:
        return self._key

    async def render_frame(self, choice: LivePlan, reload: Reload = None) -> bytes:
        """Render with this viewer's request: the ``reload`` fields (or all) as JSON."""
        cleanup = RequestCleanup()  # yield dependencies live for one render
        scope = RequestScope(
            request=self._scope.request,
            cleanup=cleanup,
            resolver=self._scope.resolver,
            query=self._scope.query,
            path=self._scope.path,
        )
        try:
            kwargs = await bind_arguments(choice.plan, scope)
            state = await call_plan(choice.plan, kwargs)
        except BaseException as exc:
            with anyio.CancelScope(shield=True):
                await cleanup.close(exc)
            raise
        with anyio.CancelScope(shield=True):
            await cleanup.close(None)
        if choice.sliced:
            return dump_json(state)  # a slice returns its fields, JSON-ready
        render = self._plans.controller.render
        return dump_json(
            render.adapter.dump_python(
                state,
                mode="json",
                by_alias=True,
                include=None if reload is None else set(reload),
                warnings="error",
            )
        )

    async def full_frame(self) -> bytes:
        return await self.render_frame(self._plans.full)

    async def partial_frame(self, reload: Reload, hub: LiveHub, token: object) -> bytes:
        """The frame for a change of ``reload``: sliced, shared or per viewer as fits."""
        choice = self._plans.choose(reload)
        if choice.shared:
            return await hub.shared(self._key, (token, reload), self, choice, reload)
        return await self.render_frame(choice, reload)


async def live_frames(
    viewer: LiveViewer, broadcaster: Broadcaster, hub: LiveHub
) -> AsyncIterator[bytes]:
    """The frames of one live stream: the full state, then one partial state per change."""
    broker, subscriber = broadcaster.broker, Subscriber()
    hub.join(viewer.key)
    try:
        # Subscribe before the first render: a change made in between is then a
        # notification. Inside the try: a viewer that leaves while the broker has
        # not confirmed yet must still be detached.
        await broker.attach(LIVE_CHANNEL, viewer.key, subscriber)
        yield await viewer.full_frame()
        last: tuple[str, int] | None = None
        while True:
            reload, last, exact = await _next_change(subscriber, last)
            if subscriber.detached:
                # The broker was closed under this viewer (its app's streams were
                # drained while it opened): attach to the current one, then render all.
                broker.detach(LIVE_CHANNEL, viewer.key, subscriber)
                broker, subscriber = broadcaster.broker, Subscriber()
                await broker.attach(LIVE_CHANNEL, viewer.key, subscriber)
            # Viewers share a render only for the same last change; after an
            # overflow nothing names the state, so this viewer renders its own.
            token = last if exact else object()
            if reload != frozenset():  # reload=() changes no field: nothing to send
                yield await viewer.partial_frame(reload, hub, token)
    finally:
        hub.leave(viewer.key)
        broker.detach(LIVE_CHANNEL, viewer.key, subscriber)


async def _next_change(
    subscriber: Subscriber, last: tuple[str, int] | None
) -> tuple[Reload, tuple[str, int] | None, bool]:
    """Wait for a change, then fold in every one already queued: one render for a burst.

    Returns the fields, the last notification's ``(epoch, offset)``, and whether
    that position names the change exactly (not after an overflow). A gap in the
    offsets (missed notifications) or an overflow means "everything".
    """
    reload: Reload = frozenset()
    exact = True
    item = await subscriber.next()
    while True:
        if item is DETACHED:
            return None, last, False
        if item is CATCH_UP or not isinstance(item, Delivery):
            reload, exact = None, False
        elif last is None or item.epoch != last[0] or item.offset > last[1]:
            if last is not None and (item.epoch != last[0] or item.offset > last[1] + 1):
                reload = None  # notifications were missed: their fields are unknown
            last = (item.epoch, item.offset)
            fields = decode_change(item.data)
            reload = None if reload is None or fields is None else reload | fields
        if not subscriber.queued:
            return reload, last, exact
        item = await subscriber.next()
