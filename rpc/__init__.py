"""Belay's RPC layer: controllers, typed actions, dependencies, errors, the ASGI app.

``tracked`` and ``LastEventId`` come from ``streams`` and are re-exported here,
so an app needs one import for its streaming actions.
"""

from rpc.actions import passthrough, sideeffect
from rpc.app import RPCApp
from rpc.controller import ControllerBase, FieldRef, LiveNotServedError, RenderBase
from rpc.dependencies import Depends
from rpc.errors import APIException, DeclarationError
from streams import LastEventId, tracked

__all__ = [
    "APIException",
    "ControllerBase",
    "DeclarationError",
    "Depends",
    "FieldRef",
    "LastEventId",
    "LiveNotServedError",
    "RPCApp",
    "RenderBase",
    "passthrough",
    "sideeffect",
    "tracked",
]
