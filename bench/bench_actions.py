"""Action throughput: Belay vs raw Starlette (and FastAPI), under hypercorn and uvicorn.

Every app does the same work per request (``bench/apps/``): validate a pydantic
JSON body and an int query parameter, answer ``{"passthrough": {...}}`` as JSON.
Each (server, app) cell runs in its own server subprocess pinned to one CPU,
with the same server settings; load comes from ``wrk`` in a separate process
pinned to another CPU, at a fixed concurrency, for a fixed time. The apps'
servers run side by side and take the load in alternating short bursts, so
ratios compare measurements taken moments apart (the machine may be shared).

    .venv/bin/python bench/bench_actions.py [--duration 2] [--rounds 8] [--json out.json]
        [--baseline-root DIR]

With ``--baseline-root DIR`` (another checkout of Belay, e.g. ``git worktree add
--detach DIR <commit>``) that tree's Belay app runs too, as ``belay@baseline``:
its own server subprocess with ``PYTHONPATH=DIR``, same settings, in the same
alternating rounds, and the report adds Belay-now / Belay-baseline req/s per
server, so a change is measured side by side with what it replaces.

Needs ``wrk`` (``apt-get install wrk``) and the ``bench`` extra (uvicorn[standard]).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
BODY = b'{"item": "pen", "qty": 2, "price": 1.5}'
QUERY = "?discount=3"
EXPECTED = {"passthrough": {"item": "pen", "total": 0.0, "discount": 3}}

APPS = {
    "starlette": ("bench.apps.starlette_app:app", "/quote"),
    "belay": ("bench.apps.belay_app:app", "/internal/api/BenchController/quote"),
    "fastapi": ("bench.apps.fastapi_app:app", "/quote"),
}
SERVERS = {
    "hypercorn": [
        "-m",
        "hypercorn",
        "{app}",
        "--bind",
        "127.0.0.1:{port}",
        "--workers",
        "1",
        "--log-level",
        "warning",
    ],
    "uvicorn+uvloop": [
        "-m",
        "uvicorn",
        "{app}",
        "--host",
        "127.0.0.1",
        "--port",
        "{port}",
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
        "--log-level",
        "warning",
    ],
}
TARGETS = {"hypercorn": 0.9, "uvicorn+uvloop": 0.75}
BASELINE_APP = "belay@baseline"

WRK_SCRIPT = """
wrk.method = "POST"
wrk.body = '%s'
wrk.headers["Content-Type"] = "application/json"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT %%d %%d %%d %%d %%d %%d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
"""


@dataclass
class Cell:
    """One measured (server, app) run."""

    server: str
    app: str
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    cpu_us: float | None  # server CPU (whole process tree) per request

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tree_cpu_seconds(pid: int) -> float | None:
    """User+system CPU of a process and its descendants (Linux /proc), or None."""
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total, stack = 0.0, [pid]
    try:
        while stack:
            current = stack.pop()
            stat = Path(f"/proc/{current}/stat").read_text()
            fields = stat.rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
            for task in Path(f"/proc/{current}/task").iterdir():
                stack += [int(c) for c in (task / "children").read_text().split()]
    except (OSError, ValueError, IndexError):
        return None
    return total


def pinned(cpu: int, argv: list[str]) -> list[str]:
    if shutil.which("taskset") and (os.cpu_count() or 1) > 1:
        return ["taskset", "-c", str(cpu), *argv]
    return argv


def start_server(server: str, app: str, port: int, *, root: Path = ROOT) -> subprocess.Popen[bytes]:
    """``app`` (a ``module:attribute`` under ``root``) served by ``server`` on ``port``."""
    args = [a.format(app=app, port=port) for a in SERVERS[server]]
    return subprocess.Popen(
        pinned(0, [sys.executable, *args]),
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def wait_and_check(url: str, process: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    """Wait for the server, then check it answers the exact expected body."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            stderr = process.stderr.read().decode() if process.stderr else ""
            raise RuntimeError(f"server exited early:\n{stderr}")
        try:
            response = httpx.post(
                url, content=BODY, headers={"content-type": "application/json"}, timeout=2
            )
            break
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"server at {url} did not start in {timeout}s") from None
            time.sleep(0.05)
    if response.status_code != 200 or response.json() != EXPECTED:
        raise RuntimeError(f"{url} answered {response.status_code} {response.text}")


def run_wrk(url: str, *, seconds: float, connections: int, script: Path) -> tuple[int, ...]:
    argv = pinned(
        1,
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "5s",
            "-s",
            str(script),
            url,
        ],
    )
    out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 30, check=True)
    line = next(x for x in out.stdout.splitlines() if x.startswith("RESULT "))
    return tuple(int(x) for x in line.split()[1:])


@dataclass
class Server:
    """One running server process for one app."""

    app: str
    url: str
    process: subprocess.Popen[bytes]


def start_all(server: str, baseline: Path | None = None) -> list[Server]:
    """Start every app under ``server`` (all pinned to the same CPU) and check each answer.

    With ``baseline``, that checkout's Belay app runs too (as ``belay@baseline``).
    """
    cells = [(app, module, path, ROOT) for app, (module, path) in APPS.items()]
    if baseline is not None:
        module, path = APPS["belay"]
        cells.append((BASELINE_APP, module, path, baseline.resolve()))
    started: list[Server] = []
    try:
        for app, module, path, root in cells:
            port = free_port()
            process = start_server(server, module, port, root=root)
            started.append(Server(app, f"http://127.0.0.1:{port}{path}{QUERY}", process))
        for running in started:
            wait_and_check(running.url, running.process)
    except BaseException:
        stop_all(started)
        raise
    return started


def stop_all(servers: list[Server]) -> None:
    for running in servers:
        running.process.terminate()
    for running in servers:
        try:
            running.process.wait(10)
        except subprocess.TimeoutExpired:
            running.process.kill()
            running.process.wait(5)


def burst(server: str, running: Server, *, seconds: int, connections: int, script: Path) -> Cell:
    """One timed wrk run against one already-running server."""
    cpu_before = tree_cpu_seconds(running.process.pid)
    requests, duration_us, p50, p99, errors, bad = run_wrk(
        running.url, seconds=seconds, connections=connections, script=script
    )
    cpu_after = tree_cpu_seconds(running.process.pid)
    cpu_us = None
    if cpu_before is not None and cpu_after is not None and requests:
        cpu_us = (cpu_after - cpu_before) / requests * 1e6
    return Cell(
        server,
        running.app,
        requests,
        duration_us / 1e6,
        p50 / 1e3,
        p99 / 1e3,
        errors + bad,
        cpu_us,
    )


def burst_order(servers: list[Server], round_no: int) -> list[Server]:
    """The servers in round ``round_no``'s order, rotated every round.

    A baseline Belay runs right beside this tree's Belay, first in every other
    round: the ratio the comparison is about pairs bursts taken moments apart.
    """
    baseline = next((s for s in servers if s.app == BASELINE_APP), None)
    slots: list[list[Server]] = []
    for running in servers:
        if running is baseline:
            continue
        if running.app == "belay" and baseline is not None:
            pair = [running, baseline]
            slots.append(pair if round_no % 2 == 0 else pair[::-1])
        else:
            slots.append([running])
    shift = round_no % len(slots)
    return [running for slot in slots[shift:] + slots[:shift] for running in slot]


def measure_server(
    server: str,
    *,
    rounds: int,
    seconds: int,
    connections: int,
    script: Path,
    baseline: Path | None = None,
) -> dict[str, list[Cell]]:
    """Alternate short bursts between the apps, rotating the order every round.

    The apps' servers run side by side, so a slow spell on a shared machine hits
    every app about equally; paired per-round ratios cancel most of it.
    """
    servers = start_all(server, baseline)
    cells: dict[str, list[Cell]] = {running.app: [] for running in servers}
    try:
        for running in servers:  # warm-up
            run_wrk(running.url, seconds=1, connections=connections, script=script)
        for round_no in range(rounds):
            for running in burst_order(servers, round_no):
                cell = burst(
                    server, running, seconds=seconds, connections=connections, script=script
                )
                cells[running.app].append(cell)
                cpu = f"{cell.cpu_us:.0f}" if cell.cpu_us is not None else "-"
                print(
                    f"round {round_no + 1:2} {server:15} {cell.app:10} {cell.rps:8.0f} req/s "
                    f"p50 {cell.p50_ms:6.2f} ms p99 {cell.p99_ms:6.2f} ms "
                    f"cpu {cpu} us/req errors {cell.errors}",
                    flush=True,
                )
    finally:
        stop_all(servers)
    return cells


def total_rps(cells: list[Cell]) -> float:
    return sum(c.requests for c in cells) / sum(c.seconds for c in cells)


def paired_ratio(cells: list[Cell], base: list[Cell]) -> float:
    """Median over rounds of (app req/s / baseline req/s) measured in the same round."""
    return statistics.median(c.rps / b.rps for c, b in zip(cells, base, strict=True))


def cpu_per_request(cells: list[Cell]) -> float | None:
    if any(c.cpu_us is None for c in cells):
        return None
    return sum((c.cpu_us or 0) * c.requests for c in cells) / sum(c.requests for c in cells)


def report(results: dict[str, dict[str, list[Cell]]], rounds: int, seconds: int) -> str:
    lines = [
        f"{rounds} alternating rounds of {seconds} s per app; req/s over all rounds, "
        f"p50/p99 the median round's; ratio = median per-round req/s vs raw Starlette",
        "",
        "| server | app | req/s | p50 ms | p99 ms | errors | vs starlette "
        "| server CPU us/req | CPU-cost ratio |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for server, cells in results.items():
        base = cells["starlette"]
        base_cpu = cpu_per_request(base)
        for app, app_cells in cells.items():
            p50 = statistics.median(c.p50_ms for c in app_cells)
            p99 = statistics.median(c.p99_ms for c in app_cells)
            cpu = cpu_per_request(app_cells)
            cpu_text = f"{cpu:.0f} | {base_cpu / cpu:.2f}x" if cpu and base_cpu else "- | -"
            lines.append(
                f"| {server} | {app} | {total_rps(app_cells):.0f} | {p50:.2f} | {p99:.2f} "
                f"| {sum(c.errors for c in app_cells)} | {paired_ratio(app_cells, base):.2f}x "
                f"| {cpu_text} |"
            )
    lines.append("")
    for server, cells in results.items():
        target = TARGETS[server]
        ratio = paired_ratio(cells["belay"], cells["starlette"])
        verdict = "meets" if ratio >= target else "MISSES"
        line = f"belay on {server}: {ratio:.2f}x raw Starlette req/s ({verdict} target {target}x)"
        belay_cpu, base_cpu = cpu_per_request(cells["belay"]), cpu_per_request(cells["starlette"])
        if belay_cpu and base_cpu:
            line += f"; {base_cpu / belay_cpu:.2f}x by server CPU per request"
        lines.append(line)
        if BASELINE_APP in cells:
            now = paired_ratio(cells["belay"], cells[BASELINE_APP])
            line = f"belay on {server}: {now:.3f}x belay@baseline req/s"
            base_cpu = cpu_per_request(cells[BASELINE_APP])
            if belay_cpu and base_cpu:
                line += f"; {base_cpu / belay_cpu:.3f}x by server CPU per request"
            lines.append(line)
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=2, help="seconds per burst")
    parser.add_argument("--rounds", type=int, default=8, help="alternating rounds per server")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--servers", nargs="*", default=list(SERVERS), choices=list(SERVERS))
    parser.add_argument("--json", type=Path, help="also write the raw cells here")
    parser.add_argument(
        "--baseline-root",
        type=Path,
        metavar="DIR",
        help="also run the Belay app of the checkout at DIR, side by side",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("bench_actions needs wrk on PATH (apt-get install wrk)")
    results: dict[str, dict[str, list[Cell]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "post.lua"
        script.write_text(WRK_SCRIPT % BODY.decode())
        for server in args.servers:
            results[server] = measure_server(
                server,
                rounds=args.rounds,
                seconds=args.duration,
                connections=args.connections,
                script=script,
                baseline=args.baseline_root,
            )
    print()
    print(report(results, args.rounds, args.duration))
    if args.json:
        cells = [
            asdict(c) | {"rps": c.rps}
            for by_app in results.values()
            for app_cells in by_app.values()
            for c in app_cells
        ]
        args.json.write_text(json.dumps(cells, indent=2))


if __name__ == "__main__":
    main()
