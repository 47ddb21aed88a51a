"""Finding the RPCApps inside whatever ASGI app ``belay`` serves.

An RPCApp may be the app itself, mounted in a Starlette/FastAPI app
(``.routes``), or wrapped by ASGI middleware (``.app``: Starlette's own
middleware, OpenTelemetry's and Sentry's all keep the wrapped app there), in
any nesting. Everything that acts on RPCApps (debug, stream closing, codegen)
finds them here.

rpc is never imported here: an RPCApp is recognised by its class name and
module, so the dev server also works for apps that do not use rpc at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def is_rpc_app(obj: object) -> bool:
    """True for an ``rpc.RPCApp``."""
    cls = type(obj)
    return cls.__name__ == "RPCApp" and cls.__module__.split(".")[0] == "rpc"


def walk_apps(app: object) -> Iterator[tuple[str, Any]]:
    """``app`` and every app below it (breadth first), with the path it is mounted under.

    ``Mount("/api", app=rpc_app)`` serves the RPCApp's routes under ``/api``, so
    a client must prepend it; nested mounts add up, middleware adds nothing. An
    RPCApp is yielded but not searched further.
    """
    seen: set[int] = set()
    todo: list[tuple[str, object]] = [("", app)]
    while todo:
        mount, obj = todo.pop(0)
        if obj is None or id(obj) in seen:
            continue
        seen.add(id(obj))
        yield mount, obj
        if is_rpc_app(obj):
            continue
        todo.append((mount, getattr(obj, "app", None)))
        routes = getattr(obj, "routes", None)
        if isinstance(routes, list):
            for route in routes:
                path = getattr(route, "path", "")  # a Mount's path; a Host has none
                below = mount + path if isinstance(path, str) else mount
                todo.append((below, getattr(route, "app", None)))


def find_mounted_rpc_apps(app: object) -> list[tuple[str, Any]]:
    """Every RPCApp in ``app`` (see :func:`walk_apps`), with its mount path ("" at the root)."""
    return [(mount, obj) for mount, obj in walk_apps(app) if is_rpc_app(obj)]


def find_rpc_apps(app: object) -> list[Any]:
    """Every RPCApp in ``app``: itself, mounted inside it, or wrapped by middleware."""
    return [rpc_app for _, rpc_app in find_mounted_rpc_apps(app)]


def set_debug(app: object, *, debug: bool) -> int:
    """Set ``debug`` on every RPCApp in ``app``; how many there were."""
    apps = find_rpc_apps(app)
    for rpc_app in apps:
        rpc_app.debug = debug
    return len(apps)


def disable_debug(app: object) -> int:
    """Turn ``debug`` off on every app in ``app`` that has one; how many had it on.

    Not only RPCApps: a Starlette or FastAPI app with ``debug=True`` serves a
    traceback page too.
    """
    switched = 0
    for _, obj in walk_apps(app):
        if getattr(obj, "debug", None) is True:
            obj.debug = False
            switched += 1
    return switched


def close_streams(app: object) -> None:
    """Ask every RPCApp in ``app`` to close its open streams now; never waits.

    Their generators' cleanups run in the streams' own tasks; no ``end`` event
    is sent, so tracked clients reconnect and resume.
    """
    for rpc_app in find_rpc_apps(app):
        registry = getattr(rpc_app, "stream_registry", None)
        if registry is not None:
            registry.close_all_nowait()
