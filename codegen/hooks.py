"""The optional React hooks file (``belay codegen ... --react``).

``react.ts`` is the same for every app: it builds on the runtime's
``createServerState`` and the streaming endpoints, so it is copied, not
generated. It is the only file that imports ``react``; the rest of the client
stays dependency-free.
"""

from __future__ import annotations

from importlib import resources

REACT_FILE = "react.ts"


def react_files() -> dict[str, bytes]:
    """``{"react.ts": its bytes}``, to add to the generated files."""
    source = resources.files("codegen").joinpath("react", REACT_FILE)
    return {REACT_FILE: source.read_bytes()}
