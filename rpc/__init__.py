"""Belay's RPC layer: controllers, typed actions, dependencies, errors, the ASGI app."""

from rpc.actions import passthrough, sideeffect
from rpc.app import RPCApp
from rpc.binding import DeclarationError
from rpc.controller import ControllerBase, FieldRef, RenderBase
from rpc.dependencies import Depends
from rpc.errors import APIException

__all__ = [
    "APIException",
    "ControllerBase",
    "DeclarationError",
    "Depends",
    "FieldRef",
    "RPCApp",
    "RenderBase",
    "passthrough",
    "sideeffect",
]
