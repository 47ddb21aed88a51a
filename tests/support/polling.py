"""Waiting for a condition instead of sleeping: poll it under a watchdog.

A test that sleeps a fixed time and then checks is a race on a loaded machine;
these helpers check again and again until the condition holds, and fail with a
message naming what never happened once the (generous) timeout is past.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import anyio

T = TypeVar("T")

POLL_INTERVAL = 0.01  # seconds between checks: short next to any timeout used here


def wait_until(check: Callable[[], T | None], timeout: float, what: str) -> T:
    """Call ``check`` until it returns something truthy, and return that (blocking)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(POLL_INTERVAL)


async def poll_until(check: Callable[[], object], *, within: float, what: str) -> None:
    """Await until ``check()`` is truthy; an ``AssertionError`` naming ``what`` after ``within`` s.

    For state with no event to wait on (another thread's loop, a process, a counter).
    """
    try:
        with anyio.fail_after(within):
            while not check():  # noqa: ASYNC110 - nothing to await: the state has no event
                await anyio.sleep(POLL_INTERVAL)
    except TimeoutError:
        raise AssertionError(f"timed out after {within}s waiting for {what}") from None
