"""Belay mounted inside other ASGI apps, for the e2e mounting tests.

``starlette_app`` and ``fastapi_app`` are module attributes so hypercorn can
also serve them as ``tests.rpc.mounted_apps:starlette_app``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route

from rpc import RPCApp
from tests.rpc.apps import build_app


async def health(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


def build_starlette(rpc_app: RPCApp | None = None) -> Starlette:
    """A Starlette app with its own route and Belay mounted under /rpc."""
    return Starlette(routes=[Route("/health", health), Mount("/rpc", app=rpc_app or build_app())])


def build_fastapi(rpc_app: RPCApp | None = None, events: list[str] | None = None) -> FastAPI:
    """A FastAPI app with a lifespan, its own route, and Belay mounted under /belay."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if events is not None:
            events.append("startup")
        yield
        if events is not None:
            events.append("shutdown")

    api = FastAPI(lifespan=lifespan)

    @api.get("/health")
    async def fastapi_health() -> dict[str, str]:
        return {"status": "ok"}

    api.mount("/belay", rpc_app or build_app())
    return api


starlette_app = build_starlette()
fastapi_app = build_fastapi()
