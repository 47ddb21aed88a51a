"""Channel brokers, chosen by URL: ``memory://`` (one process) or Redis (many workers)."""

from __future__ import annotations

import os

from streams.brokers.base import Broker, LogRead, Subscriber, Topic
from streams.brokers.memory import MemoryBroker

BROKER_URL_ENV = "BELAY_BROKER_URL"
DEFAULT_BROKER_URL = "memory://"
REDIS_SCHEMES = ("redis", "rediss", "unix")


def broker_url(url: str | None = None) -> str:
    """``url``, else ``$BELAY_BROKER_URL``, else ``"memory://"``."""
    return url or os.environ.get(BROKER_URL_ENV) or DEFAULT_BROKER_URL


def open_broker(url: str | None = None) -> Broker:
    """A broker for ``url`` (see ``broker_url``); no connection is made until first use.

    Raises ``ValueError`` for an unknown scheme.
    """
    url = broker_url(url)
    scheme = url.partition("://")[0].lower()
    if url.partition("://")[1] != "://":
        scheme = ""
    if scheme == "memory":
        if url not in ("memory://", "memory:///"):
            raise ValueError(f"the memory broker takes no address or options: {url!r}")
        return MemoryBroker()
    if scheme in REDIS_SCHEMES:
        from streams.brokers.redis import RedisBroker

        return RedisBroker(url)
    raise ValueError(
        f"unknown broker URL {url!r}: use memory:// or redis://, rediss://, unix:// (Redis >= 7)"
    )


__all__ = [
    "BROKER_URL_ENV",
    "DEFAULT_BROKER_URL",
    "Broker",
    "LogRead",
    "MemoryBroker",
    "Subscriber",
    "Topic",
    "broker_url",
    "open_broker",
]
