"""streams stands alone: none of Belay's other packages, and no sse-starlette import."""

from __future__ import annotations

import subprocess
import sys


def test_streams_imports_no_other_belay_package_and_no_sse_starlette() -> None:
    code = (
        "import sys, streams\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "{'rpc', 'codegen', 'devserver', 'sse_starlette', 'uvicorn'}]\n"
        "print(','.join(sorted(bad)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=30
    )
    assert result.stdout.strip() == ""


def test_streams_all_is_the_user_api_not_the_machinery() -> None:
    import streams

    assert set(streams.__all__) == {
        "tracked",
        "LastEventId",
        "shutdown_trigger",
        "Channel",
        "Reset",
    }
    machinery = {
        "EventStream",
        "StreamRegistry",
        "StreamSettings",
        "ErrorPayload",
        "frame_data",
        "Broker",
        "open_broker",
        "Delivery",
        "DeliveryRun",
        "parse_position",
    }
    assert machinery.isdisjoint(dir(streams))
    assert [name for name in streams.__all__ if not hasattr(streams, name)] == []
