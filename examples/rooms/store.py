"""The rooms' state in SQLite: it survives reloads and restarts, and every worker shares it.

One file (``$BELAY_ROOMS_DB``, default ``belay-rooms.sqlite3`` in the temp dir)
in WAL mode, so readers never wait for a writer. sqlite3 blocks, so every query
runs in a worker thread (``anyio.to_thread``), never on the event loop; each
call opens its own connection, which sqlite makes cheap and which keeps
connections out of the thread pool's reuse.
"""

from __future__ import annotations

import datetime
import os
import sqlite3
import tempfile
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import anyio

from examples.rooms.models import Message

DATABASE_ENV = "BELAY_ROOMS_DB"
BUSY_TIMEOUT = 10.0  # seconds a write waits for another worker's write to finish

SCHEMA = """
CREATE TABLE IF NOT EXISTS counters (
    room TEXT PRIMARY KEY,
    count INTEGER NOT NULL,
    version INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    room TEXT NOT NULL,
    author TEXT NOT NULL,
    text TEXT NOT NULL,
    sent_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_by_room ON messages (room, id);
"""

T = TypeVar("T")


def database_path() -> Path:
    """``$BELAY_ROOMS_DB``, else ``belay-rooms.sqlite3`` in the system temp dir."""
    configured = os.environ.get(DATABASE_ENV)
    return Path(configured) if configured else Path(tempfile.gettempdir()) / "belay-rooms.sqlite3"


@dataclass(frozen=True)
class RoomSnapshot:
    """A room as stored: its counter (with the counter's version) and latest messages."""

    count: int
    version: int
    messages: list[Message]


class RoomStore:
    """Rooms' counters and messages in one SQLite file (created on first use)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or database_path()
        self._ready = False

    async def load(self, room: str, *, limit: int = 50) -> RoomSnapshot:
        """The room's counter and its ``limit`` latest messages, oldest first."""
        return await self._run(lambda db: _load(db, room, limit))

    async def increment(self, room: str, by: int) -> tuple[int, int]:
        """Add ``by`` to the room's counter; returns ``(count, version)`` after it."""
        return await self._run(lambda db: _increment(db, room, by))

    async def add_message(self, room: str, author: str, text: str) -> Message:
        """Store a message (timestamped now) and return it with its id."""
        sent_at = datetime.datetime.now(datetime.UTC)
        return await self._run(lambda db: _add_message(db, room, author, text, sent_at))

    async def _run(self, query: Callable[[sqlite3.Connection], T]) -> T:
        return await anyio.to_thread.run_sync(self._query, query)

    def _query(self, query: Callable[[sqlite3.Connection], T]) -> T:
        # isolation_level=None: no implicit transactions; writes say BEGIN IMMEDIATE.
        connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, isolation_level=None)
        with closing(connection) as db:
            if not self._ready:
                _enable_wal(db)
                db.executescript(SCHEMA)
                self._ready = True
            db.execute("PRAGMA synchronous=NORMAL")
            return query(db)


def _enable_wal(db: sqlite3.Connection) -> None:
    """Switch the file to WAL (once per file; a no-op after that).

    The switch needs the file to itself, and sqlite answers "database is locked"
    at once, without the busy timeout, when another connection (another worker,
    or the many live viewers' first renders) is using it: retry until the timeout.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)  # a worker thread, never the event loop


def _load(db: sqlite3.Connection, room: str, limit: int) -> RoomSnapshot:
    db.execute("BEGIN")  # one snapshot for both reads
    try:
        row = db.execute("SELECT count, version FROM counters WHERE room = ?", (room,)).fetchone()
        rows = db.execute(
            "SELECT id, author, text, sent_at FROM messages WHERE room = ? "
            "ORDER BY id DESC LIMIT ?",
            (room, limit),
        ).fetchall()
    finally:
        db.execute("COMMIT")
    count, version = row if row is not None else (0, 0)
    messages = [_message(*fields) for fields in reversed(rows)]
    return RoomSnapshot(count=count, version=version, messages=messages)


def _increment(db: sqlite3.Connection, room: str, by: int) -> tuple[int, int]:
    row = db.execute(
        "INSERT INTO counters (room, count, version) VALUES (?, ?, 1) "
        "ON CONFLICT (room) DO UPDATE SET count = count + excluded.count, version = version + 1 "
        "RETURNING count, version",
        (room, by),
    ).fetchone()
    return int(row[0]), int(row[1])


def _add_message(
    db: sqlite3.Connection, room: str, author: str, text: str, sent_at: datetime.datetime
) -> Message:
    cursor = db.execute(
        "INSERT INTO messages (room, author, text, sent_at) VALUES (?, ?, ?, ?)",
        (room, author, text, sent_at.isoformat()),
    )
    assert cursor.lastrowid is not None  # an INSERT into a rowid table always sets it
    return Message(id=cursor.lastrowid, author=author, text=text, sent_at=sent_at)


def _message(id: int, author: str, text: str, sent_at: str) -> Message:
    return Message(
        id=id, author=author, text=text, sent_at=datetime.datetime.fromisoformat(sent_at)
    )
