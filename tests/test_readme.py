"""Every code block in README.md, exercised.

- ```python blocks start with ``# NAME.py``: all are written to one folder and
  imported (their RPCApps must build); ``test_*.py`` ones are run with pytest.
- The tour (``tour.py`` + ``client.ts``) is served by a real hypercorn; the TS
  client generated for it is compiled with ``tsc --strict`` and run under Node.
- ```sh blocks: ``scripts/...`` commands must exist and be executable (the CI
  entry runs ``scripts/test``); ``belay ...`` commands must parse with the real
  CLI, and the tour's ``belay dev`` line is run for real.
"""

from __future__ import annotations

import importlib
import os
import re
import shlex
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from codegen import generate_client
from devserver.cli import build_parser
from rpc.description import describe_app
from tests.codegen.node import mark_module, require_tools, run_tsc
from tests.support.polling import wait_until
from tests.support.ports import free_port
from tests.support.server import running_server

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def blocks(language: str) -> list[str]:
    return [body for lang, body in FENCE.findall(README.read_text()) if lang == language]


def named_blocks(language: str, comment: str) -> dict[str, str]:
    named: dict[str, str] = {}
    for body in blocks(language):
        first = body.splitlines()[0]
        assert first.startswith(comment), f"README {language} block must start with a file name"
        named[first[len(comment) :].split(",")[0].strip()] = body
    return named


def command_lines() -> list[str]:
    lines = []
    for body in blocks("sh"):
        for line in body.splitlines():
            command = line.split("#", 1)[0].strip()
            if command:
                lines.append(command)
    return lines


READER_CONFTEST = """
import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
"""


@pytest.fixture(scope="module")
def readme_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("readme")
    for name, body in named_blocks("python", "# ").items():
        (folder / name).write_text(body)
    # The README's tests run as a user runs them: anyio's plugin would also run them on
    # trio here (this repo's test extra installs it), and a user's app is asyncio-only.
    (folder / "conftest.py").write_text(READER_CONFTEST)
    sys.path.insert(0, str(folder))
    try:
        yield folder
    finally:
        sys.path.remove(str(folder))
        for name in named_blocks("python", "# "):
            sys.modules.pop(name.removesuffix(".py"), None)


def test_readme_every_block_has_a_known_language() -> None:
    text = README.read_text()
    languages = {lang for lang, _ in FENCE.findall(text)}
    assert languages <= {"python", "ts", "sh", "html"}, languages
    fence_lines = [line for line in text.splitlines() if line.startswith("```")]
    assert len(fence_lines) == 2 * len(FENCE.findall(text))  # no unlabelled block


def test_readme_live_reload_tag_is_what_belay_dev_serves() -> None:
    from devserver.errorpage import LIVE_RELOAD_TAG
    from devserver.notify import SNIPPET_PATH

    (tag,) = blocks("html")
    assert tag.strip() == LIVE_RELOAD_TAG
    assert SNIPPET_PATH in tag


def test_readme_reload_listener_is_the_demos_code() -> None:
    """The browser test runs the demo page, which holds this listener verbatim."""
    listener = named_blocks("ts", "// ")["reload.ts"].splitlines()[1:]
    demo = (ROOT / "examples" / "rooms" / "frontend" / "main.ts").read_text().splitlines()
    wanted = [line.strip() for line in listener if line.strip()]
    stripped = [line.strip() for line in demo]
    starts = [i for i, line in enumerate(stripped) if line == wanted[0]]
    assert any(stripped[i : i + len(wanted)] == wanted for i in starts), wanted


def test_readme_starts_with_the_two_commands() -> None:
    first = blocks("sh")[0].splitlines()
    assert [line.split()[0] for line in first] == ["scripts/demo", "scripts/test"]
    assert "scripts/test" in (ROOT / ".ci" / "run").read_text()


def test_readme_commands_exist_and_parse() -> None:
    parser = build_parser()
    for line in command_lines():
        words = shlex.split(line)
        if words[0].startswith("scripts/"):
            script = ROOT / words[0]
            assert script.is_file(), line
            assert os.access(script, os.X_OK), line
        elif words[0] == "pip":
            assert words[1] == "install", line
            assert any("belay" in word for word in words[2:]), line
        elif words[1:] == ["--version"]:
            assert words[0] == "belay", line
        elif words[0] in NODE_TOOLS:
            assert line in node_block_lines(), line  # run by the Node 20 test below
        else:
            assert words[0] == "belay", line
            parsed = parser.parse_args(words[1:])
            assert parsed.verb in {"dev", "serve", "codegen", "openapi"}


def test_readme_python_modules_import_and_build(readme_dir: Path) -> None:
    from rpc import RPCApp

    modules = [name for name in named_blocks("python", "# ") if not name.startswith("test_")]
    assert {"tour.py", "shop.py", "feed.py"} <= set(modules)
    for name in modules:
        module = importlib.import_module(name.removesuffix(".py"))
        assert isinstance(module.app, RPCApp)


def test_readme_test_blocks_pass(readme_dir: Path) -> None:
    tests = [name for name in named_blocks("python", "# ") if name.startswith("test_")]
    assert tests
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests],
        cwd=readme_dir,
        env={**os.environ, "PYTHONPATH": f"{readme_dir}{os.pathsep}{ROOT}"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{len(re.findall(r'^async def test_', ''.join(blocks('python')), re.M))} passed" in (
        done.stdout
    )


def test_readme_tour_client_runs_against_a_live_server(readme_dir: Path) -> None:
    require_tools()
    tour = importlib.import_module("tour")
    generate_client(describe_app(tour.app), readme_dir / "generated")
    client = named_blocks("ts", "// ")["client.ts"]
    (readme_dir / "client.ts").write_text(client)
    out = readme_dir / "js"
    mark_module(readme_dir)
    sources = [readme_dir / "client.ts", *sorted((readme_dir / "generated").rglob("*.ts"))]
    assert run_tsc(sources, out_dir=out, extra=["--rootDir", str(readme_dir)]) == ""
    mark_module(out)
    with running_server(tour.app) as server:
        done = subprocess.run(
            ["node", str(out / "client.js")],
            env={**os.environ, "BELAY_URL": server.base_url},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "0 -> 2",
        "tick 0",
        "tick 1",
        "tick 2",
        "409 room is full 10",
    ]


NODE_TOOLS = ("npm", "npx", "node")


def node_block_lines() -> list[str]:
    (block,) = [b for b in blocks("sh") if b.startswith("npm init")]
    return [line.strip() for line in block.splitlines() if line.strip()]


def test_readme_node20_commands_run_the_tour_client(tmp_path: Path) -> None:
    """The README's Node commands, run as written (npm install is replaced by the
    repo's own node_modules, which hold the same typescript and @types/node@20)."""
    require_tools()
    for name in ("tour.py",):
        (tmp_path / name).write_text(named_blocks("python", "# ")[name])
    (tmp_path / "client.ts").write_text(named_blocks("ts", "// ")["client.ts"])
    (tmp_path / "node_modules").symlink_to(ROOT / "node_modules")
    belay = Path(sys.executable).parent / "belay"
    generated = subprocess.run(
        [str(belay), "codegen", "tour:app", "--out", "generated"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert generated.returncode == 0, generated.stderr
    lines = node_block_lines()
    assert lines[2] == "npm install --save-dev typescript @types/node@20"
    sys.path.insert(0, str(tmp_path))
    sys.modules.pop("tour", None)  # a fresh app: its counts start at 0
    try:
        tour = importlib.import_module("tour")
        with running_server(tour.app) as server:
            env = {**os.environ, "BELAY_URL": server.base_url}
            outputs = [
                subprocess.run(
                    shlex.split(line),
                    cwd=tmp_path,
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=120,
                    check=False,
                )
                for line in lines[:2] + lines[3:]
            ]
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("tour", None)
    for line, done in zip(lines[:2] + lines[3:], outputs, strict=True):
        assert done.returncode == 0, f"{line}: {done.stdout}{done.stderr}"
    assert outputs[-1].stdout.splitlines() == [
        "0 -> 2",
        "tick 0",
        "tick 1",
        "tick 2",
        "409 room is full 10",
    ]


def test_readme_react_example_type_checks_with_the_generated_hooks(
    readme_dir: Path, tmp_path: Path
) -> None:
    from tests.codegen.frontend import frontend_dir

    modules = frontend_dir() / "node_modules"
    tour = importlib.import_module("tour")
    generate_client(describe_app(tour.app), tmp_path / "generated", react=True)
    (tmp_path / "Counter.tsx").write_text(named_blocks("ts", "// ")["Counter.tsx"])
    (tmp_path / "node_modules").symlink_to(modules)
    flags = ("--jsx", "react-jsx", "--lib", "es2022,dom,dom.iterable")
    assert run_tsc([tmp_path / "Counter.tsx"], out_dir=None, extra=flags, node_types=False) == ""


def test_readme_streaming_sideeffect_client_type_checks(readme_dir: Path, tmp_path: Path) -> None:
    imports = importlib.import_module("imports")
    generate_client(describe_app(imports.app), tmp_path / "generated")
    (tmp_path / "imports.ts").write_text(named_blocks("ts", "// ")["imports.ts"])
    mark_module(tmp_path)
    assert run_tsc([tmp_path / "imports.ts"], out_dir=None) == ""


def test_readme_belay_dev_line_serves_and_generates(readme_dir: Path) -> None:
    (line,) = [c for c in command_lines() if c.startswith("belay dev tour:app")]
    port = free_port()
    args = [*shlex.split(line), "--port", str(port)]
    belay = Path(sys.executable).parent / "belay"
    log_path = readme_dir / "belay-dev.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(belay), *args[1:]],
            cwd=readme_dir,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def render() -> httpx.Response | None:
        if process.poll() is not None:
            raise AssertionError(f"belay dev exited: {log_path.read_text()}")
        try:
            return httpx.get(
                f"http://127.0.0.1:{port}/internal/api/CounterController/render",
                headers={"X-Belay-Page": "/rooms/lobby"},
                timeout=2,
            )
        except httpx.TransportError:
            return None

    try:
        response = wait_until(render, 30, "belay dev to serve")
        assert response.json() == {"room": "lobby", "count": 0}
        assert (readme_dir / "generated" / "index.ts").is_file()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
