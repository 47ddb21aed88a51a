"""Live page state benchmark: 1,000 viewers of one page, one sideeffect.

Run: .venv/bin/python bench/bench_live.py [--viewers N] [--rounds N] [--json PATH]

Each viewer is one ``GET .../live`` ASGI call into a real ``RPCApp`` whose
``send`` records when a frame is handed to the server, so 1,000 viewers fit one
process. One ``broadcast=True`` sideeffect per round (an ASGI POST); measured
from the POST until each viewer's frame with the new state: p50/p99 over all
viewers of all rounds, and CPU seconds of this process per viewer update.
Side by side in one run:

- per-viewer render: ``render()`` takes ``Depends`` on a request header, so
  every viewer renders for itself;
- shared render: ``render()`` reads nothing of the request, so one render per
  change serves every viewer of the page.

Every loop is bounded in count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from starlette.requests import Request

from rpc import ControllerBase, Depends, RenderBase, RPCApp, sideeffect

PREFIX = "/internal/api"
WATCHDOG = 120.0


class Room(RenderBase):
    room: str
    count: int
    messages: list[str]
    viewer: str


def viewer_name(request: Request) -> str:
    return request.headers.get("x-viewer", "")


def build_app(*, shared: bool) -> RPCApp:
    counts: dict[str, int] = {}
    messages = [f"message {n}" for n in range(20)]

    class PerViewerController(ControllerBase):
        url = "/rooms/{room}"

        async def render(self, room: str, viewer: str = Depends(viewer_name)) -> Room:
            return Room(room=room, count=counts.get(room, 0), messages=messages, viewer=viewer)

        @sideeffect(broadcast=True)
        async def bump(self, room: str) -> None:
            counts[room] = counts.get(room, 0) + 1

    class SharedController(ControllerBase):
        url = "/rooms/{room}"

        async def render(self, room: str) -> Room:
            return Room(room=room, count=counts.get(room, 0), messages=messages, viewer="")

        @sideeffect(broadcast=True)
        async def bump(self, room: str) -> None:
            counts[room] = counts.get(room, 0) + 1

    controller = SharedController() if shared else PerViewerController()
    return RPCApp([controller], ping_interval=60)


def scope(method: str, path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http", "method": method, "path": path, "query_string": b"room=lobby",
        "headers": headers, "root_path": "", "scheme": "http",
        "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 1),
    }  # fmt: skip


class Viewer:
    """One live stream: notes when the frame with count ``want`` arrives."""

    def __init__(self, path: str, n: int) -> None:
        headers = [(b"x-belay-page", b"/rooms/lobby"), (b"x-viewer", f"v{n}".encode())]
        self.scope = scope("GET", path, headers)
        self.frames = 0
        self.want = b""
        self.arrived = 0.0
        self.got = asyncio.Event()
        self.done = asyncio.Event()

    async def receive(self) -> dict[str, Any]:
        await self.done.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        body = message.get("body", b"")
        if b"data: " in body:
            self.frames += 1
            if self.want and self.want in body:
                self.arrived = time.perf_counter()
                self.got.set()


async def post(app: RPCApp, path: str) -> None:
    answer: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer.append(message["status"])

    await app(scope("POST", path, [(b"x-belay-page", b"/rooms/lobby")]), receive, send)
    if answer != [200]:
        raise RuntimeError(f"sideeffect answered {answer}")


async def measure(*, shared: bool, viewers: int, rounds: int) -> dict[str, Any]:
    app = build_app(shared=shared)
    controller = "SharedController" if shared else "PerViewerController"
    peers = [Viewer(f"{PREFIX}/{controller}/live", n) for n in range(viewers)]
    tasks = [asyncio.create_task(app(p.scope, p.receive, p.send)) for p in peers]
    async with asyncio.timeout(WATCHDOG):
        while not all(p.frames for p in peers):  # noqa: ASYNC110 (counters set by send)
            await asyncio.sleep(0.02)
    latencies: list[float] = []
    cpu: list[float] = []
    for n in range(1, rounds + 1):
        for peer in peers:
            peer.want, peer.got = f'"count":{n}'.encode(), asyncio.Event()
        cpu_started, started = time.process_time(), time.perf_counter()
        await post(app, f"{PREFIX}/{controller}/bump")
        async with asyncio.timeout(WATCHDOG):
            for peer in peers:
                await peer.got.wait()
        cpu.append((time.process_time() - cpu_started) / viewers)
        latencies += [(peer.arrived - started) * 1000 for peer in peers]
        await asyncio.sleep(0.05)
    for peer in peers:
        peer.done.set()
    async with asyncio.timeout(WATCHDOG):
        await asyncio.gather(*tasks)
    return {
        "viewers": viewers,
        "rounds": rounds,
        "p50_ms": statistics.median(latencies),
        "p99_ms": sorted(latencies)[int(0.99 * (len(latencies) - 1))],
        "cpu_us_per_viewer": statistics.median(cpu) * 1e6,
    }


async def idle_heap(viewers: int) -> float:
    """Python heap (KB) one idle live viewer holds: its request, stream, subscription, generator.

    Traced with tracemalloc (so on its own, not during the timed rounds); the
    ASGI scope and the test peer are included, the server's socket buffers not.
    """
    app = build_app(shared=False)
    path = f"{PREFIX}/PerViewerController/live"
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    peers = [Viewer(path, n) for n in range(viewers)]
    tasks = [asyncio.create_task(app(p.scope, p.receive, p.send)) for p in peers]
    async with asyncio.timeout(WATCHDOG):
        while not all(p.frames for p in peers):  # noqa: ASYNC110 (counters set by send)
            await asyncio.sleep(0.02)
    per_viewer = (tracemalloc.get_traced_memory()[0] - before) / viewers / 1024
    tracemalloc.stop()
    for peer in peers:
        peer.done.set()
    async with asyncio.timeout(WATCHDOG):
        await asyncio.gather(*tasks)
    return per_viewer


async def main_async(viewers: int, rounds: int) -> dict[str, Any]:
    per_viewer = await measure(shared=False, viewers=viewers, rounds=rounds)
    shared = await measure(shared=True, viewers=viewers, rounds=rounds)
    return {
        "per_viewer": per_viewer,
        "shared": shared,
        "idle_kb_per_viewer": await idle_heap(viewers),
        "cpu_ratio": per_viewer["cpu_us_per_viewer"] / max(shared["cpu_us_per_viewer"], 1e-9),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    data = asyncio.run(main_async(args.viewers, args.rounds))
    for name in ("per_viewer", "shared"):
        row = data[name]
        print(
            f"{name:>10}: {row['viewers']} viewers x {row['rounds']} sideeffects: "
            f"p50 {row['p50_ms']:.0f} ms, p99 {row['p99_ms']:.0f} ms to every viewer, "
            f"CPU {row['cpu_us_per_viewer']:.0f} us per viewer update"
        )
    print(f"per-viewer render costs {data['cpu_ratio']:.1f}x the shared render's CPU per viewer")
    print(f"an idle live viewer holds {data['idle_kb_per_viewer']:.1f} KB of Python heap")
    if args.json:
        args.json.write_text(json.dumps(data, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
