"""``--reload-on`` patterns, project-relative paths and the default watch's skipped folders."""

from __future__ import annotations

import asyncio
from pathlib import Path

import anyio
import pytest

from devserver.assets import AssetWatch, ReloadPattern, project_path
from devserver.changes import in_skipped_dir
from tests.devserver.userpkg import write

pytestmark = pytest.mark.anyio


def test_pattern_folder_glob_and_file(tmp_path: Path) -> None:
    (tmp_path / "static").mkdir()
    write(tmp_path / "index.html", "<p>")
    folder = ReloadPattern.parse("static/", cwd=tmp_path)
    assert folder.matches(tmp_path / "static" / "sub" / "app.js")
    assert not folder.matches(tmp_path / "other" / "app.js")
    js = ReloadPattern.parse("frontend/dist/*.js", cwd=tmp_path)
    assert js.base == tmp_path / "frontend" / "dist"
    assert js.watched == tmp_path  # dist/ does not exist yet: its nearest parent is watched
    assert js.matches(tmp_path / "frontend" / "dist" / "main.js")
    assert not js.matches(tmp_path / "frontend" / "dist" / "main.css")
    page = ReloadPattern.parse("index.html", cwd=tmp_path)
    assert page.matches(tmp_path / "index.html")
    assert not page.matches(tmp_path / "other.html")


def test_project_path_is_never_absolute(tmp_path: Path) -> None:
    assert project_path(tmp_path / "static" / "a.js", tmp_path) == "static/a.js"
    assert project_path(Path("/elsewhere/secret/a.js"), tmp_path) == "a.js"


def test_default_watch_skips_environments_and_build_output(tmp_path: Path) -> None:
    root = tmp_path / "build" / "project"  # a project inside a folder named build: watched
    for skipped in [".venv", "venv", "node_modules", ".git", "__pycache__", "build", "dist"]:
        assert in_skipped_dir(root / skipped / "pkg" / "mod.py", [root])
    assert not in_skipped_dir(root / "shop" / "models.py", [root])
    assert not in_skipped_dir(root / "shop" / "build.py", [root])


async def test_asset_watch_reports_matching_files_relative(tmp_path: Path) -> None:
    (tmp_path / "dist").mkdir()
    stop = asyncio.Event()
    patterns = [ReloadPattern.parse("dist/*.js", cwd=tmp_path)]
    watch = AssetWatch(patterns, cwd=tmp_path, stop_event=stop, debounce_ms=50, step_ms=10)
    batches: list[tuple[str, ...]] = []
    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:

            async def collect() -> None:
                async for files in watch:
                    batches.append(files)
                    stop.set()

            tg.start_soon(collect)
            write(tmp_path / "dist" / "main.css", "p {}")
            write(tmp_path / "dist" / "main.js", "1")
    assert batches == [("dist/main.js",)]
