"""``RPCApp``: the ASGI application serving a set of controllers."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import anyio
from starlette.types import Receive, Scope, Send

from rpc.assembly import ControllerRuntime, build_controller
from rpc.broadcast import Broadcaster
from rpc.channels import ChannelBinding
from rpc.controller import ControllerBase, bind_broadcast
from rpc.errors import DeclarationError, HTTPError, qualified_name
from rpc.handlers import Dispatcher, ServingSettings
from rpc.live import LiveHub, LivePlans, LiveRuntime
from rpc.origin import OriginPolicy
from rpc.resolution import DependencyResolver
from rpc.specs import ControllerSpec
from rpc.streaming import StreamRuntime
from rpc.unread_bodies import close_unread, unread_body_send
from streams import Channel
from streams.brokers import Broker
from streams.registry import StreamRegistry
from streams.settings import StreamSettings

if TYPE_CHECKING:
    from rpc.openapi.endpoint import OpenAPIEndpoint

LIVE_ROUTE = "live"

DEFAULT_MAX_BODY_SIZE = 1024 * 1024
DEFAULT_BODY_TIMEOUT = 30.0
SHUTDOWN_CLOSE_TIMEOUT = 5.0  # seconds open streams get to run their cleanup at shutdown


class RPCApp:
    """An ASGI app serving controllers' render state, actions and streams.

    Serve it with hypercorn or uvicorn, or mount it inside any Starlette or
    FastAPI app. Routes: ``GET {prefix}/{Controller}/render`` and
    ``POST {prefix}/{Controller}/{action}``. All controller declarations are
    checked here, so a mistake fails at import time with the names involved.

    Args:
        controllers: controller instances; ids are their class names and must be unique.
        prefix: the URL prefix of every route.
        debug: include tracebacks in 500 bodies, and answer browser GETs that fail
            with an HTML traceback page. Never enable in production.
        max_body_size: the largest accepted action body in bytes (413 past it).
        body_timeout: seconds an action body may take to arrive in full; a client
            that stalls mid-body gets 408 and its connection is closed (None: no limit).
        allowed_origins: other sites (``"https://app.example.com"``) whose browsers
            may call actions; they also get CORS headers and preflight answers.
        ping_interval: seconds of stream silence before a ``: ping`` comment.
        send_timeout: seconds a stream write may wait on a client before it is
            considered dead and closed (None: never).
        max_streams: the most concurrently open streams; more get 503.
        channels: the ``streams.Channel`` objects this app publishes and serves;
            names must be unique. They are bound to the app's broker here.
        broker: the channel broker's URL: ``"memory://"`` (one process) or
            ``"redis://..."``, ``"rediss://..."``, ``"unix://..."`` (many workers);
            None reads ``$BELAY_BROKER_URL``, else ``"memory://"``.
        openapi_url: where to serve the app's OpenAPI 3.1 document (e.g.
            ``"/openapi.json"``, relative to where the app is mounted); None: nowhere.
    """

    def __init__(
        self,
        controllers: Iterable[ControllerBase],
        *,
        prefix: str = "/internal/api",
        debug: bool = False,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
        body_timeout: float | None = DEFAULT_BODY_TIMEOUT,
        allowed_origins: Iterable[str] = (),
        ping_interval: float = 15.0,
        send_timeout: float | None = 30.0,
        max_streams: int | None = None,
        channels: Iterable[Channel[Any]] = (),
        broker: str | None = None,
        openapi_url: str | None = None,
    ) -> None:
        if prefix and (not prefix.startswith("/") or prefix.endswith("/")):
            raise ValueError(f"prefix must start with '/' and not end with one, got {prefix!r}")
        if max_body_size <= 0:
            raise ValueError(f"max_body_size must be positive, got {max_body_size!r}")
        if body_timeout is not None and not 0 < body_timeout < math.inf:
            raise ValueError(f"body_timeout must be > 0 or None, got {body_timeout!r}")
        if openapi_url is not None and not openapi_url.startswith("/"):
            raise ValueError(f"openapi_url must start with '/', got {openapi_url!r}")
        self.prefix = prefix
        self.openapi_url = openapi_url
        self._openapi = None if openapi_url is None else _openapi_endpoint(self)
        stream_settings = StreamSettings(ping_interval=ping_interval, send_timeout=send_timeout)
        self._settings = ServingSettings(
            debug=debug, max_body_size=max_body_size, body_timeout=body_timeout
        )
        self.stream_registry = StreamRegistry(max_streams=max_streams)
        self._channels = ChannelBinding(channels, broker)
        self._channels.close_with(self, self.stream_registry)
        self._overrides: dict[Callable[..., Any], Callable[..., Any]] = {}
        resolver = self._resolver = DependencyResolver(self._overrides)
        instances = list(controllers)
        self._controllers = _build_all(instances, resolver, stream_settings)
        self._dispatcher = Dispatcher(
            settings=self._settings,
            origins=OriginPolicy(frozenset(allowed_origins)),
            resolver=resolver,
            registry=self.stream_registry,
            live=_build_live(instances, self._controllers, self._channels, stream_settings),
        )

    @property
    def dependency_overrides(self) -> dict[Callable[..., Any], Callable[..., Any]]:
        """Replacements for dependencies (``{original: replacement}``), as in FastAPI."""
        return self._overrides

    @dependency_overrides.setter
    def dependency_overrides(self, value: dict[Callable[..., Any], Callable[..., Any]]) -> None:
        self._overrides = self._resolver.overrides = value

    @property
    def debug(self) -> bool:
        return self._settings.debug

    @debug.setter
    def debug(self, value: bool) -> None:
        self._settings.debug = value

    @property
    def broker(self) -> Broker:
        """The broker of this app's channels (started on first use, closed with the app)."""
        return self._channels.broker

    @property
    def controller_specs(self) -> tuple[ControllerSpec, ...]:
        """Every served controller's facts, in construction order (for codegen)."""
        return tuple(c.spec for c in self._controllers.values())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)
        elif kind == "websocket":
            await send({"type": "websocket.close", "code": 1000})

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        dispatcher = self._dispatcher
        try:
            if self._openapi is not None and _app_path(scope) == self.openapi_url:
                await self._openapi(scope, unread_body_send(scope, send))
                return
            controller, action = self._route(scope)
            method = scope["method"]
            runtime = None if action is None else controller.actions.get(action)
            if method == "POST" and runtime is not None and action != LIVE_ROUTE:
                # The one route that reads a request body: the dispatcher marks
                # its refusals before the body's end (rpc.unread_bodies).
                if runtime.stream is None:
                    await dispatcher.action(runtime, controller, scope, receive, send)
                else:
                    answer = await dispatcher.open_stream(
                        runtime, runtime.stream, scope, receive, send, controller=controller
                    )
                    if answer is not None:
                        await answer(scope, receive, send)
                return
            send = unread_body_send(scope, send)  # nothing below reads the request body
            if method == "OPTIONS":
                await dispatcher.preflight(scope, send)
            elif action is None:
                if method not in ("GET", "HEAD"):
                    raise HTTPError(405, "render is read with GET", headers={"Allow": "GET, HEAD"})
                await dispatcher.render(controller, scope, receive, send)
            elif action == LIVE_ROUTE:
                if method != "GET":
                    raise HTTPError(405, "live state is read with GET", headers={"Allow": "GET"})
                stream = await dispatcher.open_live(controller, scope, receive, send)
                if stream is not None:
                    await stream(scope, receive, send)
            elif runtime is None:
                raise HTTPError(404, f"controller {controller.spec.id!r} has no action {action!r}")
            else:
                raise HTTPError(405, "actions are called with POST", headers={"Allow": "POST"})
        except HTTPError as exc:
            # Raised before any answer and before the body was read: with CORS
            # headers for listed origins, and Connection: close after a body.
            close_unread(exc, scope)
            await dispatcher.send_error(exc, scope, send)

    def _route(self, scope: Scope) -> tuple[ControllerRuntime, str | None]:
        path = _app_path(scope)
        rest = path[len(self.prefix) + 1 :] if path.startswith(self.prefix + "/") else None
        parts = rest.split("/") if rest else []
        if len(parts) != 2 or not all(parts):
            raise HTTPError(404, f"no Belay route at {scope['path']!r}")
        controller = self._controllers.get(parts[0])
        if controller is None:
            raise HTTPError(404, f"unknown controller {parts[0]!r}")
        return controller, (None if parts[1] == "render" else parts[1])

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                with anyio.move_on_after(SHUTDOWN_CLOSE_TIMEOUT):
                    await self.stream_registry.close_all()
                with anyio.move_on_after(SHUTDOWN_CLOSE_TIMEOUT):
                    await self._channels.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return


def _app_path(scope: Scope) -> str:
    """The request path below the app's mount point (``root_path``)."""
    path: str = scope["path"]
    root = scope.get("root_path", "")
    if root and path.startswith(root):
        return path[len(root) :]
    return path


def _openapi_endpoint(app: RPCApp) -> OpenAPIEndpoint:
    from rpc.openapi import openapi_document
    from rpc.openapi.endpoint import OpenAPIEndpoint

    return OpenAPIEndpoint(lambda: openapi_document(app))


def _build_all(
    controllers: list[ControllerBase],
    resolver: DependencyResolver,
    stream_settings: StreamSettings,
) -> dict[str, ControllerRuntime]:
    built: dict[str, ControllerRuntime] = {}
    for controller in controllers:
        if not isinstance(controller, ControllerBase):
            raise DeclarationError(
                f"RPCApp takes ControllerBase instances, got {controller!r}"
                + (" (a class: instantiate it)" if isinstance(controller, type) else "")
            )
        controller_id = type(controller).__name__
        if controller_id in built:
            first = built[controller_id].spec.controller_class
            second = type(controller)
            raise DeclarationError(
                f"two controllers have the id {controller_id!r}: "
                f"{qualified_name(first)} and {qualified_name(second)}; "
                f"controller ids are class names and must be unique"
            )
        built[controller_id] = build_controller(
            controller, resolver=resolver, stream_settings=stream_settings
        )
    return built


def _build_live(
    instances: list[ControllerBase],
    controllers: dict[str, ControllerRuntime],
    channels: ChannelBinding,
    stream_settings: StreamSettings,
) -> LiveRuntime:
    """Live viewers' runtime, and ``controller.broadcast()`` pointed at this app.

    The broadcaster reads the broker from the channel binding, not the app, so a
    controller kept by a newer app does not keep this one alive.
    """
    broadcaster = Broadcaster(lambda: channels.broker)
    for instance in instances:
        runtime = controllers[type(instance).__name__]
        bind_broadcast(instance, functools.partial(broadcaster.broadcast, runtime))
    return LiveRuntime(
        broadcaster=broadcaster,
        hub=LiveHub(),
        stream=StreamRuntime(encode=_encoded, settings=stream_settings),
        plans={cid: LivePlans(runtime) for cid, runtime in controllers.items()},
    )


def _encoded(item: object) -> bytes:
    """Live frames are JSON already (encoded once, maybe shared by many viewers)."""
    return item  # type: ignore[return-value]  # live_frames yields bytes only
