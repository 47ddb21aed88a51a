"""Action throughput: Belay vs raw Starlette (and FastAPI), under hypercorn and uvicorn.

Every app does the same work per request (``bench/apps/``): validate a pydantic
JSON body and an int query parameter, answer ``{"passthrough": {...}}`` as JSON.
Each (server, app) cell runs in its own server subprocess pinned to one CPU,
with the same server settings; load comes from ``wrk`` in a separate process
pinned to another CPU, at a fixed concurrency, for a fixed time. Cells are
interleaved over several rounds and the median round is reported.

    .venv/bin/python bench/bench_actions.py [--duration 5] [--rounds 3] [--json out.json]

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


def start_server(server: str, app: str, port: int) -> subprocess.Popen[bytes]:
    args = [a.format(app=app, port=port) for a in SERVERS[server]]
    return subprocess.Popen(
        pinned(0, [sys.executable, *args]),
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
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


def measure(server: str, app: str, *, seconds: float, connections: int, script: Path) -> Cell:
    module, path = APPS[app]
    port = free_port()
    url = f"http://127.0.0.1:{port}{path}{QUERY}"
    process = start_server(server, module, port)
    try:
        wait_and_check(url, process)
        run_wrk(url, seconds=1, connections=connections, script=script)  # warm-up
        cpu_before = tree_cpu_seconds(process.pid)
        requests, duration_us, p50, p99, errors, bad = run_wrk(
            url, seconds=seconds, connections=connections, script=script
        )
        cpu_after = tree_cpu_seconds(process.pid)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
    cpu_us = None
    if cpu_before is not None and cpu_after is not None and requests:
        cpu_us = (cpu_after - cpu_before) / requests * 1e6
    return Cell(
        server, app, requests, duration_us / 1e6, p50 / 1e3, p99 / 1e3, errors + bad, cpu_us
    )


def median_cell(cells: list[Cell]) -> Cell:
    ordered = sorted(cells, key=lambda c: c.rps)
    return ordered[len(ordered) // 2]


def median_cpu(cells: list[Cell]) -> float | None:
    values = [c.cpu_us for c in cells if c.cpu_us is not None]
    return statistics.median(values) if values else None


def report(results: dict[tuple[str, str], list[Cell]], rounds: int) -> str:
    lines = [
        f"median of {rounds} round(s); ratio = req/s vs raw Starlette on the same server",
        "",
        "| server | app | req/s | p50 ms | p99 ms | errors | vs starlette | rounds req/s "
        "| server CPU us/req | CPU-cost ratio |",
        "|---|---|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    for server in SERVERS:
        base = median_cell(results[(server, "starlette")]).rps
        base_cpu = median_cpu(results[(server, "starlette")])
        for app in APPS:
            cells = results[(server, app)]
            cell = median_cell(cells)
            spread = ", ".join(f"{c.rps:.0f}" for c in cells)
            cpu = median_cpu(cells)
            cpu_text = f"{cpu:.0f} | {base_cpu / cpu:.2f}x" if cpu and base_cpu else "- | -"
            lines.append(
                f"| {server} | {app} | {cell.rps:.0f} | {cell.p50_ms:.2f} | {cell.p99_ms:.2f} "
                f"| {cell.errors} | {cell.rps / base:.2f}x | {spread} | {cpu_text} |"
            )
    lines.append("")
    for server, target in TARGETS.items():
        ratio = (
            median_cell(results[(server, "belay")]).rps
            / median_cell(results[(server, "starlette")]).rps
        )
        verdict = "meets" if ratio >= target else "MISSES"
        line = f"belay on {server}: {ratio:.2f}x raw Starlette req/s ({verdict} target {target}x)"
        belay_cpu = median_cpu(results[(server, "belay")])
        base_cpu = median_cpu(results[(server, "starlette")])
        if belay_cpu and base_cpu:
            line += f"; {base_cpu / belay_cpu:.2f}x by server CPU per request"
        lines.append(line)
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds per cell")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per cell")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--servers", nargs="*", default=list(SERVERS), choices=list(SERVERS))
    parser.add_argument("--json", type=Path, help="also write the raw cells here")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("bench_actions needs wrk on PATH (apt-get install wrk)")
    SERVERS_USED = {s: SERVERS[s] for s in args.servers}
    SERVERS.clear()
    SERVERS.update(SERVERS_USED)
    results: dict[tuple[str, str], list[Cell]] = {(s, a): [] for s in SERVERS for a in APPS}
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "post.lua"
        script.write_text(WRK_SCRIPT % BODY.decode())
        for round_no in range(args.rounds):
            for server in SERVERS:
                for app in APPS:
                    cell = measure(
                        server,
                        app,
                        seconds=args.duration,
                        connections=args.connections,
                        script=script,
                    )
                    results[(server, app)].append(cell)
                    cpu = f"{cell.cpu_us:.0f}" if cell.cpu_us is not None else "-"
                    print(
                        f"round {round_no + 1} {server:15} {app:10} {cell.rps:8.0f} req/s "
                        f"p50 {cell.p50_ms:6.2f} ms p99 {cell.p99_ms:6.2f} ms "
                        f"cpu {cpu} us/req errors {cell.errors}",
                        flush=True,
                    )
    print()
    print(report(results, args.rounds))
    if args.json:
        cells = [asdict(c) | {"rps": c.rps} for cs in results.values() for c in cs]
        args.json.write_text(json.dumps(cells, indent=2))


if __name__ == "__main__":
    main()
