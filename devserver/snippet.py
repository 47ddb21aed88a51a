"""The browser snippet (``static/belay-dev.js``), served at ``/__belay/dev.js``."""

from __future__ import annotations

from pathlib import Path

SNIPPET_FILE = "belay-dev.js"


def snippet_text() -> str:
    """The snippet as shipped."""
    return (Path(__file__).parent / "static" / SNIPPET_FILE).read_text(encoding="utf-8")
