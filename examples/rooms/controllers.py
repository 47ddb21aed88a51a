"""The room page: its state, the actions that change it, and its live stream."""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator
from typing import Literal

from pydantic import BaseModel, Field

import streams
from examples.rooms.hub import Hub
from rpc import APIException, ControllerBase, RenderBase, passthrough, sideeffect

MAX_MESSAGE = 200


class Message(BaseModel):
    author: str
    text: str
    sent_at: datetime.datetime


class RoomState(RenderBase):
    room: str
    count: int
    messages: list[Message]


class PostMessage(BaseModel):
    author: str = Field(min_length=1, max_length=40)
    text: str = Field(min_length=1)


class RoomEvent(BaseModel):
    kind: Literal["count", "message"]
    count: int | None = None
    message: Message | None = None


class MessageTooLong(APIException):
    status_code = 413
    detail = "message is too long"
    limit: int = MAX_MESSAGE
    length: int = 0


class Preview(BaseModel):
    text: str
    length: int


class RoomController(ControllerBase):
    """A room everyone on ``/rooms/{room}`` shares."""

    url = "/rooms/{room}"

    def __init__(self, hub: Hub[RoomEvent] | None = None) -> None:
        self.hub: Hub[RoomEvent] = hub or Hub()
        self.counts: dict[str, int] = {}
        self.messages: dict[str, list[Message]] = {}

    async def render(self, room: str) -> RoomState:
        return RoomState(
            room=room,
            count=self.counts.get(room, 0),
            messages=self.messages.get(room, [])[-50:],
        )

    @sideeffect(reload=(RoomState.count,))
    async def increment(self, room: str, by: int = 1) -> None:
        """Add ``by`` to the room's counter and tell every open tab."""
        self.counts[room] = self.counts.get(room, 0) + by
        await self.hub.publish(room, RoomEvent(kind="count", count=self.counts[room]))

    @sideeffect(exception_models=[MessageTooLong])
    async def post_message(self, room: str, payload: PostMessage) -> None:
        """Post a message to the room; too long a message is refused with a typed error."""
        _check_length(payload.text)
        message = Message(
            author=payload.author, text=payload.text, sent_at=datetime.datetime.now(datetime.UTC)
        )
        self.messages.setdefault(room, []).append(message)
        await self.hub.publish(room, RoomEvent(kind="message", message=message))

    @passthrough(exception_models=[MessageTooLong])
    async def preview(self, payload: PostMessage) -> Preview:
        """Check a draft without posting it."""
        _check_length(payload.text)
        return Preview(text=payload.text.strip(), length=len(payload.text))

    @passthrough(ping_interval=10)
    async def events(
        self, room: str, last_event_id: streams.LastEventId = None
    ) -> AsyncIterator[RoomEvent]:
        """The room's live events; reconnecting with Last-Event-ID resumes without gaps."""
        after = int(last_event_id) if last_event_id and last_event_id.isdigit() else None
        if after is None:
            after = self.hub.last_id(room)
        async for event_id, event in self.hub.subscribe(room, after):
            yield streams.tracked(event_id, event)


def _check_length(text: str) -> None:
    if len(text) > MAX_MESSAGE:
        raise MessageTooLong(length=len(text))
