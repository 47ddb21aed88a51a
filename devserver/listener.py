"""Where ``belay`` listens: the listening sockets and the hypercorn config.

Every server ``belay`` starts (the dev app process, the production workers)
gets its config from :func:`hypercorn_config`, and its socket from
:func:`bind_socket` or hypercorn's ``create_sockets`` with the same backlog.
"""

from __future__ import annotations

import socket
from typing import Any

# A reconnect storm (every open tab retrying after a restart) arrives at once.
# hypercorn's default backlog of 100 overflows under it, and each dropped SYN
# is retried by the client's kernel after 1 s, then 3 s.
BACKLOG = 2048


def bind_socket(host: str, port: int, *, backlog: int = BACKLOG) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0: any free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
        sock.listen(backlog)
    except OSError:
        sock.close()
        raise
    return sock


def hypercorn_config(
    binds: list[str],
    *,
    access_log: bool,
    graceful_timeout: float,
    backlog: int = BACKLOG,
    loglevel: str = "INFO",
) -> Any:
    """A hypercorn ``Config`` for ``binds`` (``host:port`` or ``fd://N``); errors go to stderr."""
    from hypercorn.config import Config

    config = Config()
    config.bind = binds
    config.backlog = backlog
    config.accesslog = "-" if access_log else None
    config.errorlog = "-"
    config.loglevel = loglevel
    config.graceful_timeout = graceful_timeout
    return config
