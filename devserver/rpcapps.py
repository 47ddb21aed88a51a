"""Finding the RPCApps inside whatever ASGI app ``belay`` serves.

rpc is never imported here: an RPCApp is recognised by its class name and
module, so the dev server also works for apps that do not use rpc at all.
"""

from __future__ import annotations

from typing import Any


def is_rpc_app(obj: object) -> bool:
    """True for an ``rpc.RPCApp``."""
    cls = type(obj)
    return cls.__name__ == "RPCApp" and cls.__module__.split(".")[0] == "rpc"


def find_rpc_apps(app: object) -> list[Any]:
    """``app`` itself if it is an RPCApp, and every RPCApp mounted inside it (breadth first)."""
    return [rpc_app for _, rpc_app in find_mounted_rpc_apps(app)]


def find_mounted_rpc_apps(app: object) -> list[tuple[str, Any]]:
    """Like :func:`find_rpc_apps`, each with the path it is mounted under ("" at the root).

    ``Mount("/api", app=rpc_app)`` serves the RPCApp's routes under ``/api``, so a
    client must prepend it; nested mounts add up.
    """
    found: list[tuple[str, Any]] = []
    seen: set[int] = set()
    todo: list[tuple[str, object]] = [("", app)]
    while todo:
        mount, obj = todo.pop(0)
        if obj is None or id(obj) in seen:
            continue
        seen.add(id(obj))
        if is_rpc_app(obj):
            found.append((mount, obj))
            continue
        routes = getattr(obj, "routes", None)
        if isinstance(routes, list):
            for route in routes:
                path = getattr(route, "path", "")  # a Mount's path; a Host has none
                below = mount + path if isinstance(path, str) else mount
                todo.append((below, getattr(route, "app", None)))
    return found


def set_debug(app: object, debug: bool) -> int:
    """Set ``debug`` on every RPCApp in ``app``; how many there were."""
    apps = find_rpc_apps(app)
    for rpc_app in apps:
        rpc_app.debug = debug
    return len(apps)


def close_streams(app: object) -> None:
    """Ask every RPCApp in ``app`` to close its open streams now (their cleanups run)."""
    for rpc_app in find_rpc_apps(app):
        registry = getattr(rpc_app, "stream_registry", None)
        if registry is not None:
            registry.close_all_nowait()
