"""Errors and their JSON bodies.

``APIException`` is the user-facing way to answer with a status and typed
fields. ``HTTPError`` is the framework's own (404, 415, ...). ``render_error``
turns any exception into the pinned ``ErrorPayload``: status + JSON body, for a
plain response or for a stream's ``event: error``.
"""

from __future__ import annotations

import logging
import traceback
import typing
from typing import Any, ClassVar

import orjson
from pydantic import ValidationError
from pydantic_core import to_jsonable_python
from starlette.exceptions import HTTPException as StarletteHTTPException

from rpc.encoding import dump_json
from rpcmeta import ERROR_TYPE_HEADER
from streams.channel import ChannelKeyError
from streams.logtext import log_exception
from streams.settings import ErrorPayload

logger = logging.getLogger("belay.rpc")

_RESERVED = frozenset({"status_code", "detail", "headers"})


class DeclarationError(TypeError):
    """A controller, action or dependency declared in a way Belay cannot serve."""


def qualified_name(obj: Any) -> str:
    """``module.Qualified.name`` of a class, function or bound method, for messages."""
    obj = getattr(obj, "__func__", obj)
    module = getattr(obj, "__module__", None) or "?"
    return f"{module}.{getattr(obj, '__qualname__', repr(obj))}"


class APIException(Exception):
    """An error the client is meant to see: its status and a JSON body.

    Subclasses declare ``status_code``, ``detail`` and any extra typed fields as
    class annotations with defaults; instance keyword arguments override them::

        class RoomFull(APIException):
            status_code = 409
            detail = "room is full"
            capacity: int = 10

        raise RoomFull(capacity=12)   # 409 {"detail": "room is full", "capacity": 12}
    """

    status_code: ClassVar[int] = 500
    detail: Any = "Internal Server Error"
    headers: ClassVar[dict[str, str]] = {}

    def __init__(self, detail: Any = None, **fields: Any) -> None:
        unknown = set(fields) - set(exception_fields(type(self)))
        if unknown:
            raise TypeError(
                f"{qualified_name(type(self))} has no field(s) {sorted(unknown)}; "
                f"declare them as class annotations"
            )
        if detail is not None:
            self.detail = detail
        for name, value in fields.items():
            setattr(self, name, value)
        super().__init__(self.detail)

    def body(self) -> dict[str, Any]:
        """The JSON body: ``detail`` first, then the declared fields."""
        out: dict[str, Any] = {"detail": self.detail}
        for name in exception_fields(type(self)):
            out[name] = getattr(self, name, None)
        return out


def exception_fields(cls: type[APIException]) -> dict[str, Any]:
    """The extra typed fields a subclass declares (name -> annotation), in order."""
    hints = typing.get_type_hints(cls)
    fields: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        for name in getattr(klass, "__annotations__", {}):
            if name not in _RESERVED and not name.startswith("_"):
                annotation = hints.get(name, Any)
                if typing.get_origin(annotation) is not ClassVar:
                    fields[name] = annotation
    return fields


class HTTPError(Exception):
    """A framework-level error answered with ``{"detail": ...}``."""

    def __init__(
        self, status_code: int, detail: Any, *, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail
        self.headers = headers or {}


class RequestValidationError(Exception):
    """Body, query or path values that failed validation (answered as 422)."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(errors)
        self.errors = errors


def validation_errors(exc: ValidationError, location: str) -> list[dict[str, Any]]:
    """pydantic errors in the pinned shape, ``loc`` starting with ``location``."""
    return [
        {"loc": [location, *err["loc"]], "msg": err["msg"], "type": err["type"]}
        for err in exc.errors(include_url=False, include_input=False, include_context=False)
    ]


def render_error(exc: BaseException, *, debug: bool = False) -> ErrorPayload:
    """Status and JSON body for any exception; unexpected ones are logged once."""
    if isinstance(exc, APIException):
        data = dump_json(exc.body(), default=_jsonable)
        return ErrorPayload(exc.status_code, data, type=type(exc).__name__)
    if isinstance(exc, HTTPError | StarletteHTTPException):
        # Starlette's (and FastAPI's) HTTPException is honoured too: users raise it out of habit.
        return ErrorPayload(exc.status_code, dump_json({"detail": exc.detail}, default=_jsonable))
    if isinstance(exc, RequestValidationError):
        return ErrorPayload(422, orjson.dumps({"detail": exc.errors}))
    if isinstance(exc, ChannelKeyError):
        # A channel key is request input (a room name) nearly always: the client's to fix.
        return ErrorPayload(400, orjson.dumps({"detail": str(exc)}))
    log_exception(logger, "unhandled error in a Belay action", exc)
    body: dict[str, Any] = {"detail": "Internal Server Error"}
    if debug:
        body["traceback"] = "".join(traceback.format_exception(exc))
    return ErrorPayload(500, orjson.dumps(body))


def _jsonable(value: Any) -> Any:
    """Typed exception fields orjson cannot encode itself (pydantic models, ...)."""
    return to_jsonable_python(value, by_alias=True, fallback=str)


def error_headers(exc: BaseException) -> dict[str, str]:
    """Extra response headers an error asks for (e.g. ``Allow`` on a 405)."""
    if isinstance(exc, StarletteHTTPException):
        return dict(exc.headers or {})
    if isinstance(exc, APIException):
        # Names the class for typed clients: two classes may share a status.
        return {**exc.headers, ERROR_TYPE_HEADER: type(exc).__name__}
    if isinstance(exc, HTTPError):
        return dict(exc.headers)
    return {}
