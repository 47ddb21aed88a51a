"""An in-process broadcast hub: every room's events, numbered, with a short history.

Subscribers read events after a given id, so a tab whose connection dropped
resumes from its ``Last-Event-ID`` without gaps or duplicates.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Generic, TypeVar

HISTORY = 500
E = TypeVar("E")


@dataclass
class _Room(Generic[E]):
    next_id: int = 1
    history: deque[tuple[int, E]] = field(default_factory=lambda: deque(maxlen=HISTORY))
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)


class Hub(Generic[E]):
    """Publish events to rooms; subscribe to a room from an event id onwards."""

    def __init__(self) -> None:
        self._rooms: dict[str, _Room[E]] = {}

    def _room(self, name: str) -> _Room[E]:
        return self._rooms.setdefault(name, _Room())

    async def publish(self, room: str, event: E) -> int:
        """Append an event and wake the room's subscribers; returns its id."""
        state = self._room(room)
        event_id = state.next_id
        state.next_id += 1
        state.history.append((event_id, event))
        async with state.changed:
            state.changed.notify_all()
        return event_id

    def last_id(self, room: str) -> int:
        return self._room(room).next_id - 1

    async def subscribe(self, room: str, after: int) -> AsyncIterator[tuple[int, E]]:
        """Events with ids greater than ``after``, forever (the caller stops reading)."""
        state = self._room(room)
        while True:
            pending = [(i, e) for i, e in state.history if i > after]
            for event_id, event in pending:
                yield event_id, event
                after = event_id
            async with state.changed:
                if state.next_id - 1 <= after:
                    await state.changed.wait()
