"""OpenAPI 3.1 export: ``openapi_document(app)`` and ``RPCApp(openapi_url=...)``.

Not imported by ``import rpc``. The document is built from the app's plain-data
description (``rpc.description.describe_app(app, json_schemas=True)``), the
same facts the TypeScript client is generated from, by a pure function of them
(``rpc.openapi.document.build_document``), so a description saved in another
process gives the same document.
"""

from __future__ import annotations

from typing import Any

from rpc.openapi.document import OPENAPI_VERSION, build_document
from rpcmeta import AppDescription

__all__ = ["OPENAPI_VERSION", "openapi_document"]


def openapi_document(
    source: Any, *, title: str = "Belay API", version: str = "0.1.0"
) -> dict[str, Any]:
    """The OpenAPI 3.1 document of an ``RPCApp`` or of its saved ``AppDescription``.

    A description must carry JSON Schemas (``describe_app(app, json_schemas=True)``,
    or ``belay openapi``'s own). Raises ``rpcmeta.DescriptionError`` for an app
    whose types have no JSON Schema or whose names clash.
    """
    if isinstance(source, AppDescription):
        description = source
    else:
        from rpc.description import describe_app

        description = describe_app(source, json_schemas=True)
    return build_document(description, title=title, version=version)
