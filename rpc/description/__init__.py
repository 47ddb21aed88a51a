"""An ``RPCApp`` as plain data: ``describe_app(app) -> rpcmeta.AppDescription``.

Not imported by ``import rpc``: only readers of the description (codegen's
callers, OpenAPI export) pay for walking the app and building JSON Schemas.
"""

from __future__ import annotations

from rpc.description.describer import describe_app

__all__ = ["describe_app"]
