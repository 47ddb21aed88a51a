"""Run ``belay dev`` as a real subprocess for end-to-end tests.

Output is collected by a reader thread; every wait has a deadline. Only the
processes this helper started are signalled, by PID.
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


def run_belay(
    cwd: Path, args: Sequence[str], timeout: float = 30.0
) -> subprocess.CompletedProcess[str]:
    """Run ``belay ARGS`` to completion."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [*BELAY, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
