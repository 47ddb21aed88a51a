"""The one place that drives watchfiles' Rust notifier.

Both ``.py`` reloads (:class:`devserver.changes.WatchfilesSource`) and
``--reload-on`` assets (:class:`devserver.assets.AssetWatch`) use
watchfiles' ``RustNotify`` (the engine under its public ``awatch``) instead
of ``awatch``: ``awatch`` creates its notifier on the first iteration, but the
dev server takes its content-hash baseline right after constructing a watch
and only iterates once the app process serves, so a save in between would be
lost. Creating the notifier in the constructor closes that gap. Every
argument is passed by name, with the values ``awatch`` would use, so a
signature change fails loudly.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Sequence
from pathlib import Path

import anyio.to_thread
from watchfiles._rust_notify import RustNotify


class FileNotifier:
    """Raw change batches (``{(change kind, path), ...}``) under ``paths``, recursively.

    ``step_ms`` is how long the filesystem must stay quiet before a batch is
    yielded; ``debounce_ms`` caps how long one batch may keep growing.
    """

    def __init__(
        self,
        paths: Sequence[Path | str],
        *,
        stop_event: asyncio.Event | None,
        debounce_ms: int,
        step_ms: int,
    ) -> None:
        self._notify = RustNotify(
            watch_paths=[str(path) for path in paths],
            debug=False,
            force_polling=False,  # native events (inotify); polling only where awatch would
            poll_delay_ms=300,  # awatch's default; unused without polling
            recursive=True,
            ignore_permission_denied=False,  # an unreadable watched dir is an error to show
        )
        # One bounded wait in a worker thread per call; 1 s timeouts let a
        # cancelled watch (Ctrl-C) end within a second.
        self._watch = functools.partial(
            self._notify.watch,
            debounce_ms=debounce_ms,
            step_ms=step_ms,
            timeout_ms=1000,
            stop_event=stop_event,
        )

    async def next_batch(self) -> set[tuple[int, str]] | None:
        """The next non-empty batch, or None once ``stop_event`` is set."""
        while True:
            raw = await anyio.to_thread.run_sync(self._watch)
            if raw == "stop":
                return None
            if isinstance(raw, str):  # "timeout" (or a stray "signal"): keep watching
                continue
            return raw

    def close(self) -> None:
        """Stop watching (the owner calls this when its iteration ends)."""
        self._notify.close()
