"""The supervisor's process handling with real app processes (no user code imported)."""

from __future__ import annotations

import asyncio
import os

import pytest

from devserver import supervisor as supervisor_module
from devserver.listener import bind_socket
from devserver.messages import Start, StartFailed
from devserver.supervisor import Supervisor
from tests.devserver.devproc import alive, children_of


def test_supervisor_app_process_that_never_gets_ready_is_a_failed_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A spare too slow to say Ready (a hung preload) must not crash the reload loop:
    # restart() answers StartFailed, and the process it gave up on is gone.
    monkeypatch.setattr(supervisor_module, "REQUEST_TIMEOUT", 0.001)
    before = set(children_of(os.getpid()))

    async def main() -> object:
        with bind_socket("127.0.0.1", 0) as sock:
            start = Start("nosuch:app", (), "", (), "127.0.0.1", request_log=False)
            supervisor = Supervisor(sock, start)
            try:
                return await asyncio.wait_for(supervisor.restart(), 20)
            finally:
                await supervisor.close()

    result = asyncio.run(main())
    assert isinstance(result, StartFailed)
    assert "app process" in result.error
    assert not result.serving
    assert not [pid for pid in set(children_of(os.getpid())) - before if alive(pid)]
