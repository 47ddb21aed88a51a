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
