"""Fixtures shared by the rpc tests: a fresh app and an in-process httpx client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from rpc import RPCApp
from tests.rpc.apps import build_app

API = "/internal/api"


@pytest.fixture
def app() -> RPCApp:
    return build_app()


@pytest.fixture
async def client(app: RPCApp) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http
