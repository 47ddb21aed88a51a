"""Write generated files: only changed bytes, atomically, and remove our stale files.

A manifest (``.belay-codegen.json``) in the output directory lists the files
the last run wrote, so files that are no longer generated can be removed
without touching anything else in the directory. Identical content is never
rewritten: frontend watchers see no event when nothing changed.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

MANIFEST = ".belay-codegen.json"


@dataclass
class GenerationReport:
    """What one generation did to the output directory (absolute paths, sorted)."""

    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)


def write_files(out_dir: Path, files: dict[str, bytes]) -> GenerationReport:
    """Bring ``out_dir`` to exactly ``files`` (for the files we own)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    report = GenerationReport()
    for relative in sorted(files):
        target = out_dir / relative
        if _same_bytes(target, files[relative]):
            report.unchanged.append(target)
        else:
            write_atomic(target, files[relative])
            report.written.append(target)
    for relative in sorted(_previous(out_dir) - set(files)):
        stale = out_dir / relative
        if stale.is_file():
            stale.unlink()
            report.removed.append(stale)
    manifest = (json.dumps(sorted(files), indent=1) + "\n").encode()
    if not _same_bytes(out_dir / MANIFEST, manifest):
        write_atomic(out_dir / MANIFEST, manifest)
    return report


def write_atomic(target: Path, data: bytes) -> None:
    """Write through a temp file in the same directory and ``os.replace`` it into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.parent / f".{target.name}.{secrets.token_hex(6)}.tmp"
    # Not tempfile.mkstemp: its 0600 mode would survive the rename; 0666 gets the umask.
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _same_bytes(path: Path, data: bytes) -> bool:
    try:
        return path.stat().st_size == len(data) and path.read_bytes() == data
    except FileNotFoundError:
        return False


def _previous(out_dir: Path) -> set[str]:
    try:
        names = json.loads((out_dir / MANIFEST).read_text())
    except (FileNotFoundError, ValueError):
        return set()
    # Only plain relative paths inside out_dir: a hand-edited manifest cannot reach outside.
    return {
        n
        for n in names
        if isinstance(n, str) and ".." not in Path(n).parts and not Path(n).is_absolute()
    }
