"""Binding an app's channels to its broker, and closing the broker with the app."""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from typing import Any

from rpc.errors import DeclarationError
from streams import Channel
from streams.brokers import Broker, open_broker
from streams.registry import StreamRegistry


class ChannelBinding:
    """The channels of one ``RPCApp`` and the broker they publish through.

    Checks the channels (``Channel`` instances, unique names) and opens the
    broker for ``broker_url`` (None: ``$BELAY_BROKER_URL``, else ``memory://``);
    nothing connects until a channel is first used. Binding a channel that
    another app bound before moves it to this app (the newest app wins, as a
    rebuilt app after a reload should).
    """

    def __init__(self, channels: Iterable[Channel[Any]], broker_url: str | None) -> None:
        self.channels = _check_channels(channels)
        try:
            self.broker: Broker = open_broker(broker_url)
        except ValueError as exc:
            raise DeclarationError(str(exc)) from None
        for channel in self.channels.values():
            channel.bind(self.broker)

    def close_with(self, app: object, registry: StreamRegistry) -> None:
        """Close the broker when ``registry`` closes its streams or ``app`` is dropped.

        Mounted in Starlette or FastAPI an app sees no lifespan; the shutdown
        trigger of ``belay serve`` and a dev reload still close its registry.
        """
        registry.add_close_hook(self.broker.aclose)
        weakref.finalize(app, self.broker.close_nowait)

    async def aclose(self) -> None:
        """Close the broker (it would start again on its next use)."""
        await self.broker.aclose()


def _check_channels(channels: Iterable[Channel[Any]]) -> dict[str, Channel[Any]]:
    found: dict[str, Channel[Any]] = {}
    for channel in channels:
        if not isinstance(channel, Channel):
            raise DeclarationError(
                f"RPCApp(channels=...) takes streams.Channel objects, got {channel!r}"
            )
        other = found.get(channel.name)
        if other is not None:
            raise DeclarationError(
                f"two channels are named {channel.name!r} ({other!r} and {channel!r}); "
                f"channel names must be unique within an app"
            )
        found[channel.name] = channel
    return found
