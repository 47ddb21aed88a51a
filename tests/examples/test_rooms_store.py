"""The demo's SQLite store: shared, persistent, atomic, WAL, and never on the event loop."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import TypeVar

import anyio
import pytest

from examples.rooms.store import DATABASE_ENV, RoomStore, database_path

pytestmark = pytest.mark.anyio

T = TypeVar("T")
WATCHDOG = 30.0  # seconds: a hang guard only


class ThreadRecordingStore(RoomStore):
    """A store that notes the thread every query ran in."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.threads: set[int] = set()

    def _query(self, query: Callable[[sqlite3.Connection], T]) -> T:
        self.threads.add(threading.get_ident())
        return super()._query(query)


async def test_store_queries_run_off_the_event_loop_thread(tmp_path: Path) -> None:
    store = ThreadRecordingStore(tmp_path / "rooms.db")
    await store.increment("r", 1)
    await store.add_message("r", "ada", "hi")
    await store.load("r")
    assert store.threads
    assert threading.get_ident() not in store.threads


async def test_store_concurrent_increments_from_two_stores_are_atomic(tmp_path: Path) -> None:
    path = tmp_path / "rooms.db"
    stores = [RoomStore(path), RoomStore(path)]  # two workers' stores on one file
    results: list[tuple[int, int]] = []

    async def bump(store: RoomStore) -> None:
        results.append(await store.increment("r", 2))

    with anyio.fail_after(WATCHDOG):
        async with anyio.create_task_group() as tasks:
            for n in range(40):
                tasks.start_soon(bump, stores[n % 2])
    assert sorted(version for _, version in results) == list(range(1, 41))
    assert sorted(count for count, _ in results) == list(range(2, 82, 2))
    snapshot = await RoomStore(path).load("r")
    assert (snapshot.count, snapshot.version) == (80, 40)


async def test_store_keeps_messages_in_order_per_room_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "rooms.db"
    store = RoomStore(path)
    posted = [await store.add_message("r", "ada", f"m{n}") for n in range(5)]
    await store.add_message("other", "bob", "elsewhere")
    latest = await RoomStore(path).load("r", limit=3)
    assert [m.text for m in latest.messages] == ["m2", "m3", "m4"]
    assert [m.id for m in latest.messages] == [m.id for m in posted[2:]]
    assert latest.messages[0].sent_at == posted[2].sent_at
    assert (latest.count, latest.version) == (0, 0)
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_store_path_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DATABASE_ENV, str(tmp_path / "mine.db"))
    assert database_path() == tmp_path / "mine.db"
    assert RoomStore().path == tmp_path / "mine.db"
    monkeypatch.delenv(DATABASE_ENV)
    assert database_path().name == "belay-rooms.sqlite3"
