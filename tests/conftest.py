from __future__ import annotations

import pytest

from tests.support.redis import redis_server

__all__ = ["redis_server"]  # a fixture: a real redis-server (skips if not installed)


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Every anyio test runs on both backends unless its module pins one (and says why)."""
    backend: str = request.param
    return backend
