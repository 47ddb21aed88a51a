"""``Depends``: per-request dependency injection, as in FastAPI."""

from __future__ import annotations

import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rpc.errors import qualified_name


@dataclass(frozen=True, eq=False)
class Dependency:
    """A parameter's marker saying: call ``call`` per request and pass its result."""

    call: Callable[..., Any]
    use_cache: bool = True

    def __repr__(self) -> str:
        return f"Depends({qualified_name(self.call)})"


def Depends(dependency: Callable[..., Any], *, use_cache: bool = True) -> Any:
    """Declare a dependency: ``user: User = Depends(current_user)``.

    ``dependency`` may be a sync or async function, or a sync or async generator
    function whose code after ``yield`` runs once the response is sent (or the
    stream has closed). Its own parameters may be other dependencies, a
    ``starlette.requests.Request``, or have defaults. With ``use_cache`` (the
    default) a dependency used twice in one request is called once.
    """
    if not callable(dependency):
        raise TypeError(f"Depends() takes a callable, got {dependency!r}")
    return Dependency(dependency, use_cache=use_cache)


def find_dependency(annotation: Any, default: Any) -> Dependency | None:
    """The ``Dependency`` of a parameter, from its default or ``Annotated`` metadata."""
    if isinstance(default, Dependency):
        return default
    if typing.get_origin(annotation) is typing.Annotated:
        for meta in annotation.__metadata__:
            if isinstance(meta, Dependency):
                return meta
    return None
