"""Run the TypeScript compiler and node:test from pytest.

Node tooling comes from the repo's package.json (``npm install`` at the root,
which ``scripts/setup`` does). Compiled output goes to a temp directory marked
``"type": "module"`` so Node runs it as ES modules.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = ROOT / "codegen" / "runtime"
TS_TESTS = Path(__file__).resolve().parent / "ts"
TSC = ROOT / "node_modules" / ".bin" / "tsc"

# --strict plus the flags users commonly add on top; the generated client must pass all.
STRICT_FLAGS = (
    "--strict",
    "--exactOptionalPropertyTypes",
    "--noUncheckedIndexedAccess",
    "--noImplicitOverride",
    "--noUnusedLocals",
    "--noUnusedParameters",
    "--noPropertyAccessFromIndexSignature",
    "--skipLibCheck",
)
ESM_FLAGS = ("--target", "es2022", "--module", "nodenext", "--moduleResolution", "nodenext")


def require_tools() -> None:
    """Fail with a clear message when Node or the npm packages are missing."""
    if shutil.which("node") is None:
        raise RuntimeError("node (>= 18) is required for the TypeScript checks")
    if not TSC.exists():
        raise RuntimeError(f"{TSC} missing: run `npm install` at the repo root (scripts/setup)")


def run_tsc(
    sources: Iterable[Path],
    *,
    out_dir: Path | None,
    extra: Sequence[str] = (),
    node_types: bool = True,
) -> str:
    """Compile (or only check, with ``out_dir=None``); return tsc's output, '' when clean.

    Without ``node_types`` no ``@types`` package is loaded, as in a browser-only project.
    """
    require_tools()
    emit = ["--noEmit"] if out_dir is None else ["--outDir", str(out_dir)]
    with tempfile.TemporaryDirectory() as no_types:
        # An empty type root keeps tsc from loading @types/node automatically.
        types = ["--types", "node"] if node_types else ["--typeRoots", no_types]
        args = [str(TSC), *STRICT_FLAGS, *ESM_FLAGS, *types, *emit, *extra]
        args += [str(path) for path in sources]
        done = subprocess.run(
            args, capture_output=True, text=True, timeout=120, cwd=ROOT, check=False
        )
    return (done.stdout + done.stderr).strip()


def mark_module(directory: Path) -> None:
    (directory / "package.json").write_text(json.dumps({"type": "module"}))


def copy_runtime(dest: Path) -> list[Path]:
    """Copy the runtime sources into ``dest/runtime``; return the copies."""
    (dest / "runtime").mkdir(parents=True, exist_ok=True)
    copies = []
    for source in sorted(RUNTIME.glob("*.ts")):
        target = dest / "runtime" / source.name
        shutil.copyfile(source, target)
        copies.append(target)
    return copies


def run_node_tests(files: Sequence[Path], *, env: dict[str, str] | None = None) -> str:
    """``node --test`` over compiled files; raise with the TAP output if any test fails."""
    require_tools()
    args = ["node", "--test", "--test-reporter=spec", *map(str, files)]
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, env=env, check=False)
    output = done.stdout + done.stderr
    if done.returncode != 0:
        raise AssertionError(f"node --test failed:\n{output}")
    return output
