"""A real ``redis-server`` for tests: Debian's binary on a Unix socket in a temp dir.

``RedisServer`` starts ``/usr/bin/redis-server`` (``--port 0 --save ''``, AOF
only when asked), waits until it answers PING, and stops it by PID. The
``redis_server`` fixture skips, saying why, when the binary is missing.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.polling import poll_until, wait_until
from tests.support.processes import terminate

REDIS_SERVER = "/usr/bin/redis-server"
START_TIMEOUT = 20.0  # seconds for the server to answer PING (a watchdog, not a target)


def redis_binary() -> str | None:
    """The redis-server binary, or None when it is not installed."""
    found = REDIS_SERVER if Path(REDIS_SERVER).exists() else shutil.which("redis-server")
    return found


class RedisServer:
    """One redis-server process; ``restart()`` keeps the socket path (and the AOF, if on)."""

    def __init__(self, directory: Path, *, aof: bool = False) -> None:
        binary = redis_binary()
        if binary is None:
            raise RuntimeError("redis-server is not installed")
        self.binary = binary
        self.directory = directory
        self.aof = aof
        self.socket_path = directory / "redis.sock"
        self.process: subprocess.Popen[str] | None = None

    def url(self, *, protocol: int = 2) -> str:
        """A ``unix://`` URL for this server (RESP2 or RESP3)."""
        return f"unix://{self.socket_path}?protocol={protocol}"

    def start(self) -> None:
        """Start the server and return once it answers PING."""
        args = [
            self.binary,
            "--port", "0",
            "--unixsocket", str(self.socket_path),
            "--unixsocketperm", "700",
            "--dir", str(self.directory),
            "--save", "",
            "--appendonly", "yes" if self.aof else "no",
            "--appendfsync", "always",
        ]  # fmt: skip
        self.process = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True
        )
        process = self.process

        def answers() -> bool:
            if process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {process.returncode}")
            return self._answers()

        wait_until(answers, START_TIMEOUT, "redis-server to answer")

    def stop(self) -> None:
        """SIGTERM by PID and wait for the exit."""
        if self.process is not None and self.process.poll() is None:
            terminate(self.process)
        self.process = None

    def restart(self) -> None:
        """Stop, then start again on the same socket (data survives only with AOF)."""
        self.stop()
        self.start()

    def command(self, *args: str) -> bytes:
        """Send one inline command over a fresh connection; the raw reply."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(5)
            conn.connect(str(self.socket_path))
            conn.sendall((" ".join(args) + "\r\n").encode())
            return conn.recv(65536)

    def _answers(self) -> bool:
        try:
            return self.command("PING").startswith(b"+PONG")
        except OSError:
            return False


def require_redis() -> None:
    """Skip the calling test, saying why, when redis-server is not installed."""
    if redis_binary() is None:
        pytest.skip("redis-server is not installed (scripts/test installs it with apt as root)")


@contextmanager
def running_redis(*, aof: bool = False) -> Iterator[RedisServer]:
    """A started redis-server in a fresh short temp dir (Unix socket paths are short)."""
    with tempfile.TemporaryDirectory(prefix="belay-redis-") as directory:
        server = RedisServer(Path(directory), aof=aof)
        server.start()
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A fresh redis-server for one test (skipped, with the reason, if not installed)."""
    require_redis()
    with running_redis() as server:
        yield server


async def wait_clients(server: RedisServer, count: int) -> None:
    """Poll until Redis counts ``count`` clients (it notices closed sockets a bit later)."""
    await poll_until(
        lambda: count_clients(server) == count, within=20, what=f"{count} Redis clients"
    )


def count_clients(server: RedisServer) -> int:
    """Connected clients, not counting the one asking."""
    for line in server.command("INFO", "clients").decode().splitlines():
        if line.startswith("connected_clients:"):
            return int(line.partition(":")[2]) - 1
    raise AssertionError("no connected_clients in INFO")
