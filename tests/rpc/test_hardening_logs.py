"""Exception text in Belay's logs cannot forge log lines (CR, LF, control characters)."""

from __future__ import annotations

import logging

import anyio
import httpx
import pytest

from rpc.errors import render_error
from streams.logtext import escape_control, log_exception
from tests.e2e.hardening_apps import build_hardening_app
from tests.support.polling import poll_until
from tests.support.server import running_server

pytestmark = pytest.mark.anyio

FORGED = "x\r\nCRITICAL root: admin password changed\x1b[2K"
FORMAT = logging.Formatter("%(levelname)s %(name)s: %(message)s")


def formatted(records: list[logging.LogRecord], name: str) -> str:
    texts = [FORMAT.format(r) for r in records if r.name == name]
    assert texts, f"nothing logged on {name!r}"
    return "\n".join(texts)


def assert_not_forged(text: str) -> None:
    lines = text.splitlines()
    assert not any(line.startswith("CRITICAL") for line in lines), text
    assert "\r" not in text
    assert "\x1b" not in text
    assert "x\\r\\nCRITICAL root: admin password changed\\x1b[2K" in text


def test_hardening_logs_escape_control_writes_escapes() -> None:
    assert escape_control("a\r\nb\tc\x00\x1b\x7f\x85\u2028é") == (
        "a\\r\\nb\\tc\\x00\\x1b\\x7f\\x85\\u2028é"
    )


def test_hardening_logs_unhandled_error_is_escaped_and_keeps_its_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    try:
        try:
            raise KeyError(FORGED)
        except KeyError as inner:
            raise ValueError(FORGED) from inner
    except ValueError as exc:
        payload = render_error(exc)
    assert payload.status == 500
    text = formatted(caplog.records, "belay.rpc")
    assert_not_forged(text)
    # Still a readable multi-line traceback, cause first, each frame on its own line.
    assert text.count("Traceback (most recent call last):\n") == 2
    assert "The above exception was the direct cause" in text
    assert '  File "' in text
    assert ", in test_hardening_logs_unhandled" in text
    record = next(r for r in caplog.records if r.name == "belay.rpc")
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], ValueError)
    assert record.funcName == "render_error"  # the caller, not the helper


def test_hardening_logs_notes_and_message_are_escaped(caplog: pytest.LogCaptureFixture) -> None:
    error = RuntimeError("plain")
    error.add_note(FORGED)
    log_exception(logging.getLogger("belay.rpc"), f"while serving {FORGED}", error)
    text = formatted(caplog.records, "belay.rpc")
    assert_not_forged(text)
    assert "while serving x\\r\\n" in text


def test_hardening_logs_respect_the_level(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.CRITICAL, logger="belay.rpc")
    log_exception(logging.getLogger("belay.rpc"), "quiet", RuntimeError("x"))
    assert not [r for r in caplog.records if r.name == "belay.rpc"]


async def test_hardening_logs_action_error_with_request_data(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = build_hardening_app()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        response = await http.post("/internal/api/BoardController/explode", params={"text": FORGED})
    assert response.status_code == 500
    assert "CRITICAL" not in response.text  # nor in the answer: no traceback, no message
    assert_not_forged(formatted(caplog.records, "belay.rpc"))


# asyncio only: leaving a live httpx stream early leaves httpx's inner async
# generators to the GC, which trio reports (a warning, so an error here).
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_hardening_logs_stream_cleanup_error_with_request_data(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A generator whose cleanup raises after the client left is logged by ``belay.streams``."""
    with running_server(build_hardening_app()) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
            with anyio.fail_after(10):
                async with http.stream(
                    "POST", "/internal/api/BoardController/leaky", params={"text": FORGED}
                ) as response:
                    async for line in response.aiter_lines():
                        if line.startswith("data:"):
                            break
        # polled: the log is written by the server's thread
        await poll_until(
            lambda: [r for r in caplog.records if r.name == "belay.streams"],
            within=10,
            what="the cleanup error logged",
        )
    assert_not_forged(formatted(caplog.records, "belay.streams"))
