"""Fixtures of the channel tests: every broker, opened and closed per test."""

from tests.streams.channels import broker, broker_url

__all__ = ["broker", "broker_url"]
