"""A frontend's own npm dependencies (React, Vite) for the tests, installed once into a cache.

``tests/codegen/frontend/package.json`` lists them; they are installed into
``$BELAY_TEST_CACHE`` (default ``~/.cache/belay-tests``) under a directory named
by that file's hash, so the suite installs only when the list changes. The
Belay runtime never depends on them: the repo's root package.json is tooling.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent / "frontend" / "package.json"


def cache_root() -> Path:
    default = Path.home() / ".cache" / "belay-tests"
    return Path(os.environ.get("BELAY_TEST_CACHE", str(default)))


def frontend_dir() -> Path:
    """A directory holding the frontend package.json and its installed node_modules.

    Skips the test when npm cannot reach its registry; any other install
    failure fails it.
    """
    digest = hashlib.sha256(PACKAGE.read_bytes()).hexdigest()[:16]
    target = cache_root() / f"frontend-{digest}"
    if (target / "node_modules" / ".belay-complete").exists():
        return target
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed: the frontend tests need React and Vite from npm")
    staging = target.with_name(target.name + f".{os.getpid()}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    shutil.copyfile(PACKAGE, staging / "package.json")
    done = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=staging,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        ping = subprocess.run([npm, "ping"], capture_output=True, timeout=60, check=False)
        if ping.returncode != 0:
            pytest.skip("npm registry unreachable: cannot install React and Vite for this test")
        raise AssertionError(f"npm install of the frontend packages failed:\n{done.stderr}")
    (staging / "node_modules" / ".belay-complete").write_text("ok\n")
    if target.exists():  # another run finished first
        shutil.rmtree(staging, ignore_errors=True)
    else:
        staging.rename(target)
    return target
