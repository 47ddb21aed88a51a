"""ReloadCoordinator driven by a fake change source: no disk, no sleeps, no processes.

The app side is a recording stand-in for the supervisor: it answers each call
with the next scripted reply and remembers what it was asked.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from devserver.changes import ChangeFilter, ChangeKind, FileChange
from devserver.console import Console
from devserver.coordinator import ReloadCoordinator
from devserver.messages import ReloadDone, ReloadFailed, Started, StartFailed

ROOT = Path("/project/shop")
BASE = ROOT / "base.py"


class ListSource:
    """A ChangeSource yielding prepared batches, each after an edit applied to ``files``."""

    def __init__(self, files: dict[Path, bytes], edits: list[tuple[Path, bytes]]) -> None:
        self.files = files
        self.edits = edits

    async def __aiter__(self) -> AsyncIterator[frozenset[FileChange]]:
        for path, content in self.edits:
            self.files[path] = content
            yield frozenset({FileChange(ChangeKind.MODIFIED, path)})


class ScriptedApp:
    def __init__(self, replies: list[Any]) -> None:
        self.replies = replies
        self.calls: list[tuple[str, tuple[Path, ...]]] = []
        self.dropped: list[Path] = []  # files whose stale .pyc the coordinator dropped

    async def reload(self, paths: tuple[Path, ...]) -> ReloadDone | ReloadFailed:
        self.calls.append(("reload", paths))
        reply = self.replies.pop(0)
        assert isinstance(reply, ReloadDone | ReloadFailed)
        return reply

    async def restart(self) -> Started | StartFailed:
        self.calls.append(("restart", ()))
        reply = self.replies.pop(0)
        assert isinstance(reply, Started | StartFailed)
        return reply


def run(
    edits: list[tuple[Path, bytes]], replies: list[Any]
) -> tuple[ScriptedApp, list[dict[str, Any]], str]:
    files = {BASE: b"VALUE = 1\n", ROOT / "app.py": b"from shop import base\n"}
    changes = ChangeFilter(read=files.get)
    changes.remember(list(files))
    app = ScriptedApp(replies)
    sent: list[dict[str, Any]] = []
    out = io.StringIO()

    async def notify(message: dict[str, Any]) -> None:
        sent.append(message)

    async def main() -> None:
        coordinator = ReloadCoordinator(
            changes=changes,
            app=app,
            console=Console(out),
            notify=notify,
            before_reload=app.dropped.append,
        )
        with anyio.fail_after(5):
            await coordinator.run(ListSource(files, edits))

    anyio.run(main)
    assert app.replies == [], "every scripted reply was used"
    return app, sent, out.getvalue()


DONE = ReloadDone(("shop.base", "shop.app"), 3.2, ("client/index.ts",), "")
STARTED = Started(pid=4242, ms=120.0, preload=("starlette",), codegen=())


def test_coordinator_reloads_and_notifies() -> None:
    app, sent, out = run([(BASE, b"VALUE = 2\n")], [DONE])
    assert app.calls == [("reload", (BASE,))]
    assert app.dropped == [BASE]
    assert sent == [
        {
            "type": "reload",
            "modules": ["shop.base", "shop.app"],
            "codegen": ["client/index.ts"],
            "restart": False,
        }
    ]
    assert "reloaded shop.base, shop.app in 3.2 ms" in out


def test_coordinator_identical_rewrite_does_nothing() -> None:
    app, sent, _ = run([(BASE, b"VALUE = 1\n")], [])
    assert app.calls == []
    assert sent == []


def test_coordinator_syntax_error_keeps_old_code_then_recovers() -> None:
    edits = [(BASE, b"VALUE = (\n"), (BASE, b"VALUE = (\n"), (BASE, b"VALUE = 3\n")]
    app, sent, out = run(edits, [DONE])
    assert app.calls == [("reload", (BASE,))]
    assert out.count("syntax error:") == 1
    assert "base.py:1: '(' was never closed" in out
    assert len(sent) == 1


def test_coordinator_module_level_error_restarts() -> None:
    failed = ReloadFailed(
        "shop/base.py:2: NameError: name 'x' is not defined", "tb", needs_restart=True
    )
    app, sent, out = run([(BASE, b"VALUE = x\n")], [failed, STARTED])
    assert [call[0] for call in app.calls] == ["reload", "restart"]
    assert "shop/base.py:2: NameError" in out
    assert "restarted the app process in 120 ms (pid 4242)" in out
    assert sent[0]["restart"] is True
    assert sent[0]["files"] == ["base.py"]  # never an absolute path; outside the cwd: the name


def test_coordinator_restart_message_paths_are_project_relative(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir("/")  # the project root, as far as paths go: /project/shop/base.py
    failed = ReloadFailed(
        "shop/base.py:2: NameError: name 'x' is not defined", "tb", needs_restart=True
    )
    _, sent, _ = run([(BASE, b"VALUE = x\n")], [failed, STARTED])
    assert sent[0]["files"] == ["project/shop/base.py"]


def test_coordinator_failed_restart_restarts_again_on_next_save() -> None:
    failed = ReloadFailed("shop/base.py:1: RuntimeError: boom", "tb", needs_restart=True)
    start_failed = StartFailed("shop/base.py:1: RuntimeError: boom", "tb", not_found=False)
    edits = [(BASE, b"raise RuntimeError('boom')\n"), (BASE, b"VALUE = 4\n")]
    app, sent, out = run(edits, [failed, start_failed, STARTED])
    assert [call[0] for call in app.calls] == ["reload", "restart", "restart"]
    assert "a fresh process fails the same way (still serving the previous code)" in out
    assert out.count("RuntimeError: boom") == 1, "the same error is printed once"
    assert len(sent) == 1


def test_coordinator_plain_reload_error_does_not_restart() -> None:
    failed = ReloadFailed("shop/base.py:1: SyntaxError", "", needs_restart=False)
    app, sent, out = run([(BASE, b"VALUE = 5\n")], [failed])
    assert [call[0] for call in app.calls] == ["reload"]
    assert sent == []
    assert "error: shop/base.py:1: SyntaxError" in out


@pytest.mark.parametrize("bad", [b"def f(:\n", b"x = 1\x00\n"])
def test_coordinator_never_sends_uncompilable_code(bad: bytes) -> None:
    app, _, out = run([(BASE, bad)], [])
    assert app.calls == []
    assert "syntax error:" in out


def test_coordinator_file_the_app_does_not_import_notifies_nobody() -> None:
    unused = ReloadDone((), 0.2, (), "")
    app, sent, out = run([(ROOT / "scratch.py", b"X = 1\n")], [unused])
    assert [call[0] for call in app.calls] == ["reload"]
    assert sent == []
    assert "nothing to reload" in out
