"""Finding RPCApps through mounts (``.routes``) and ASGI middleware (``.app``)."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Mount
from starlette.types import ASGIApp, Receive, Scope, Send

from devserver.rpcapps import disable_debug, find_mounted_rpc_apps, find_rpc_apps
from rpc import RPCApp


class Plain:
    """A plain ASGI middleware, as OpenTelemetry and Sentry write theirs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


def test_rpcapps_found_through_middleware_and_mounts_with_their_paths() -> None:
    direct = RPCApp(controllers=[])
    in_mount = RPCApp(controllers=[])
    deep = RPCApp(controllers=[])
    outer = Plain(
        Starlette(
            routes=[
                Mount("/api", app=Plain(in_mount)),
                Mount("/v1", routes=[Mount("/deep", app=CORSMiddleware(deep))]),
            ],
            middleware=[Middleware(Plain)],
        )
    )
    assert find_rpc_apps(Plain(Plain(direct))) == [direct]
    assert find_mounted_rpc_apps(outer) == [("/api", in_mount), ("/v1/deep", deep)]
    assert find_rpc_apps(Starlette()) == []


def test_rpcapps_a_cycle_of_wrappers_ends() -> None:
    loop = Plain(Starlette())
    loop.app = loop
    assert find_rpc_apps(loop) == []


def test_rpcapps_disable_debug_turns_off_every_app_that_asks_for_it() -> None:
    rpc_app = RPCApp(controllers=[], debug=True)
    outer = Starlette(debug=True, routes=[Mount("/api", app=Plain(rpc_app))])
    assert disable_debug(Plain(outer)) == 2
    assert outer.debug is False
    assert rpc_app.debug is False
    assert disable_debug(Plain(outer)) == 0
