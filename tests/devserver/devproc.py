"""Run ``belay dev`` and ``belay serve`` as real subprocesses for end-to-end tests.

Output is collected by a reader thread; every wait has a deadline. Only the
processes this helper started are signalled, by PID. :class:`StreamReader`
holds one streaming action open in a thread while a test acts on the server.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

import httpx

from tests.support.polling import wait_until
from tests.support.ports import free_port

BELAY = [sys.executable, "-m", "devserver.cli"]
REPO = Path(__file__).resolve().parents[2]


def children_of(pid: int) -> list[int]:
    """Direct children of ``pid`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rpartition(")")[2].split()[1])
        if ppid == pid:
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


class DevProcess:
    """``belay dev`` running in ``cwd``; ``.url`` once it serves."""

    def __init__(self, cwd: Path, args: Sequence[str], *, port: int = 0) -> None:
        env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [*BELAY, "dev", *args, "--port", str(port)],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.url = ""

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for_line(self, pattern: str, timeout: float = 15.0, start: int = 0) -> re.Match[str]:
        regex = re.compile(pattern)

        def find() -> re.Match[str] | None:
            for line in self.lines[start:]:
                match = regex.search(line)
                if match:
                    return match
            if self.proc.poll() is not None and not self._reader.is_alive():
                raise AssertionError(f"belay dev exited; output:\n{self.output}")
            return None

        try:
            match = wait_until(find, timeout, f"line {pattern!r}")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; output:\n{self.output}") from None
        return match

    def wait_serving(self, timeout: float = 20.0) -> str:
        match = self.wait_for_line(r"serving \S+ on (http://\S+) \(app process (\d+)", timeout)
        self.url = match.group(1)
        return self.url

    def get_text(self, path: str, timeout: float = 2.0) -> str | None:
        """The body of a GET, or None on a connection error or non-200."""
        try:
            response = httpx.get(self.url + path, timeout=timeout)
        except httpx.HTTPError:
            return None
        return response.text if response.status_code == 200 else None

    def wait_for_text(self, path: str, expected: str, timeout: float = 10.0) -> None:
        wait_until(lambda: self.get_text(path) == expected, timeout, f"{path} == {expected!r}")

    def stop(self, timeout: float = 10.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(5)
            self._reader.join(5)
            if self.proc.stdout is not None:
                self.proc.stdout.close()


class ServeProcess:
    """``belay serve`` in a subprocess; stopped with SIGTERM and checked to exit cleanly."""

    def __init__(self, cwd: Path, target: str, *extra: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [*BELAY, "serve", target, "--bind", f"127.0.0.1:{self.port}", *extra],
            cwd=cwd,
            env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def get(self, path: str) -> httpx.Response | None:
        """A browser-like GET of ``path``; None on a connection error (not up yet)."""
        try:
            return httpx.get(self.url + path, headers={"accept": "text/html"}, timeout=2)
        except httpx.HTTPError:
            return None

    def stop(self) -> tuple[int, list[int]]:
        """SIGTERM; (exit code, the worker PIDs it had). Waits at most 15 s (a hang watchdog)."""
        workers = children_of(self.proc.pid)
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(15)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(5)
        return code, workers


class StreamReader:
    """One streaming action POSTed and read in a thread (started at once): its lines, how it ended.

    ``error`` is set when the stream was cut (or timed out) instead of closed;
    ``ended`` once the thread is done either way.
    """

    def __init__(self, url: str, *, timeout: float = 30.0) -> None:
        self.url = url
        self.lines: list[str] = []
        self.error: httpx.HTTPError | None = None
        self.ended = threading.Event()
        self._timeout = timeout
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    @property
    def data(self) -> list[str]:
        """The ``data:`` lines read so far."""
        return [line for line in self.lines if line.startswith("data:")]

    def _read(self) -> None:
        try:
            with httpx.stream("POST", self.url, json={}, timeout=self._timeout) as response:
                for line in response.iter_lines():
                    self.lines.append(line)
        except httpx.HTTPError as exc:
            self.error = exc
        finally:
            self.ended.set()


def run_belay(
    cwd: Path, args: Sequence[str], timeout: float = 30.0
) -> subprocess.CompletedProcess[str]:
    """Run ``belay ARGS`` to completion."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [*BELAY, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
