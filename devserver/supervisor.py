"""The supervisor: owns the listening socket, the app processes and the warm spare.

It never imports user code. It binds the app's port once and hands the socket
to every app process it starts, so a restart is "tell the spare to import and
serve, then SIGKILL the old process": connections queue in the kernel backlog
meanwhile, nothing is re-bound, and open streams cannot delay anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import socket
import sys
import time
from pathlib import Path
from typing import Any

import orjson

from devserver.messages import (
    Channel,
    ChannelClosedError,
    Message,
    Notify,
    Preload,
    Ready,
    ReloadDone,
    ReloadFailed,
    ReloadModules,
    Shutdown,
    Start,
    Started,
    StartFailed,
)

REQUEST_TIMEOUT = 120.0
RETIRE_GRACE = 0.5


class WorkerHandle:
    """One app process and its control channel."""

    def __init__(self, process: asyncio.subprocess.Process, channel: Channel) -> None:
        self.process = process
        self.channel = channel

    @property
    def pid(self) -> int:
        """The process id."""
        return self.process.pid

    async def request(self, message: Message, wait_s: float = REQUEST_TIMEOUT) -> Message:
        """Send ``message`` and wait for the reply."""
        await self.channel.send(message)
        try:
            return await asyncio.wait_for(self.channel.receive(), wait_s)
        except TimeoutError:
            raise ChannelClosedError(f"app process {self.pid} did not answer") from None

    def kill(self) -> None:
        """SIGKILL the process: no graceful wait on anything."""
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
        self.channel.close()

    async def stop(self, grace: float) -> None:
        """Ask the process to shut down; kill it after ``grace`` seconds."""
        with contextlib.suppress(ChannelClosedError):
            await self.channel.send(Shutdown())
        try:
            await asyncio.wait_for(self.process.wait(), grace)
        except TimeoutError:
            self.kill()
        await self.process.wait()
        self.channel.close()


async def spawn_worker(listen: socket.socket) -> WorkerHandle:
    """Start an app process (a spare) and wait until it is warm."""
    ours, theirs = socket.socketpair()
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "devserver.worker",
            "--listen-fd",
            str(listen.fileno()),
            "--control-fd",
            str(theirs.fileno()),
            pass_fds=(listen.fileno(), theirs.fileno()),
            # Its own process group: a terminal's Ctrl-C goes to belay dev alone (which
            # stops everything), not into a spare still importing (a KeyboardInterrupt).
            process_group=0,
        )
    finally:
        theirs.close()
    reader, writer = await asyncio.open_connection(sock=ours, limit=1 << 22)
    handle = WorkerHandle(process, Channel(reader, writer))
    try:
        ready = await asyncio.wait_for(handle.channel.receive(), REQUEST_TIMEOUT)
    except TimeoutError:
        await _discard(handle)
        raise ChannelClosedError(f"app process {handle.pid} did not get ready") from None
    except BaseException:
        handle.kill()
        raise
    if not isinstance(ready, Ready):
        await _discard(handle)
        raise ChannelClosedError(f"app process sent {ready!r} instead of Ready")
    return handle


async def _discard(handle: WorkerHandle) -> None:
    """Kill an app process we gave up on and reap it, so it is gone when we report."""
    handle.kill()
    await handle.process.wait()


class Supervisor:
    """The real :class:`~devserver.coordinator.AppControl`: processes with a warm spare."""

    def __init__(self, listen: socket.socket, start: Start) -> None:
        self.listen = listen
        self.start = start
        self.active: WorkerHandle | None = None
        self.preload: tuple[str, ...] = ()
        self._spare: asyncio.Task[WorkerHandle] | None = None
        self._retiring: set[asyncio.Task[None]] = set()

    def warm_spare(self) -> None:
        """Start a spare in the background if there is none."""
        if self._spare is None:
            self._spare = asyncio.create_task(self._make_spare())

    async def _make_spare(self) -> WorkerHandle:
        handle = await spawn_worker(self.listen)
        if self.preload:
            try:
                await handle.channel.send(Preload(self.preload))
            except BaseException:  # cancelled by close(): nobody else knows this process
                handle.kill()
                raise
        return handle

    async def _take_spare(self) -> WorkerHandle:
        self.warm_spare()
        assert self._spare is not None
        task, self._spare = self._spare, None
        try:
            return await task
        except ChannelClosedError:
            return await spawn_worker(self.listen)

    async def reload(self, paths: tuple[Path, ...]) -> ReloadDone | ReloadFailed:
        """Ask the serving process to reload ``paths`` in place."""
        if self.active is None:
            raise ChannelClosedError("no app process is serving")
        reply = await self.active.request(ReloadModules(tuple(str(p) for p in paths)))
        if not isinstance(reply, ReloadDone | ReloadFailed):
            raise ChannelClosedError(f"unexpected reply {reply!r}")
        return reply

    async def restart(self) -> Started | StartFailed:
        """Promote the spare; on success kill the old process, then warm a new spare."""
        began = time.perf_counter()
        try:
            worker = await self._take_spare()
        except (ChannelClosedError, OSError) as exc:
            return StartFailed(f"could not start an app process: {exc}", "", not_found=False)
        try:
            reply = await worker.request(self.start)
        except ChannelClosedError as exc:
            worker.kill()
            reply = StartFailed(f"the new app process died: {exc}", "", not_found=False)
        except BaseException:
            # Cancelled (Ctrl-C while the app imports): the process is neither the
            # active one nor the spare, so close() would never stop it.
            worker.kill()
            raise
        if isinstance(reply, StartFailed) and reply.serving and self.active is None:
            self.active = worker  # nothing better to serve: show the import error
            self.warm_spare()
            return reply
        if not isinstance(reply, Started):
            worker.kill()
            await worker.process.wait()
            self.warm_spare()
            if isinstance(reply, StartFailed):
                return dataclasses.replace(reply, serving=False)
            return StartFailed(f"unexpected reply {reply!r}", "", not_found=False)
        old, self.active = self.active, worker
        if old is not None:
            self._retire(old)
        self.preload = reply.preload
        self.warm_spare()
        ms = (time.perf_counter() - began) * 1000
        return Started(reply.pid, ms, reply.preload, reply.codegen, reply.codegen_error)

    async def notify(self, payload: dict[str, Any]) -> bool:
        """Have the serving app process send ``payload`` to the browsers; False if none serves."""
        if self.active is None:
            return False
        try:
            await self.active.channel.send(Notify(orjson.dumps(payload).decode()))
        except ChannelClosedError:
            return False
        return True

    def _retire(self, old: WorkerHandle) -> None:
        # The new process already serves: let the old one finish in-flight
        # requests briefly (it stops accepting at once), then kill it. Nobody
        # waits for this, so open streams cannot delay a restart.
        task = asyncio.create_task(old.stop(grace=RETIRE_GRACE))
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)

    async def close(self) -> None:
        """Stop every process this supervisor started."""
        spare, self._spare = self._spare, None
        if spare is not None:
            spare.cancel()
            with contextlib.suppress(BaseException):
                handle = await spare
                handle.kill()
                await handle.process.wait()
        if self.active is not None:
            await self.active.stop(grace=1.0)
            self.active = None
        if self._retiring:
            await asyncio.wait(self._retiring)
