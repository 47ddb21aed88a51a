"""``RPCApp(channels=, broker=)``: declaration checks, broker choice, closing the broker."""

from __future__ import annotations

import gc

import pytest
from pydantic import BaseModel

from rpc import DeclarationError, RPCApp
from streams import Channel
from streams.brokers import MemoryBroker
from streams.brokers.redis import RedisBroker
from tests.e2e.channel_apps import Note, build_channel_app
from tests.support.redis import RedisServer, count_clients, wait_clients


@pytest.fixture
def anyio_backend() -> str:
    # asyncio only: the Redis broker is built on redis-py's asyncio client.
    return "asyncio"


class Other(BaseModel):
    text: str


def test_app_rejects_two_channels_with_one_name() -> None:
    first: Channel[Note] = Channel(Note, name="rooms")
    second: Channel[Other] = Channel(Other, name="rooms")
    with pytest.raises(DeclarationError, match="two channels are named 'rooms'"):
        RPCApp([], channels=[first, second])


def test_app_rejects_what_is_not_a_channel() -> None:
    with pytest.raises(DeclarationError, match=r"streams\.Channel objects"):
        RPCApp([], channels=["rooms"])  # type: ignore[list-item]


@pytest.mark.parametrize("url", ["kafka://x", "memory://somewhere", "no-scheme"])
def test_app_rejects_an_unknown_broker_url(url: str) -> None:
    with pytest.raises(DeclarationError, match="broker"):
        RPCApp([], broker=url)


def test_app_broker_comes_from_the_environment_then_memory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("BELAY_BROKER_URL", raising=False)
    assert isinstance(RPCApp([]).broker, MemoryBroker)
    monkeypatch.setenv("BELAY_BROKER_URL", "redis://127.0.0.1:1/0")
    broker = RPCApp([]).broker
    assert isinstance(broker, RedisBroker)
    assert broker.url == "redis://127.0.0.1:1/0"
    assert isinstance(RPCApp([], broker="memory://").broker, MemoryBroker)


def test_app_binds_its_channels_to_its_broker_and_a_newer_app_takes_them_over() -> None:
    notes: Channel[Note] = Channel(Note, name="notes")
    first = RPCApp([], channels=[notes])
    assert notes.broker is first.broker
    second = RPCApp([], channels=[notes])
    assert notes.broker is second.broker


async def app_connected_to(redis_server: RedisServer) -> tuple[RPCApp, int]:
    """A channel app whose Redis broker has connected (it published), and the count before."""
    app = build_channel_app(redis_server.url())
    baseline = count_clients(redis_server)
    await app.broker.publish("notes", "lobby", b"{}", history=10, ttl=60)
    assert count_clients(redis_server) > baseline
    return app, baseline


@pytest.mark.anyio
async def test_app_closes_its_redis_broker_with_its_streams_when_no_lifespan_reaches_it(
    redis_server: RedisServer,
) -> None:
    app, baseline = await app_connected_to(redis_server)
    # What the shutdown trigger of `belay serve` and a reload call, mounted or not.
    await app.stream_registry.close_all()
    await wait_clients(redis_server, baseline)


@pytest.mark.anyio
async def test_app_dropped_without_shutdown_closes_its_redis_broker(
    redis_server: RedisServer,
) -> None:
    app, baseline = await app_connected_to(redis_server)
    del app
    gc.collect()
    await wait_clients(redis_server, baseline)
