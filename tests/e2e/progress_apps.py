"""A controller with streaming sideeffects, for the tests of ``rpc.progress``.

Rows are imported into rooms one per item. A gate per room (``threading.Event``)
lets a test hold a generator mid-way, from another thread (the server runs on
its own loop) or over HTTP (``release``); the generators record how they ended
in ``ImportLog``, which ``report`` also reads out (for the TS client's tests).
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import anyio
from pydantic import BaseModel
from starlette.requests import Request

from rpc import APIException, ControllerBase, Depends, RenderBase, RPCApp, passthrough, sideeffect

PREFIX = "/internal/api/ImportController"
GATE_TIMEOUT = 10.0  # seconds a held generator waits before giving up (a hang watchdog)


class ImportState(RenderBase):
    room: str
    imported: int
    viewer: str


class Progress(BaseModel):
    done: int
    total: int


class ImportReport(BaseModel):
    imported: int
    events: list[str]


class ImportRefused(APIException):
    status_code = 409
    detail = "import refused"
    at: int


def viewer(request: Request) -> str:
    return request.headers.get("x-viewer", "anonymous")


async def import_session() -> AsyncIterator[list[str]]:
    """A ``yield`` dependency: its cleanup must run after the generator, whatever ends it."""
    events: list[str] = []
    yield events
    events.append("cleanup")


IMPORT_SESSION: list[str] = Depends(import_session)


@dataclass
class ImportLog:
    """What the generators and dependencies did, in order (appended from any thread)."""

    sessions: dict[str, list[str]] = field(default_factory=dict)
    gates: dict[str, threading.Event] = field(default_factory=dict)
    thread_ids: list[int] = field(default_factory=list)

    def gate(self, room: str) -> threading.Event:
        return self.gates.setdefault(room, threading.Event())


async def _wait_gate(gate: threading.Event) -> None:
    """Poll a cross-thread gate from the server's loop (bounded; cancellable in the sleep)."""
    with anyio.fail_after(GATE_TIMEOUT):
        while not gate.is_set():  # noqa: ASYNC110 - a thread's event: nothing to await
            await anyio.sleep(0.005)


class ImportController(ControllerBase):
    url = "/rooms/{room}"

    def __init__(self, log: ImportLog) -> None:
        self.rows: dict[str, int] = {}
        self.log = log

    async def render(self, room: str, viewer: str = Depends(viewer)) -> ImportState:
        return ImportState(room=room, imported=self.rows.get(room, 0), viewer=viewer)

    def _import_one(self, room: str) -> int:
        self.rows[room] = self.rows.get(room, 0) + 1
        return self.rows[room]

    @sideeffect(exception_models=[ImportRefused])
    async def import_rows(
        self, room: str, count: int, fail_at: int = 0, pace: float = 0.0
    ) -> AsyncIterator[Progress]:
        """Import ``count`` rows, ``pace`` s apart; ``fail_at`` > 0 refuses that row."""
        for n in range(1, count + 1):
            if n == fail_at:
                raise ImportRefused(at=n)
            if pace:
                await anyio.sleep(pace)  # a slow import: each row takes a while
            self._import_one(room)
            yield Progress(done=n, total=count)

    @sideeffect(reload=(ImportState.imported,))
    async def import_counted(self, room: str, count: int) -> AsyncIterator[Progress]:
        for n in range(1, count + 1):
            self._import_one(room)
            yield Progress(done=n, total=count)

    @sideeffect(reload=(ImportState.imported,), experimental_render_reload=True)
    async def import_sliced(self, room: str, count: int) -> AsyncIterator[Progress]:
        for n in range(1, count + 1):
            self._import_one(room)
            yield Progress(done=n, total=count)

    @sideeffect
    async def held(
        self, room: str, count: int, session: list[str] = IMPORT_SESSION
    ) -> AsyncIterator[Progress]:
        """One row, then wait for the gate, then the rest (finishes after a disconnect)."""
        self.log.sessions[room] = session
        try:
            self._import_one(room)
            yield Progress(done=1, total=count)
            await _wait_gate(self.log.gate(room))
            for n in range(2, count + 1):
                self._import_one(room)
                yield Progress(done=n, total=count)
            session.append("generator finished")
        finally:
            session.append("generator closed")

    @sideeffect(on_disconnect="cancel")
    async def held_cancel(
        self, room: str, count: int, session: list[str] = IMPORT_SESSION
    ) -> AsyncIterator[Progress]:
        """As ``held``, but abandoned when its client leaves."""
        self.log.sessions[room] = session
        try:
            self._import_one(room)
            yield Progress(done=1, total=count)
            await _wait_gate(self.log.gate(room))
            for n in range(2, count + 1):
                self._import_one(room)
                yield Progress(done=n, total=count)
            session.append("generator finished")
        finally:
            session.append("generator closed")

    @sideeffect(reload=(ImportState.imported,), broadcast=True)
    async def import_shared(self, room: str, count: int) -> AsyncIterator[Progress]:
        """One row, then (once the gate opens) the rest; live viewers hear of the change."""
        self._import_one(room)
        yield Progress(done=1, total=count)
        await _wait_gate(self.log.gate(room))
        for n in range(2, count + 1):
            self._import_one(room)
            yield Progress(done=n, total=count)

    @sideeffect(exception_models=[ImportRefused])
    async def quiet_fail(self, room: str) -> AsyncIterator[Progress]:
        """One row, no progress, then (once the gate opens) a refusal."""
        self._import_one(room)
        await _wait_gate(self.log.gate(room))
        raise ImportRefused(at=2)
        yield Progress(done=0, total=0)  # unreachable: makes this a generator

    @sideeffect
    def import_sync(self, room: str, count: int) -> Iterator[Progress]:
        """A plain generator: blocks its (worker) thread on the gate after the first row."""
        for n in range(1, count + 1):
            self.log.thread_ids.append(threading.get_ident())
            if n == 2 and not self.log.gate(room).wait(GATE_TIMEOUT):
                raise TimeoutError("gate never opened")
            self._import_one(room)
            yield Progress(done=n, total=count)

    @passthrough
    async def release(self, room: str) -> None:
        """Open ``room``'s gate."""
        self.log.gate(room).set()

    @passthrough
    async def report(self, room: str) -> ImportReport:
        """What the server did for ``room``: rows imported, and its held run's events."""
        events = list(self.log.sessions.get(room, []))
        return ImportReport(imported=self.rows.get(room, 0), events=events)


def build_import_app(
    log: ImportLog | None = None, *, max_streams: int | None = None
) -> tuple[RPCApp, ImportController]:
    controller = ImportController(log or ImportLog())
    return RPCApp([controller], max_streams=max_streams), controller
