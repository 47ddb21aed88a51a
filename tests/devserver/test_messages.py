"""The control protocol: every message survives a JSON-line round trip."""

from __future__ import annotations

import pytest

from devserver.messages import (
    Message,
    Notify,
    Preload,
    ProtocolError,
    Ready,
    ReloadDone,
    ReloadFailed,
    ReloadModules,
    Shutdown,
    Start,
    Started,
    StartFailed,
    decode_message,
    encode_message,
)

MESSAGES: list[Message] = [
    Preload(("starlette", "pydantic")),
    Start("shop.app:app", ("/p/shop",), "", ("dev.test",), "127.0.0.1", request_log=False),
    Notify('{"type": "reload", "modules": ["shop.base"]}'),
    ReloadModules(("/p/shop/base.py",)),
    Shutdown(),
    Ready(12),
    Started(12, 101.5, ("sqlalchemy",), ("out/index.ts",)),
    StartFailed("module 'x' not found", "", not_found=True),
    ReloadDone(("shop.base",), 1.25, (), ""),
    ReloadFailed("shop/base.py:3: NameError: x", "Traceback...", needs_restart=True),
]


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: type(m).__name__)
def test_messages_round_trip(message: Message) -> None:
    line = encode_message(message)
    assert line.endswith(b"\n")
    assert line.count(b"\n") == 1
    assert decode_message(line) == message


@pytest.mark.parametrize(
    "line", [b"nope\n", b'{"type": "Bogus"}\n', b'{"type": "Ready"}\n', b"[]\n"]
)
def test_messages_reject_unknown_lines(line: bytes) -> None:
    with pytest.raises(ProtocolError):
        decode_message(line)
