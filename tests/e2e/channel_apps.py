"""An app whose stream is a channel, built fresh per call (its own Channel and broker).

Two calls give two independent apps, as two worker processes would have: the
tests serve each on its own hypercorn and share one Redis between them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from pydantic import BaseModel

from rpc import ControllerBase, RPCApp, passthrough
from streams import Channel, LastEventId

PREFIX = "/internal/api/ChannelController"


class Note(BaseModel):
    n: int
    by: str = "test"


class ChannelPage(BaseModel):
    title: str


def build_channel_app(broker_url: str | None, *, ping_interval: float = 0.5) -> RPCApp:
    """A fresh app: ``post`` publishes, ``position`` reads, ``events`` subscribes."""
    notes: Channel[Note] = Channel(Note, name="notes", history=5000, ttl=600)

    class ChannelController(ControllerBase):
        url = "/channels"

        async def render(self) -> ChannelPage:
            return ChannelPage(title="channels")

        @passthrough
        async def post(self, note: Note, room: str) -> str:
            return await notes.publish(room, note)

        @passthrough
        async def position(self, room: str) -> str:
            return await notes.position(room)

        @passthrough
        async def events(self, room: str, last: LastEventId = None) -> AsyncIterator[Note]:
            async for item in notes.subscribe(room, last_event_id=last):
                yield item

    return RPCApp(
        [ChannelController()], channels=[notes], broker=broker_url, ping_interval=ping_interval
    )
