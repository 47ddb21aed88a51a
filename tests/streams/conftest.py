"""Fixtures of the channel tests: brokers and a real redis-server."""

from tests.streams.channels import broker, broker_url
from tests.support.redis import redis_server

__all__ = ["broker", "broker_url", "redis_server"]
