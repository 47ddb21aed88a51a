"""The demo room as users run it: built like ``scripts/demo``, served by real ``belay`` processes.

``build_frontend`` generates the TS client and bundles the page; ``copy_demo``
puts the demo package into a fresh project folder (so a test may edit it);
``BelayServe`` runs ``belay serve`` on a free port with the environment a test
gives (broker URL, database file). Processes are stopped by PID.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.support.polling import wait_until
from tests.support.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "rooms"
APP = "examples.rooms.app:app"
API = "/internal/api/RoomController"
BUILD_LOCK = threading.Lock()


def generate_demo_client() -> None:
    """Generate the demo's TS client into ``frontend/generated`` (as ``belay codegen`` does)."""
    from codegen import generate_client
    from examples.rooms.app import api
    from rpc.description import describe_app

    with BUILD_LOCK:
        generate_client(describe_app(api), DEMO / "frontend" / "generated")


def build_frontend() -> None:
    """Generate the client and bundle the page into the checkout, as scripts/demo does."""
    generate_demo_client()
    with BUILD_LOCK:
        esbuild = ROOT / "node_modules" / ".bin" / "esbuild"
        subprocess.run(
            [
                str(esbuild),
                str(DEMO / "frontend" / "main.ts"),
                "--bundle",
                "--format=esm",
                "--log-level=warning",
                f"--outfile={DEMO / 'static' / 'app.js'}",
            ],
            check=True,
            timeout=60,
        )


def copy_demo(project: Path) -> Path:
    """Copy the built demo into ``project/examples/rooms``; returns that folder."""
    target = project / "examples" / "rooms"
    ignore = shutil.ignore_patterns("__pycache__", "generated")
    shutil.copytree(DEMO, target, ignore=ignore)
    (project / "examples" / "__init__.py").write_text("")
    return target


def demo_env(extra: Mapping[str, str]) -> dict[str, str]:
    """The environment of a demo process: this checkout importable, plus ``extra``."""
    return {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1", **extra}


class BelayServe:
    """``belay serve examples.rooms.app:app`` in ``cwd`` on a free port; ``stop()`` by PID."""

    def __init__(self, cwd: Path, env: Mapping[str, str], *, workers: int, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        command = [sys.executable, "-m", "devserver.cli", "serve", APP, "--workers", str(workers)]
        with log.open("w") as output:  # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen(
                [*command, "--bind", f"127.0.0.1:{self.port}"],
                cwd=cwd,
                env=demo_env(env),
                stdout=output,
                stderr=subprocess.STDOUT,
                text=True,
            )

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Poll until a render answers (the app imported, the broker reachable)."""

        def answers() -> bool:
            if self.proc.poll() is not None:
                output = self.log.read_text()
                raise AssertionError(f"belay serve exited with {self.proc.returncode}:\n{output}")
            try:
                response = httpx.get(
                    f"{self.url}{API}/render", headers={"x-belay-page": "/rooms/ready"}, timeout=2
                )
            except httpx.HTTPError:
                return False
            return response.status_code == 200

        wait_until(answers, timeout, "belay serve to answer a render")

    def stop(self) -> int:
        """SIGTERM by PID; the exit code (killed if it does not exit in 15 s)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(15)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(5)


@contextmanager
def serving_demo(folder: Path) -> Iterator[BelayServe]:
    """The built demo under one ``belay serve`` worker (memory broker, its DB in ``folder``)."""
    build_frontend()
    env = {"BELAY_ROOMS_DB": str(folder / "rooms.db"), "BELAY_BROKER_URL": "memory://"}
    server = BelayServe(ROOT, env, workers=1, log=folder / "serve.log")
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()
