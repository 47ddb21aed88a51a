"""Running code in a fresh Python interpreter, for what one process cannot show.

Import side effects (which modules a package loads) and cross-process output
need an interpreter that has imported nothing yet.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def fresh_python(code: str) -> str:
    """What a fresh interpreter (in the repo, so its packages import) prints running ``code``."""
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
        check=True,
    )
    return done.stdout
