"""A hypercorn process serving the streaming fixture app, as ``belay serve`` will.

Usage: python -m tests.e2e.stream_server REPORT_PATH GRACEFUL_TIMEOUT

Binds 127.0.0.1 on a free port, prints it, and serves with
``hypercorn.asyncio.serve(app, config, shutdown_trigger=streams.shutdown_trigger(
app.stream_registry))`` until SIGTERM or SIGINT. On exit it writes, as JSON to REPORT_PATH, the
``StreamCounters`` snapshot (generators opened and finalised, dependency
cleanups, cleanups that came too early) and ``shutdown_s``: the seconds from
the signal to ``serve()`` returning (the process exit adds interpreter teardown).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from hypercorn.asyncio import serve

from streams import shutdown_trigger
from streams.shutdown import wait_for_signal
from tests.e2e.stream_apps import build_stream_app
from tests.support.server import bound_socket, make_config


def main() -> None:
    report, graceful = sys.argv[1], float(sys.argv[2])
    app, counters = build_stream_app()
    sock = bound_socket()  # connections queue (backlog 2048) until hypercorn accepts them
    config = make_config(sock.fileno(), graceful_timeout=graceful, backlog=2048)
    print(sock.getsockname()[1], flush=True)
    signalled: list[float] = []

    async def wait() -> None:
        await wait_for_signal()
        signalled.append(time.perf_counter())

    trigger = shutdown_trigger(app.stream_registry, wait=wait)
    asyncio.run(serve(app, config, shutdown_trigger=trigger))  # type: ignore[arg-type]
    shutdown = time.perf_counter() - signalled[0]
    with open(report, "w") as file:
        counts = {**counters.snapshot(), "open": app.stream_registry.open_count}
        json.dump({"counts": counts, "shutdown_s": shutdown}, file)


if __name__ == "__main__":
    main()
