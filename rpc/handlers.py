"""The life of one request: render, action, or the preparation of a stream.

``Dispatcher`` owns what every request needs (settings, origin policy,
dependency resolver, stream registry) and has one entry per kind of answer:
JSON (``render``, ``action``) or a stream (``open_stream``). Errors before the
first byte become a status and JSON body; once a stream has started, errors
travel as ``event: error`` (see ``streams.response``).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import anyio
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rpc.assembly import ActionRuntime, ControllerRuntime
from rpc.binding import CallPlan
from rpc.bodies import ClientDisconnected, check_content_type, check_undeclared_body, read_body
from rpc.encoding import dump_json
from rpc.errors import HTTPError, error_headers, render_error
from rpc.headers import RequestHeaders
from rpc.live import LiveRuntime, LiveViewer, live_frames
from rpc.origin import OriginPolicy, cors_headers
from rpc.progress import progress_response
from rpc.query import parse_query
from rpc.resolution import (
    DependencyResolver,
    RequestCleanup,
    RequestScope,
    bind_arguments,
    call_plan,
    check_no_body,
    validate_values,
)
from rpc.responses import HTML_HEADERS, accepts_html, debug_page, encode_headers, send_body
from rpc.specs import ActionKind
from rpc.streaming import StreamRuntime
from rpc.unread_bodies import close_unread
from streams.registry import StreamRegistry
from streams.response import EventStream
from streams.settings import ErrorPayload

T = TypeVar("T")


@dataclass
class ServingSettings:
    """Per-app settings the request path reads (``debug`` may change at run time)."""

    debug: bool
    max_body_size: int
    body_timeout: float | None = None


@dataclass(slots=True)  # not frozen: built on every sideeffect, and frozen init costs more
class PageRender:
    """The page a sideeffect re-renders: its scope and its already validated values."""

    scope: RequestScope
    values: dict[str, Any]


class Dispatcher:
    """Answers each kind of request for a set of built controllers.

    ``render`` and ``action`` answer JSON; ``open_stream`` prepares a streaming
    action and returns its ``EventStream`` for the caller to serve. Each runs the
    request up to its first byte under ``_attempt``, which answers any error with
    a status and JSON body and runs the request's cleanup.
    """

    def __init__(
        self,
        *,
        settings: ServingSettings,
        origins: OriginPolicy,
        resolver: DependencyResolver,
        registry: StreamRegistry,
        live: LiveRuntime,
    ) -> None:
        self.settings = settings
        self.origins = origins
        self.resolver = resolver
        self.registry = registry
        self.live = live

    async def render(
        self, controller: ControllerRuntime, scope: Scope, receive: Receive, send: Send
    ) -> None:
        """``GET .../render``: the page state as JSON."""
        headers = RequestHeaders(scope=scope)
        cors = self.origins.listed_origin(headers)
        cleanup = RequestCleanup()

        async def run() -> bytes:
            request_scope = self._request_scope(scope, receive, cleanup, b"")
            page = controller.render.pattern.locate(headers)
            page_scope = request_scope.for_page(page.query, page.path)
            return dump_json(await self._render_state(controller, page_scope, None))

        await self._answer(run, cleanup, scope, send, cors)

    async def action(
        self,
        action: ActionRuntime,
        controller: ControllerRuntime,
        scope: Scope,
        receive: Receive,
        send: Send,
    ) -> None:
        """``POST .../{action}`` of an action that returns a value: the JSON envelope."""
        headers = RequestHeaders(scope=scope)
        cors = self.origins.listed_origin(headers)
        cleanup = RequestCleanup()

        changed: PageRender | None = None

        async def run() -> bytes:
            nonlocal changed
            request_scope = await self._read_request(action, headers, scope, receive, cleanup)
            page = self._locate_page(action, controller, request_scope, headers)
            kwargs = await bind_arguments(action.plan, request_scope)
            result = await call_plan(action.plan, kwargs)
            passthrough = self._dump_result(action, result)
            if page is None:
                return dump_json({"passthrough": passthrough})
            changed = page  # the mutation is done: its viewers hear of it whatever follows
            state = await self._render_state(controller, page.scope, action, page.values)
            return dump_json({"sideeffect": state, "passthrough": passthrough})

        try:
            await self._answer(run, cleanup, scope, send, cors)
        finally:
            if changed is not None and action.spec.broadcast:
                with anyio.CancelScope(shield=True):
                    await self.page_changed(controller, action, changed)

    async def page_changed(
        self, controller: ControllerRuntime, action: ActionRuntime, page: PageRender
    ) -> None:
        """Tell the viewers of ``page`` that ``action`` changed it (if it is ``broadcast=True``).

        The one "page changed" hook: call it after the sideeffect ran and its
        caller was answered (and its cleanup ran, so a transaction committed in
        a ``yield`` dependency is visible to the viewers' renders). It never
        raises; a broker failure is logged.
        """
        await self.live.broadcaster.page_changed(
            controller, action, page.scope.query, page.scope.path
        )

    async def open_live(
        self, controller: ControllerRuntime, scope: Scope, receive: Receive, send: Send
    ) -> EventStream | None:
        """``GET .../live``: the page's live state stream, not yet served (as ``open_stream``).

        The page is located and its values validated here (400, 422 as for a
        render); the stream then sends the full state and one partial state per
        change, each rendered with this request.
        """
        headers = RequestHeaders(scope=scope)
        cors = self.origins.listed_origin(headers)
        cleanup = RequestCleanup()
        live = self.live

        async def run() -> EventStream:
            request_scope = self._request_scope(scope, receive, cleanup, b"")
            page = controller.render.pattern.locate(headers)
            page_scope = request_scope.for_page(page.query, page.path)
            values = validate_values(controller.render.plan, page_scope)
            viewer = LiveViewer(live.plans[controller.spec.id], page_scope, values)
            source = live_frames(viewer, live.broadcaster, live.hub)
            on_close = functools.partial(_close, cleanup, None) if cleanup.pending else None
            return self._event_stream(live.stream, source, cors=cors, on_close=on_close)

        return await self._attempt(run, cleanup, scope, send, cors)

    async def open_stream(
        self,
        action: ActionRuntime,
        stream: StreamRuntime,
        scope: Scope,
        receive: Receive,
        send: Send,
        *,
        controller: ControllerRuntime,
    ) -> ASGIApp | None:
        """``POST .../{action}`` of a streaming action: its ``EventStream``, not yet served.

        None when the request has already been answered (an error, or the client
        left before the action ran). The caller serves the stream once this
        frame and the closures that prepared it are gone: an open stream holds
        only what it needs, which is what keeps an idle stream small. A
        streaming sideeffect's page is located before its action runs, and its
        stream ends with that page's state (``rpc.progress``).
        """
        headers = RequestHeaders(scope=scope)
        cors = self.origins.listed_origin(headers)
        cleanup = RequestCleanup()

        async def run() -> ASGIApp:
            request_scope = await self._read_request(action, headers, scope, receive, cleanup)
            page = self._locate_page(action, controller, request_scope, headers)
            kwargs = await bind_arguments(action.plan, request_scope)
            source = await call_plan(action.plan, kwargs)
            if page is None:
                on_close = functools.partial(_close, cleanup, None) if cleanup.pending else None
                return self._event_stream(stream, source, cors=cors, on_close=on_close)
            return self._progress_stream(stream, source, cleanup, cors, (controller, action, page))

        return await self._attempt(run, cleanup, scope, send, cors)

    def _progress_stream(
        self,
        stream: StreamRuntime,
        source: Any,
        cleanup: RequestCleanup,
        cors: str | None,
        target: tuple[ControllerRuntime, ActionRuntime, PageRender],
    ) -> ASGIApp:
        """A streaming sideeffect: its items, then its page's state (see ``rpc.progress``)."""
        controller, action, page = target
        return progress_response(
            source,
            render=functools.partial(
                self._render_state, controller, page.scope, action, page.values
            ),
            serve=functools.partial(self._event_stream, stream, cors=cors),
            close=functools.partial(_close, cleanup, None) if cleanup.pending else None,
            # Live viewers (broadcast=True) hear of the change after the run and its cleanup.
            announce=(
                functools.partial(self.page_changed, controller, action, page)
                if action.spec.broadcast
                else None
            ),
            finish=stream.finish_on_disconnect,
            buffer=stream.settings.max_pending,
        )

    async def _answer(
        self,
        run: Callable[[], Awaitable[bytes]],
        cleanup: RequestCleanup,
        scope: Scope,
        send: Send,
        cors: str | None,
    ) -> None:
        """Run a JSON request and send its body, then run its cleanup, whatever happens."""
        body = await self._attempt(run, cleanup, scope, send, cors)
        if body is None:
            return
        try:
            await send_body(send, 200, body, extra=cors_headers(cors))
        finally:
            await _finish(cleanup, None)

    async def _attempt(
        self,
        run: Callable[[], Awaitable[T]],
        cleanup: RequestCleanup,
        scope: Scope,
        send: Send,
        cors: str | None,
    ) -> T | None:
        """Run a request up to its first byte; on failure, answer the error and clean up.

        Returns None when the request is over (it failed and was answered, or the
        client left while its body was read). Cleanup runs with the error, and
        also when the request is cancelled (shielded, so it completes). On
        success the caller owns the cleanup: a stream runs it when it closes.
        """
        try:
            return await run()
        except ClientDisconnected:
            await _finish(cleanup, None)
            return None
        except Exception as exc:
            try:
                await self._send_error(exc, scope, send, cors)
            finally:
                await _finish(cleanup, exc)
            return None
        except BaseException as exc:
            await _finish(cleanup, exc)
            raise

    async def _read_request(
        self,
        action: ActionRuntime,
        headers: Headers,
        scope: Scope,
        receive: Receive,
        cleanup: RequestCleanup,
    ) -> RequestScope:
        """Check the origin, read the body, and gather what the action's plan draws from."""
        try:
            self.origins.check(headers)
            declared = check_content_type(headers)
            body = await read_body(
                headers, receive, self.settings.max_body_size, time_limit=self.settings.body_timeout
            )
        except HTTPError as exc:  # refused before the body's end
            close_unread(exc, scope)
            raise
        check_undeclared_body(body, declared=declared)
        if action.plan.body is None:
            check_no_body(body)
        return self._request_scope(scope, receive, cleanup, body)

    def _locate_page(
        self,
        action: ActionRuntime,
        controller: ControllerRuntime,
        request_scope: RequestScope,
        headers: Headers,
    ) -> PageRender | None:
        """A sideeffect's page, located and validated before the action runs.

        So a bad page is a 400/422 without a mutation behind it. None for a
        passthrough, which renders nothing.
        """
        if action.spec.kind is not ActionKind.SIDEEFFECT:
            return None
        page = controller.render.pattern.locate(headers)
        page_scope = request_scope.for_page(page.query, page.path)
        values = validate_values(self._render_plan(controller, action), page_scope)
        return PageRender(scope=page_scope, values=values)

    async def preflight(self, scope: Scope, send: Send) -> None:
        try:
            extra = self.origins.preflight_headers(RequestHeaders(scope=scope))
        except HTTPError as exc:
            await self._send_error(exc, scope, send, None)
            return
        await send({"type": "http.response.start", "status": 204, "headers": extra})
        await send({"type": "http.response.body", "body": b""})

    async def send_error(self, exc: Exception, scope: Scope, send: Send) -> None:
        """Answer a routing-level error (404, 405), readable by listed cross-origin clients."""
        cors = self.origins.listed_origin(RequestHeaders(scope=scope))
        await self._send_error(exc, scope, send, cors)

    def _request_scope(
        self, scope: Scope, receive: Receive, cleanup: RequestCleanup, body: bytes
    ) -> RequestScope:
        request = Request(scope, _replay(body, receive))
        raw_query: bytes = scope.get("query_string", b"")
        query = parse_query(raw_query.decode("latin-1")) if raw_query else {}
        return RequestScope(
            request=request, cleanup=cleanup, resolver=self.resolver, body=body, query=query
        )

    @staticmethod
    def _render_plan(controller: ControllerRuntime, action: ActionRuntime | None) -> CallPlan:
        if action is not None and action.sliced_render is not None:
            return action.sliced_render
        return controller.render.plan

    async def _render_state(
        self,
        controller: ControllerRuntime,
        page_scope: RequestScope,
        action: ActionRuntime | None,
        values: dict[str, Any] | None = None,
    ) -> Any:
        """The page state as JSON-ready data (a sideeffect's: filtered to its reload fields)."""
        plan = self._render_plan(controller, action)
        kwargs = await bind_arguments(plan, page_scope, values)
        if action is not None and action.sliced_render is not None:
            return await call_plan(plan, kwargs)  # the slice returns the filtered fields
        render = controller.render
        state = await call_plan(plan, kwargs)
        reload = action.reload_include if action is not None else None
        include = set(reload) if reload is not None else None  # reload=() sends no field
        return render.adapter.dump_python(
            state, mode="json", by_alias=True, include=include, warnings="error"
        )

    def _dump_result(self, action: ActionRuntime, result: Any) -> Any:
        if action.result_adapter is None:
            return None
        return action.result_adapter.dump_python(
            result, mode="json", by_alias=True, warnings="error"
        )

    def _event_stream(
        self,
        stream: StreamRuntime,
        source: Any,
        *,
        cors: str | None,
        on_close: Callable[[], Awaitable[None]] | None,
    ) -> EventStream:
        # Bound methods and partials rather than closures, and the action's shared
        # StreamRuntime rather than copies: every byte an open stream holds is
        # multiplied by the number of idle subscribers a worker keeps open.
        return EventStream(
            source,
            encode=stream.encode,
            render_error=self._render_stream_error,
            settings=stream.settings,
            registry=self.registry,
            # Cleanup errors are logged, never sent: the stream has already ended.
            on_close=on_close,
            headers=cors_headers(cors),
        )

    def _render_stream_error(self, exc: BaseException) -> ErrorPayload:
        payload = render_error(exc, debug=self.settings.debug)
        # Raised before the first item, the error is a status answer: with the
        # headers of any other error answer (the error's type, its own headers).
        extra = tuple(encode_headers(error_headers(exc)))
        return replace(payload, headers=extra) if extra else payload

    async def _send_error(
        self, exc: BaseException, scope: Scope, send: Send, cors: str | None
    ) -> None:
        payload = render_error(exc, debug=self.settings.debug)
        extra = [*encode_headers(error_headers(exc)), *cors_headers(cors)]
        if (
            self.settings.debug
            and payload.status >= 500
            and scope["method"] == "GET"
            and accepts_html(RequestHeaders(scope=scope).get("accept"))
        ):
            page = debug_page(exc, method=scope["method"], path=scope["path"])
            await send_body(send, payload.status, page, headers=HTML_HEADERS, extra=extra)
            return
        await send_body(send, payload.status, payload.body, extra=extra)


async def _finish(cleanup: RequestCleanup, exc: BaseException | None) -> None:
    """``_close``, shielded from cancellation so that cleanup completes.

    Requests that entered no ``yield`` dependency have nothing to close and skip
    the shield scope: anyio's first cancel scope in a task costs several
    microseconds, and servers run every request in a new task.
    """
    if not cleanup.pending:
        return
    with anyio.CancelScope(shield=True):
        await _close(cleanup, exc)


async def _close(cleanup: RequestCleanup, exc: BaseException | None) -> None:
    """Run yield-dependency cleanup after the response; cleanup errors are logged, not sent."""
    try:
        await cleanup.close(exc)
    except Exception as cleanup_error:
        render_error(cleanup_error)  # logs the traceback once


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that gives the already-read body once, then defers to the real one."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
