"""Run every Belay benchmark in one go and print one table of side-by-side ratios.

Run: ``scripts/bench`` (which sets up and installs ``wrk``), or
``.venv/bin/python bench/run_all.py [--quick] [--write]``.

Each benchmark runs in its own process with ``--json`` and measures Belay and
its baselines side by side in that same run; this script only collects the
figures, prints the summary, and with ``--write`` records it, with the date and
a description of the machine, in ``bench/RESULTS.md``. All traffic goes to
127.0.0.1; every benchmark bounds its loops in count and time.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "RESULTS.md"


@dataclass(frozen=True)
class Row:
    """One line of the summary: a Belay figure against a baseline from the same run."""

    measure: str
    belay: str
    baseline: str
    ratio: str
    target: str
    met: bool | None


DETAILS: list[str] = []  # each benchmark's own printed report, for RESULTS.md


def run(script: str, out: Path, *args: str) -> Any:
    """Run one benchmark script with ``--json out``; echo and keep its own report."""
    title = f"{script} {' '.join(args)}".strip()
    print(f"\n=== {title}", flush=True)
    done = subprocess.run(
        [sys.executable, str(BENCH / script), *args, "--json", str(out)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        check=True,
        timeout=1800,
    )
    print(done.stdout, end="", flush=True)
    DETAILS.append(f"### `{title}`\n\n```text\n{done.stdout.rstrip()}\n```\n")
    return json.loads(out.read_text())


def action_rows(cells: list[dict[str, Any]]) -> list[Row]:
    grouped: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for cell in cells:
        grouped[cell["server"]][cell["app"]].append(cell)
    targets = {"hypercorn": 0.9, "uvicorn+uvloop": 0.75}
    rows = []
    for server, apps in grouped.items():
        belay, raw, fastapi = apps["belay"], apps["starlette"], apps.get("fastapi", [])

        def paired(cells: list[dict[str, Any]], base: list[dict[str, Any]]) -> float:
            return statistics.median(c["rps"] / b["rps"] for c, b in zip(cells, base, strict=True))

        def p99(cells: list[dict[str, Any]]) -> float:
            return statistics.median(c["p99_ms"] for c in cells)

        ratio = paired(belay, raw)
        rows.append(
            Row(
                f"action req/s, {server} (vs raw Starlette)",
                f"{statistics.median(c['rps'] for c in belay):.0f}",
                f"{statistics.median(c['rps'] for c in raw):.0f}",
                f"{ratio:.2f}x",
                f">= {targets[server]}x",
                ratio >= targets[server],
            )
        )
        if fastapi:
            rows.append(
                Row(
                    f"action req/s, {server} (vs FastAPI)",
                    f"{statistics.median(c['rps'] for c in belay):.0f}",
                    f"{statistics.median(c['rps'] for c in fastapi):.0f}",
                    f"{paired(belay, fastapi):.2f}x",
                    "",
                    None,
                )
            )
        rows.append(
            Row(
                f"action p99 ms, {server} (vs raw Starlette)",
                f"{p99(belay):.1f}",
                f"{p99(raw):.1f}",
                f"{p99(belay) / p99(raw):.2f}x",
                "",
                None,
            )
        )
    return rows


def stream_rows(rows_in: list[dict[str, Any]]) -> list[Row]:
    by = {row["variant"]: row for row in rows_in}
    belay = next(row for name, row in by.items() if name.startswith("belay"))
    sse, raw = by["sse-starlette"], by["StreamingResponse"]
    return [
        Row(
            "SSE events/s (vs sse-starlette)",
            f"{belay['events_per_s']}",
            f"{sse['events_per_s']}",
            f"{belay['vs_sse_starlette']:.2f}x",
            ">= 1.5x",
            belay["vs_sse_starlette"] >= 1.5,
        ),
        Row(
            "SSE events/s (vs hand-written StreamingResponse)",
            f"{belay['events_per_s']}",
            f"{raw['events_per_s']}",
            f"{belay['vs_streaming_response']:.2f}x",
            ">= 0.9x",
            belay["vs_streaming_response"] >= 0.9,
        ),
        Row(
            f"KB per idle stream ({belay['idle_streams']} open; vs sse-starlette)",
            f"{belay['kb_per_idle_stream']:.1f}",
            f"{sse['kb_per_idle_stream']:.1f}",
            f"{belay['kb_per_idle_stream'] / sse['kb_per_idle_stream']:.2f}x",
            "<= 30 KB",
            belay["kb_per_idle_stream"] <= 30,
        ),
    ]


def live_rows(data: dict[str, Any]) -> list[Row]:
    per, shared = data["per_viewer"], data["shared"]
    return [
        Row(
            f"live: 1 sideeffect -> {per['viewers']} viewers' new state, p50/p99 ms "
            "(per-viewer render vs shared render)",
            f"{per['p50_ms']:.0f}/{per['p99_ms']:.0f}",
            f"{shared['p50_ms']:.0f}/{shared['p99_ms']:.0f}",
            "-",
            "per-viewer p99 <= 1000",
            per["p99_ms"] <= 1000,
        ),
        Row(
            "live: CPU us per viewer update (per-viewer render vs shared render)",
            f"{per['cpu_us_per_viewer']:.0f}",
            f"{shared['cpu_us_per_viewer']:.0f}",
            f"{data['cpu_ratio']:.1f}x",
            "shared >= 2x cheaper",
            data["cpu_ratio"] >= 2,
        ),
        Row(
            "live: KB of Python heap per idle viewer (tracemalloc, ASGI level)",
            f"{data['idle_kb_per_viewer']:.1f}",
            "-",
            "-",
            "<= 30 (the idle stream budget)",
            data["idle_kb_per_viewer"] <= 30,
        ),
    ]


def fanout_rows(rows_in: list[dict[str, Any]]) -> list[Row]:
    by = {row["variant"]: row for row in rows_in}
    stream, source = by["EventStream"], by["source only"]
    return [
        Row(
            f"stream fan-out: 1 event -> {stream['streams']} EventStreams, p50/p99 ms"
            " (vs the bare source)",
            f"{stream['p50_ms']:.0f}/{stream['p99_ms']:.0f}",
            f"{source['p50_ms']:.0f}/{source['p99_ms']:.0f}",
            f"{stream['p50_ms'] / source['p50_ms']:.1f}x",
            "",
            None,
        )
    ]


def channel_rows(data: dict[str, Any]) -> list[Row]:
    fan, tp = data["fanout"], data["throughput"]
    rows = [
        Row(
            f"channel: 1 event -> {fan['subscribers']} streams, p50/p99 ms (encodes)",
            f"{fan['p50_ms']:.0f}/{fan['p99_ms']:.0f} ({fan['encodes']}/{fan['rounds']})",
            "-",
            "-",
            "<= 150/300, 1 encode",
            fan["p50_ms"] <= 150 and fan["p99_ms"] <= 300 and fan["encodes"] == fan["rounds"],
        ),
        Row(
            f"channel: deliveries/s to {tp['subscribers']} (vs one plain stream's events/s)",
            f"{tp['aggregate_dps']:.0f}",
            f"{tp['single_stream_eps']:.0f}",
            f"{tp['ratio']:.2f}x",
            ">= 0.6x",
            tp["ratio"] >= 0.6,
        ),
        Row(
            "channel: resume after 100 missed, first frame p50 ms (memory)",
            f"{data['resume_memory']['p50_ms']:.1f}",
            "-",
            "-",
            "<= 20",
            data["resume_memory"]["p50_ms"] <= 20,
        ),
    ]
    if "cross_worker" in data:
        cross, resume = data["cross_worker"], data["resume_redis"]
        calls = cross["commands"]
        rows += [
            Row(
                f"channel via Redis: publish -> other worker, p50/p99 ms at {cross['rate']:.0f}/s",
                f"{cross['p50_ms']:.2f}/{cross['p99_ms']:.2f}",
                "-",
                "-",
                "<= 2/10",
                cross["p50_ms"] <= 2 and cross["p99_ms"] <= 10,
            ),
            Row(
                "channel via Redis: script calls per publish, calls per delivery",
                f"{cross['evalsha_per_publish']:.2f}, {calls.get('xrange', 0)}",
                "-",
                "-",
                "<= 1, 0",
                cross["evalsha_per_publish"] <= 1 and calls.get("xrange", 0) == 0,
            ),
            Row(
                "channel via Redis: resume after 100 missed, first frame p50 ms",
                f"{resume['p50_ms']:.1f}",
                "-",
                "-",
                "<= 20",
                resume["p50_ms"] <= 20,
            ),
        ]
    return rows


def reload_rows(data: dict[str, Any]) -> list[Row]:
    results = data["results"]
    belay = results["belay dev"]["median_ms"]
    rows = []
    if "uvicorn --reload" in results:
        uvicorn = results["uvicorn --reload"]["median_ms"]
        rows.append(
            Row(
                "save -> new code served, ms (vs uvicorn --reload)",
                f"{belay:.1f}",
                f"{uvicorn:.1f}",
                f"{uvicorn / belay:.1f}x faster",
                "p50 <= 80 ms, >= 5x",
                belay <= 80 and uvicorn / belay >= 5,
            )
        )
    if "belay dev restart" in results:
        restart = results["belay dev restart"]["median_ms"]
        rows.append(
            Row(
                "save -> new code served by a restarted app process, open stream, ms",
                f"{restart:.1f}",
                "",
                "",
                "< 1000 ms",
                restart < 1000,
            )
        )
    streamed = results["belay dev + open stream"]["median_ms"]
    rows.append(
        Row(
            "save -> new code served with an open stream, ms",
            f"{streamed:.1f}",
            f"{belay:.1f}",
            f"{streamed / belay:.2f}x",
            "no slower",
            streamed <= max(belay * 1.2, belay + 5),
        )
    )
    return rows


def shutdown_rows(data: dict[str, Any]) -> list[Row]:
    results = data["results"]
    belay, sse = results["belay"], results["sse-starlette"]
    serve = results["belay serve"]["exit_s"]
    return [
        Row(
            f"SIGTERM -> all {data['streams']} open streams closed, s (vs sse-starlette)",
            f"{belay['closed_s']:.3f}",
            f"{sse['closed_s']:.3f}",
            f"{belay['closed_s'] / sse['closed_s']:.2f}x",
            "< 1 s",
            belay["closed_s"] < 1.0,
        ),
        Row(
            "SIGTERM -> `belay serve` exited with an open stream, s",
            f"{serve:.3f}",
            "",
            "",
            "< 2 s",
            serve < 2.0,
        ),
    ]


def render_reload_rows(data: dict[str, Any]) -> list[Row]:
    return [
        Row(
            "sideeffect with experimental_render_reload, s (vs full render)",
            f"{data['sliced_s']:.4f}",
            f"{data['full_s']:.3f}",
            f"{data['speedup']:.0f}x faster",
            ">= 100x",
            data["speedup"] >= 100,
        )
    ]


def codegen_rows(data: dict[str, Any]) -> list[Row]:
    scale = f"{data['controllers']} controllers, {data['actions']} actions, {data['models']} models"
    return [
        Row(
            f"codegen, full, ms ({scale})",
            f"{data['full_ms']:.0f}",
            "",
            "",
            "< 1000 ms",
            data["full_ms"] < 1000,
        ),
        Row(
            "codegen, no-op regeneration, ms (files written)",
            f"{data['noop_ms']:.0f} ({data['noop_files_written']})",
            "",
            "",
            "< 300 ms, 0 files",
            data["noop_ms"] < 300 and data["noop_files_written"] == 0,
        ),
    ]


def backlog_rows(data: dict[str, Any]) -> list[Row]:
    results = data["results"]
    before = results["--backlog 100 (hypercorn default)"]
    after = results[f"--backlog {data['backlog']} (default)"]
    return [
        Row(
            f"belay serve reconnect storm: of {data['connects']} connects at once, "
            "delayed >= 1 s (vs hypercorn's backlog 100)",
            f"{after['connects_delayed_1s']:.0f}",
            f"{before['connects_delayed_1s']:.0f}",
            "",
            "0 delayed",
            after["connects_delayed_1s"] == 0 and after["failed"] == 0,
        )
    ]


def hardening_rows(data: dict[str, Any]) -> list[Row]:
    belay, bare, settings = data["belay"], data["no body timeout"], data["settings"]
    fuzz, bare_fuzz = belay["fuzz"], bare["fuzz"]
    slow, bare_slow = belay["slow_bodies"], bare["slow_bodies"]

    def dropped(figures: dict[str, Any]) -> str:
        seconds = figures["dropped_after_s"]
        return f"{seconds:.2f}" if seconds is not None else f"never (> {settings['cap']:g})"

    def memory(figures: dict[str, Any]) -> str:
        return f"{figures['rss_before_mb']:.0f} -> {figures['rss_peak_mb']:.0f} -> " + (
            f"{figures['rss_after_mb']:.0f}"
        )

    def kept(figures: dict[str, Any]) -> float:
        grown = figures["rss_peak_mb"] - figures["rss_before_mb"]
        return (figures["rss_after_mb"] - figures["rss_before_mb"]) / grown if grown else 0.0

    clean = fuzz["unanswered"] == 0 and fuzz["5xx"] == 0 and fuzz["traceback"] == 0
    return [
        Row(
            f"fuzz: requests unanswered after {settings['watchdog']:g} s, of {fuzz['requests']} "
            f"(5xx, tracebacks: {fuzz['5xx']}, {fuzz['traceback']}; vs no body timeout)",
            f"{fuzz['unanswered']}",
            f"{bare_fuzz['unanswered']}",
            "",
            "0, no 5xx, no traceback",
            clean,
        ),
        Row(
            f"64 stalled 1 MB bodies: s until dropped (body_timeout={settings['body_timeout']:g}"
            " s; vs none)",
            dropped(slow),
            dropped(bare_slow),
            "",
            "<= body_timeout + 2 s",
            slow["dropped_after_s"] is not None
            and slow["dropped_after_s"] <= settings["body_timeout"] + 2,
        ),
        Row(
            "64 stalled 1 MB bodies: server RSS MB before -> stalled -> after"
            " (share of growth kept)",
            f"{memory(slow)} ({kept(slow):.0%})",
            f"{memory(bare_slow)} ({kept(bare_slow):.0%})",
            f"{kept(slow) / kept(bare_slow):.2f}x" if kept(bare_slow) else "",
            "",
            None,
        ),
    ]


def progress_rows(data: dict[str, Any]) -> list[Row]:
    medians = data["medians"]
    base = medians["plain"]
    return [
        Row(
            f"streaming sideeffect items/s, on_disconnect={name} (vs a passthrough stream)",
            f"{medians[key]:,.0f}",
            f"{base:,.0f}",
            f"{medians[key] / base:.2f}x",
            ">= 0.7x",
            medians[key] / base >= 0.7,
        )
        for key, name in (("finishing", '"finish"'), ("cancelling", '"cancel"'))
    ]


def machine() -> str:
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} cores ({model}), Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}; load average at the end: {load}"
    )


def table(rows: list[Row]) -> str:
    lines = [
        "| measure | Belay | baseline | ratio | target | |",
        "|---|---:|---:|---:|---|---|",
    ]
    for row in rows:
        mark = "" if row.met is None else ("met" if row.met else "**missed**")
        cells = (row.measure, row.belay, row.baseline, row.ratio, row.target, mark)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (a smoke run)")
    parser.add_argument("--write", action="store_true", help=f"record the table in {RESULTS}")
    args = parser.parse_args()
    quick = args.quick
    started = datetime.datetime.now(datetime.UTC)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        rows += action_rows(
            run("bench_actions.py", out / "a.json", *(["--rounds", "2"] if quick else []))
        )
        rows += stream_rows(
            run(
                "bench_streams.py",
                out / "s.json",
                *(["--events", "50000", "--rounds", "1", "--idle", "500"] if quick else []),
            )
        )
        rows += fanout_rows(
            run(
                "bench_fanout.py",
                out / "f.json",
                *(["--streams", "2000", "--rounds", "5", "--repeat", "1"] if quick else []),
            )
        )
        rows += reload_rows(
            run("bench_reload.py", out / "r.json", "--edits", "5" if quick else "9")
        )
        rows += shutdown_rows(
            run("bench_shutdown.py", out / "sd.json", *(["--rounds", "1"] if quick else []))
        )
        rows += render_reload_rows(run("bench_render_reload.py", out / "rr.json"))
        rows += codegen_rows(run("bench_codegen.py", out / "c.json"))
        rows += backlog_rows(
            run("bench_backlog.py", out / "b.json", "--rounds", "1" if quick else "3")
        )
        rows += channel_rows(
            run("bench_channels.py", out / "ch.json", *(["--quick"] if quick else []))
        )
        rows += hardening_rows(
            run("bench_hardening.py", out / "h.json", *(["--quick"] if quick else []))
        )
        rows += live_rows(
            run("bench_live.py", out / "live.json", "--rounds", "2" if quick else "5")
        )
        rows += progress_rows(
            run("bench_progress.py", out / "p.json", "--rounds", "2" if quick else "5")
        )
    summary = table(rows)
    print("\n" + summary)
    if args.write:
        RESULTS.write_text(
            "# Benchmark results\n\n"
            f"Measured {started:%Y-%m-%d %H:%M} UTC by `scripts/bench` on {machine()}.\n"
            "Every ratio compares figures measured side by side in this one run; the machine\n"
            "is shared, so absolute numbers move between runs more than the ratios do.\n\n"
            f"{summary}\n\n"
            "## Each benchmark's own report (same run)\n\n" + "\n".join(DETAILS)
        )
        print(f"\nwrote {RESULTS}")
    return 0 if all(row.met is not False for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
