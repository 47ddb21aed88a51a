"""A hypercorn process serving the streaming fixture app, as ``belay serve`` will.

Usage: python -m tests.e2e.stream_server REPORT_PATH GRACEFUL_TIMEOUT

Binds 127.0.0.1 on a free port, prints it, and serves with
``hypercorn.asyncio.serve(app, config, shutdown_trigger=streams.shutdown_trigger(
app.stream_registry))`` until SIGTERM or SIGINT. On exit it writes, as JSON to REPORT_PATH, the
``StreamCounters`` snapshot (generators opened and finalised, dependency
cleanups, cleanups that came too early) and the count of streams still open.
"""

from __future__ import annotations

import asyncio
import json
import sys

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
    trigger = shutdown_trigger(app.stream_registry, wait=wait_for_signal)
    asyncio.run(serve(app, config, shutdown_trigger=trigger))  # type: ignore[arg-type]
    with open(report, "w") as file:
        json.dump({**counters.snapshot(), "open": app.stream_registry.open_count}, file)


if __name__ == "__main__":
    main()
