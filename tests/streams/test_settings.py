from __future__ import annotations

import math

import pytest

from streams.registry import StreamRegistry
from streams.settings import StreamSettings


@pytest.mark.parametrize("interval", [0, -1, math.inf, math.nan])
def test_settings_reject_non_positive_ping_interval(interval: float) -> None:
    # sse-starlette 3.4 busy-looped on 0: refuse it up front.
    with pytest.raises(ValueError, match="ping_interval"):
        StreamSettings(ping_interval=interval)


def test_settings_reject_bad_send_timeout_and_buffer() -> None:
    with pytest.raises(ValueError, match="send_timeout"):
        StreamSettings(send_timeout=0)
    with pytest.raises(ValueError, match="max_pending"):
        StreamSettings(max_pending=0)
    assert StreamSettings(send_timeout=None).send_timeout is None


def test_registry_rejects_bad_cap_and_starts_empty() -> None:
    with pytest.raises(ValueError, match="max_streams"):
        StreamRegistry(max_streams=0)
    assert StreamRegistry().open_count == 0
