"""The life of one request: render, action, or the hand-off to a stream.

``Dispatcher`` owns what every request needs (settings, origin policy,
dependency resolver, stream registry) and answers each route. Errors before the
first byte become a status and JSON body; once a stream has started, errors
travel as ``event: error`` (see ``streams``).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import anyio
import orjson
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import Message, Receive, Scope, Send

from rpc.assembly import ActionRuntime, ControllerRuntime
from rpc.binding import CallPlan
from rpc.bodies import ClientDisconnected, check_content_type, read_body
from rpc.errors import HTTPError, error_headers, render_error
from rpc.origin import OriginPolicy, cors_headers
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
from streams import ErrorPayload, EventStream, StreamRegistry, StreamSettings


@dataclass
class ServingSettings:
    """Per-app settings the request path reads (``debug`` may change at run time)."""

    debug: bool
    max_body_size: int
    stream_settings: StreamSettings
    body_timeout: float | None = None


class Dispatcher:
    """Answers render and action requests for a set of built controllers."""

    def __init__(
        self,
        *,
        settings: ServingSettings,
        origins: OriginPolicy,
        resolver: DependencyResolver,
        registry: StreamRegistry,
    ) -> None:
        self.settings = settings
        self.origins = origins
        self.resolver = resolver
        self.registry = registry

    async def render(
        self, controller: ControllerRuntime, scope: Scope, receive: Receive, send: Send
    ) -> None:
        headers = Headers(scope=scope)
        cors = self.origins.listed_origin(headers)
        cleanup = RequestCleanup()

        async def run() -> bytes:
            request_scope = self._request_scope(scope, receive, cleanup, b"")
            page = controller.render.pattern.locate(headers)
            page_scope = request_scope.for_page(page.query, page.path)
            return orjson.dumps(await self._render_state(controller, page_scope, None))

        await self._answer(run, cleanup, scope, send, cors)

    async def action(
        self,
        action: ActionRuntime,
        controller: ControllerRuntime,
        scope: Scope,
        receive: Receive,
        send: Send,
    ) -> None:
        stream = await self._start_action(action, controller, scope, receive, send)
        if stream is not None:
            # Awaited here, once the frames and closures that prepared it are gone:
            # an open stream holds only what it needs (issue 3: <= 30 KB per idle stream).
            await stream(scope, receive, send)

    async def _start_action(
        self,
        action: ActionRuntime,
        controller: ControllerRuntime,
        scope: Scope,
        receive: Receive,
        send: Send,
    ) -> EventStream | None:
        """Answer the action, or return the stream that will answer it."""
        headers = Headers(scope=scope)
        cors = self.origins.listed_origin(headers)
        cleanup = RequestCleanup()

        async def run() -> bytes | EventStream:
            self.origins.check(headers)
            body = await self._read_body(action, headers, receive)
            request_scope = self._request_scope(scope, receive, cleanup, body)
            page_scope, render_values = None, None
            if action.spec.kind is ActionKind.SIDEEFFECT:
                # The page is checked before the action runs: a bad page is a 400/422
                # without a mutation behind it.
                page = controller.render.pattern.locate(headers)
                page_scope = request_scope.for_page(page.query, page.path)
                render_values = validate_values(self._render_plan(controller, action), page_scope)
            kwargs = await bind_arguments(action.plan, request_scope)
            result = await call_plan(action.plan, kwargs)
            if action.item_encoder is not None:
                return self._stream(action, result, cleanup, cors)
            passthrough = self._dump_result(action, result)
            if page_scope is None:
                return orjson.dumps({"passthrough": passthrough})
            state = await self._render_state(controller, page_scope, action, render_values)
            return orjson.dumps({"sideeffect": state, "passthrough": passthrough})

        return await self._answer(run, cleanup, scope, send, cors)

    async def _answer(
        self,
        run: Callable[[], Awaitable[bytes | EventStream]],
        cleanup: RequestCleanup,
        scope: Scope,
        send: Send,
        cors: str | None,
    ) -> EventStream | None:
        """Run a request, send its body or error, then run its cleanup, whatever happens.

        Cleanup runs after the response, with the error when the request failed,
        and also when the request is cancelled (shielded, so it completes). A
        stream is returned unsent: it runs the cleanup itself when it closes.
        """
        try:
            body: bytes | EventStream | None = await run()
        except ClientDisconnected:
            body = None
        except Exception as exc:
            try:
                await self._send_error(exc, scope, send, cors)
            finally:
                await _finish(cleanup, exc)
            return None
        except BaseException as exc:
            await _finish(cleanup, exc)
            raise
        if isinstance(body, EventStream):
            return body
        try:
            if body is not None:
                await send_body(send, 200, body, extra=cors_headers(cors))
        finally:
            await _finish(cleanup, None)
        return None

    async def preflight(self, scope: Scope, send: Send) -> None:
        try:
            extra = self.origins.preflight_headers(Headers(scope=scope))
        except HTTPError as exc:
            await self._send_error(exc, scope, send, None)
            return
        await send({"type": "http.response.start", "status": 204, "headers": extra})
        await send({"type": "http.response.body", "body": b""})

    async def send_error(self, exc: Exception, scope: Scope, send: Send) -> None:
        """Answer a routing-level error (404, 405), readable by listed cross-origin clients."""
        cors = self.origins.listed_origin(Headers(scope=scope))
        await self._send_error(exc, scope, send, cors)

    async def _read_body(self, action: ActionRuntime, headers: Headers, receive: Receive) -> bytes:
        check_content_type(headers)
        body = await read_body(
            headers, receive, self.settings.max_body_size, time_limit=self.settings.body_timeout
        )
        check_content_type(headers, body)
        if action.plan.body is None:
            check_no_body(body)
        return body

    def _request_scope(
        self, scope: Scope, receive: Receive, cleanup: RequestCleanup, body: bytes
    ) -> RequestScope:
        request = Request(scope, _replay(body, receive))
        raw_query: bytes = scope.get("query_string", b"")
        query = parse_qs(raw_query.decode("latin-1"), keep_blank_values=True) if raw_query else {}
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

    def _stream(
        self, action: ActionRuntime, generator: Any, cleanup: RequestCleanup, cors: str | None
    ) -> EventStream:
        assert action.stream_settings is not None
        assert action.item_encoder is not None
        # Bound methods and partials rather than closures: every byte held per
        # open stream counts (issue 3: <= 30 KB per idle stream).
        return EventStream(
            generator,
            encode=action.item_encoder,
            render_error=self._render_stream_error,
            settings=action.stream_settings,
            registry=self.registry,
            # Cleanup errors are logged, never sent: the stream has already ended.
            on_close=functools.partial(_close, cleanup, None) if cleanup.pending else None,
            headers=cors_headers(cors),
        )

    def _render_stream_error(self, exc: BaseException) -> ErrorPayload:
        return render_error(exc, debug=self.settings.debug)

    async def _send_error(
        self, exc: BaseException, scope: Scope, send: Send, cors: str | None
    ) -> None:
        payload = render_error(exc, debug=self.settings.debug)
        extra = [*encode_headers(error_headers(exc)), *cors_headers(cors)]
        if (
            self.settings.debug
            and payload.status >= 500
            and scope["method"] == "GET"
            and accepts_html(Headers(scope=scope).get("accept"))
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
