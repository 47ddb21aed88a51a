"""The room's data: what the store keeps and what the channel carries."""

from __future__ import annotations

import datetime
from typing import Literal

from pydantic import BaseModel


class Message(BaseModel):
    """A posted message; ``id`` grows with every message of every room (the display order)."""

    id: int
    author: str
    text: str
    sent_at: datetime.datetime


class RoomEvent(BaseModel):
    """One change of a room, as every open tab receives it.

    A ``count`` event carries the counter's new value and its ``version`` (one
    more per change): with several workers, two increments may be published in
    the other order than they were written, so a page keeps the highest version.
    """

    kind: Literal["count", "message"]
    count: int | None = None
    version: int | None = None
    message: Message | None = None
