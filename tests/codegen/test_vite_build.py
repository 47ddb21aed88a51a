"""A create-vite ``react-ts`` app builds with the generated client: ``npm run build``.

The template's files (``tests/codegen/vite``: ``erasableSyntaxOnly``,
``verbatimModuleSyntax``, ``strict``, bundler resolution ... as create-vite
writes them) get the generated client with react.ts in ``src/generated``, and
``tsc -b && vite build`` must succeed. Vite, React and TypeScript come from the
frontend cache (tests/codegen/frontend.py).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from codegen import generate_client
from rpc.description import describe_app
from tests.codegen.fixture_app import build_app
from tests.codegen.frontend import PACKAGE, frontend_dir

TEMPLATE = Path(__file__).resolve().parent / "vite"

pytestmark = [pytest.mark.slow]


def link_modules(app: Path, modules: Path) -> None:
    """A real node_modules whose entries link to the cache: tsc -b and vite write
    their own ``.tmp``/``.vite`` files here, not into the shared cache."""
    local = app / "node_modules"
    local.mkdir()
    for entry in modules.iterdir():
        if entry.name not in (".tmp", ".vite", ".package-lock.json"):
            (local / entry.name).symlink_to(entry)


def test_vite_react_ts_app_builds_with_the_generated_client(tmp_path: Path) -> None:
    modules = frontend_dir() / "node_modules"
    app = tmp_path / "app"
    shutil.copytree(TEMPLATE, app)
    package = json.loads(PACKAGE.read_text())
    package["name"] = "belay-vite-app"
    (app / "package.json").write_text(json.dumps(package, indent=2))
    generate_client(describe_app(build_app()), app / "src" / "generated", react=True)
    link_modules(app, modules)
    npm = shutil.which("npm")
    assert npm is not None
    done = subprocess.run(
        [npm, "run", "build"], cwd=app, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    built = list((app / "dist" / "assets").glob("*.js"))
    assert built, done.stdout
    bundle = built[0].read_text()
    assert "/internal/api/ShopController/ticks" in bundle
    assert '"navy"' in bundle  # the erasable enum Color survives as a plain object
