"""The browser snippet (``static/belay-dev.js``) with the notify address filled in."""

from __future__ import annotations

from pathlib import Path

import orjson

from devserver.messages import Start

SNIPPET_FILE = "belay-dev.js"


def snippet_text() -> str:
    """The snippet as shipped."""
    return (Path(__file__).parent / "static" / SNIPPET_FILE).read_text(encoding="utf-8")


def snippet_source(start: Start) -> bytes:
    """The snippet preceded by the websocket address of this dev server."""
    if not start.notify_url:
        return b""
    prefix = b"window.__BELAY_DEV_WS__ = " + orjson.dumps(start.notify_url) + b";\n"
    return prefix + snippet_text().encode()
