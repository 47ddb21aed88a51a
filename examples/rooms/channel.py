"""The rooms' event channel: one stream per room, shared by every worker through the broker.

The broker comes from the app (``$BELAY_BROKER_URL``; ``memory://`` in one
process, ``redis://...`` for ``belay serve --workers N``). Event ids are channel
positions, so a tab that reconnects, to this process or another, after a
reload or a restart, gets exactly what it missed or an ``event: reset``.
"""

from __future__ import annotations

from examples.rooms.models import RoomEvent
from streams import Channel

room_events: Channel[RoomEvent] = Channel(RoomEvent, name="rooms", history=500, ttl=3600)
