"""The room page: its state (live in every open tab), the actions that change it, its event log.

Count and messages reach every tab through live page state: the sideeffects
are ``broadcast=True``, so each open ``GET .../live`` stream re-renders the room
(on any worker sharing the broker). The room's channel is only the event log
the page lists under "Live events".
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from pydantic import BaseModel, Field

from examples.rooms.channel import room_events
from examples.rooms.models import Message, RoomEvent
from examples.rooms.store import RoomStore
from rpc import APIException, ControllerBase, RenderBase, passthrough, sideeffect
from streams import LastEventId

MAX_MESSAGE = 200
SHOWN_MESSAGES = 50


class RoomState(RenderBase):
    """The page: ``position`` is the room's channel position read before the data."""

    room: str
    count: int
    version: int
    messages: list[Message]
    position: str


class PostMessage(BaseModel):
    author: str = Field(min_length=1, max_length=40)
    text: str = Field(min_length=1)


class MessageTooLong(APIException):
    status_code = 413
    detail = "message is too long"
    limit: int = MAX_MESSAGE
    length: int = 0


class Preview(BaseModel):
    text: str
    length: int


class ImportProgress(BaseModel):
    done: int
    total: int


class RoomController(ControllerBase):
    """A room everyone on ``/rooms/{room}`` shares, on any worker."""

    url = "/rooms/{room}"

    def __init__(self, store: RoomStore) -> None:
        self.store = store

    async def render(self, room: str) -> RoomState:
        # The position first: an event published while the data loads is then
        # replayed to a stream opened from this position, never lost.
        position = await room_events.position(room)
        snapshot = await self.store.load(room, limit=SHOWN_MESSAGES)
        return RoomState(
            room=room,
            count=snapshot.count,
            version=snapshot.version,
            messages=snapshot.messages,
            position=position,
        )

    @sideeffect(reload=(RoomState.count, RoomState.version), broadcast=True)
    async def increment(self, room: str, by: Annotated[int, Field(ge=-1000, le=1000)] = 1) -> None:
        """Add ``by`` to the room's counter; every open tab gets the new count."""
        count, version = await self.store.increment(room, by)
        await room_events.publish(room, RoomEvent(kind="count", count=count, version=version))

    @sideeffect(exception_models=[MessageTooLong], broadcast=True)
    async def post_message(self, room: str, payload: PostMessage) -> None:
        """Post a message (every open tab gets it); too long a one is a typed error."""
        _check_length(payload.text)
        message = await self.store.add_message(room, payload.author, payload.text)
        await room_events.publish(room, RoomEvent(kind="message", message=message))

    @passthrough(exception_models=[MessageTooLong])
    async def preview(self, payload: PostMessage) -> Preview:
        """Check a draft without posting it."""
        _check_length(payload.text)
        return Preview(text=payload.text.strip(), length=len(payload.text))

    @passthrough(ping_interval=10)
    async def events(
        self, room: str, after: str | None = None, last_event_id: LastEventId = None
    ) -> AsyncIterator[RoomEvent]:
        """The room's event log after ``after`` (a render's ``position``), else from now.

        A reconnect's ``Last-Event-ID`` takes precedence; where continuity cannot
        be proven (another process's epoch, trimmed history, junk) the stream
        starts with ``event: reset``, and the page reloads its state.
        """
        async for item in room_events.subscribe(room, last_event_id=last_event_id or after):
            yield item

    @sideeffect(reload=(RoomState.messages,), broadcast=True)
    async def import_messages(
        self, room: str, count: Annotated[int, Field(ge=1, le=500)] = 100
    ) -> AsyncIterator[ImportProgress]:
        """Import ``count`` sample messages, reporting progress as each one is stored.

        A streaming sideeffect: the page gets the progress as it runs, then its
        new messages; every other tab on the room gets them too (live state),
        and each message goes to the events log as a posted one does. If the
        tab closes mid-way the import still finishes and is broadcast
        (``on_disconnect="finish"``, the default).
        """
        for done in range(1, count + 1):
            text = f"imported message {done} of {count}"
            message = await self.store.add_message(room, "importer", text)
            await room_events.publish(room, RoomEvent(kind="message", message=message))
            yield ImportProgress(done=done, total=count)


def _check_length(text: str) -> None:
    if len(text) > MAX_MESSAGE:
        raise MessageTooLong(length=len(text))
