"""Debian's Chromium, headless, driven by playwright: for the browser tests.

Nothing is downloaded: playwright (the ``browser`` extra) drives the system
``chromium``, which ``scripts/test`` installs when it runs as root with apt.
"""

from __future__ import annotations

import shutil
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# No sandbox (containers lack the namespaces) and no background traffic of its own.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def playwright_or_skip() -> Any:
    """``playwright.sync_api``; skips the calling test module without it or without chromium.

    Call at module level: the skip covers the whole module.
    """
    api = pytest.importorskip(
        "playwright.sync_api", reason="the playwright package (browser extra) is not installed"
    )
    if CHROMIUM is None:
        pytest.skip(
            "no chromium on PATH: install Debian's chromium (scripts/test does as root)",
            allow_module_level=True,
        )
    return api


def launch_chromium(playwright: Any) -> Any:
    """A headless system Chromium from a started ``sync_playwright()``; the caller closes it."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
