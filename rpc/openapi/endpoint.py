"""Serving the document at ``RPCApp(openapi_url=...)``: built on first request, then cached."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import anyio
import orjson
from starlette.types import Scope, Send

from rpc.errors import HTTPError
from rpc.responses import send_body
from rpcmeta import DescriptionError

logger = logging.getLogger("belay.rpc")


class OpenAPIEndpoint:
    """``GET openapi_url``: the app's OpenAPI document as JSON.

    ``build`` (which describes the app: pydantic schema work, tens of
    milliseconds on a large app) runs once, in a worker thread, on the first
    request; concurrent first requests wait for that one build (an error is
    not cached: the next request tries again). Under a mount
    (``root_path``), the document names the mount in ``servers``.
    """

    def __init__(self, build: Callable[[], dict[str, Any]]) -> None:
        self._build = build
        # A thread lock, taken in the worker thread: no event-loop primitive, so the
        # app may be built under one loop (or none) and served under another.
        self._lock = threading.Lock()
        self._document: dict[str, Any] | None = None
        self._body = b""

    async def __call__(self, scope: Scope, send: Send) -> None:
        if scope["method"] not in ("GET", "HEAD"):
            raise HTTPError(
                405, "the OpenAPI document is read with GET", headers={"Allow": "GET, HEAD"}
            )
        document = self._document
        if document is None:
            document = await anyio.to_thread.run_sync(self._build_once)
        root = scope.get("root_path", "")
        body = self._body if not root else orjson.dumps({**document, "servers": [{"url": root}]})
        await send_body(send, 200, body)

    def _build_once(self) -> dict[str, Any]:
        with self._lock:
            if self._document is None:
                try:
                    document = self._build()
                except DescriptionError as exc:
                    logger.error("cannot build the OpenAPI document: %s", exc)
                    raise HTTPError(500, f"cannot build the OpenAPI document: {exc}") from None
                self._body = orjson.dumps(document)
                self._document = document
            return self._document
