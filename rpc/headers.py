"""``RequestHeaders``: Starlette's ``Headers`` with a ``get`` that does not raise inside."""

from __future__ import annotations

from typing import TypeVar, overload

from starlette.datastructures import Headers

T = TypeVar("T")


class RequestHeaders(Headers):
    """A request's headers, read by the dispatcher on every request.

    ``Headers.get`` comes from ``Mapping``: a missing header raises and catches a
    ``KeyError`` inside, which costs more than the lookup itself, and most
    headers the dispatcher asks for (``Origin``, ``Sec-Fetch-Site``) are
    usually absent. This ``get`` finds the same value (the first of that name,
    case-insensitive) without the exception.
    """

    @overload
    def get(self, key: str) -> str | None: ...

    @overload
    def get(self, key: str, default: str) -> str: ...

    @overload
    def get(self, key: str, default: T) -> str | T: ...

    def get(self, key: str, default: object = None) -> object:
        raw = key.lower().encode("latin-1")
        for name, value in self._list:
            if name == raw:
                return value.decode("latin-1")
        return default
