"""ChangeFilter and watch-path merging: pure logic, no disk."""

from __future__ import annotations

from pathlib import Path

from devserver.changes import ChangeFilter, ChangeKind, FileChange, merge_watch_paths

ROOT = Path("/project/shop")


def make_filter(files: dict[Path, bytes]) -> ChangeFilter:
    changes = ChangeFilter(read=files.get)
    changes.remember(files)
    return changes


def modified(path: Path) -> frozenset[FileChange]:
    return frozenset({FileChange(ChangeKind.MODIFIED, path)})


def test_merge_watch_paths_keeps_parent_once() -> None:
    merged = merge_watch_paths(
        [ROOT / "models", ROOT, ROOT / "models" / "deep", Path("/project/lib"), ROOT]
    )
    assert merged == [Path("/project/lib"), ROOT]


def test_merge_watch_paths_keeps_siblings_with_common_prefix() -> None:
    merged = merge_watch_paths([Path("/project/shop"), Path("/project/shop2")])
    assert merged == [Path("/project/shop"), Path("/project/shop2")]


def test_filter_ignores_identical_rewrite() -> None:
    files = {ROOT / "base.py": b"VALUE = 1\n"}
    changes = make_filter(files)
    assert changes.decide(modified(ROOT / "base.py")).reload == ()
    files[ROOT / "base.py"] = b"VALUE = 2\n"
    assert changes.decide(modified(ROOT / "base.py")).reload == (ROOT / "base.py",)
    assert changes.decide(modified(ROOT / "base.py")).reload == ()


def test_filter_ignores_non_python_files() -> None:
    files = {ROOT / "notes.txt": b"a", ROOT / "base.py~": b"b"}
    changes = make_filter({})
    batch = frozenset(FileChange(ChangeKind.ADDED, path) for path in files)
    assert changes.decide(batch).reload == ()


def test_filter_blocks_on_syntax_error_and_reports_once() -> None:
    files = {ROOT / "base.py": b"VALUE = 1\n", ROOT / "app.py": b"X = 1\n"}
    changes = make_filter(files)
    files[ROOT / "base.py"] = b"VALUE = (\n"
    first = changes.decide(modified(ROOT / "base.py"))
    assert first.blocked
    assert first.reload == ()
    assert [p.path for p in first.new_problems] == [ROOT / "base.py"]
    assert first.new_problems[0].line == 1

    files[ROOT / "app.py"] = b"X = 2\n"  # a good save elsewhere waits for the fix
    second = changes.decide(modified(ROOT / "app.py"))
    assert second.blocked
    assert second.new_problems == ()
    assert changes.decide(modified(ROOT / "base.py")).new_problems == ()  # same bytes: silent

    files[ROOT / "base.py"] = b"VALUE = 3\n"
    fixed = changes.decide(modified(ROOT / "base.py"))
    assert not fixed.blocked
    assert fixed.reload == (ROOT / "app.py", ROOT / "base.py")


def test_filter_reloads_deleted_and_added_files() -> None:
    files = {ROOT / "base.py": b"VALUE = 1\n"}
    changes = make_filter(files)
    del files[ROOT / "base.py"]
    gone = frozenset({FileChange(ChangeKind.DELETED, ROOT / "base.py")})
    assert changes.decide(gone).reload == (ROOT / "base.py",)
    files[ROOT / "new.py"] = b"NEW = 1\n"
    added = frozenset({FileChange(ChangeKind.ADDED, ROOT / "new.py")})
    assert changes.decide(added).reload == (ROOT / "new.py",)
