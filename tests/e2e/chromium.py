"""Debian's Chromium for the browser tests, driven by the Python ``playwright`` package.

Nothing is downloaded: ``scripts/test`` installs the system ``chromium`` when it
runs as root with apt, and the ``browser`` extra brings playwright. Test modules
call ``require_chromium()`` at import, which skips them, saying why, without either.
"""

from __future__ import annotations

import shutil

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def require_chromium() -> str:
    """The Chromium binary; skips the calling module when it or playwright is missing."""
    pytest.importorskip(
        "playwright.sync_api", reason="the playwright package (browser extra) is not installed"
    )
    if CHROMIUM is None:
        pytest.skip(
            "no chromium on PATH: install Debian's chromium (scripts/test does as root)",
            allow_module_level=True,
        )
    return CHROMIUM
