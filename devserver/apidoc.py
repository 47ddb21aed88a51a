"""``belay openapi``: an app's OpenAPI 3.1 document, from the app or a saved description."""

from __future__ import annotations

import json
from pathlib import Path

from devserver.clientgen import describe_served_app
from rpcmeta import load_description


def openapi_text(app: object) -> str:
    """The document of ``app`` (an RPCApp, or an app mounting one) as indented JSON."""
    from rpc.openapi import openapi_document

    return _dump(openapi_document(describe_served_app(app, json_schemas=True)))


def openapi_text_from_file(path: str) -> str:
    """The document of a description saved with ``belay codegen --save-description``.

    The description must carry JSON Schemas; ``belay openapi`` builds them from the app.
    """
    from rpc.openapi import openapi_document

    return _dump(openapi_document(load_description(Path(path).read_text())))


def write_openapi(text: str, out: str) -> bool:
    """Write ``text`` to ``out`` unless it already holds exactly that; whether it wrote."""
    target = Path(out)
    if target.is_file() and target.read_text() == text:
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    return True


def _dump(document: dict[str, object]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
