"""JSON bytes for what goes on the wire: orjson, with the stdlib as the fallback.

orjson refuses integers outside the 64-bit range, but pydantic accepts any
integer in a body field, and JSON has no limit either: an action that echoed
such a value answered 500. Those values (rare) are encoded by the stdlib, ASCII-
escaped, so the same value always gets an answer; everything else stays on
orjson's fast path.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import orjson


def dump_json(value: Any, default: Callable[[Any], Any] | None = None) -> bytes:
    """``value`` (JSON-ready data) as compact JSON bytes, integers of any size included."""
    try:
        return orjson.dumps(value, default=default)
    except orjson.JSONEncodeError:
        text = json.dumps(value, default=default, separators=(",", ":"), allow_nan=False)
        return text.encode()
