from __future__ import annotations

import pytest

from tests.support.redis import redis_server

__all__ = ["redis_server"]  # a fixture: a real redis-server (skips if not installed)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
