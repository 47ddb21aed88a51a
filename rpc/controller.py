"""``ControllerBase`` and ``RenderBase``: what users subclass."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel
from pydantic._internal._model_construction import ModelMetaclass


@dataclass(frozen=True)
class FieldRef:
    """A render-model field named as ``Model.field``, for ``reload=``."""

    model: type[BaseModel]
    name: str

    def __str__(self) -> str:
        return f"{self.model.__qualname__}.{self.name}"


class _RenderModelMeta(ModelMetaclass):
    """Makes ``Model.field`` evaluate to a ``FieldRef`` once the class is built.

    pydantic keeps field defaults off the class, so without this ``Model.field``
    raises ``AttributeError``; a misspelt field name still does.
    """

    def __getattr__(cls, item: str) -> Any:
        fields = cls.__dict__.get("__pydantic_fields__")
        if fields is not None and item in fields:
            return FieldRef(cls, item)  # type: ignore[arg-type]  # cls is a model class here
        return super().__getattr__(item)  # type: ignore[misc]  # pydantic defines it at runtime


class RenderBase(BaseModel, metaclass=_RenderModelMeta):
    """Base for page-state models returned by ``render()``.

    A pydantic model whose class attributes name its fields, so that
    ``@sideeffect(reload=(State.count,))`` is checked when the module imports.
    """


class ControllerBase:
    """A page's server state and actions.

    Subclasses set ``url`` (the page they serve, with ``{path}`` parameters),
    implement ``render()`` returning a pydantic model, and decorate methods with
    ``@sideeffect`` or ``@passthrough``. The controller's id is its class name.
    """

    url: ClassVar[str] = "/"

    async def broadcast(self, page: str, *, reload: Iterable[Any] | None = None) -> None:
        """Send every open viewer of ``page`` (``"/rooms/lobby"``) its new state.

        For changes made outside an action (a background task, a webhook): each
        viewer of that page, on any worker sharing the app's broker, re-renders
        ``reload`` (fields as in ``@sideeffect(reload=...)``; None: all) with its
        own request. Raises ``LiveNotServedError`` if no ``RPCApp`` serves this
        controller, ``HTTPError`` (400/422) if ``page`` does not match its url.
        """
        send = self.__dict__.get(_BROADCAST_ATTRIBUTE)
        if send is None:
            raise LiveNotServedError(
                f"{type(self).__qualname__}.broadcast(): this controller is not served by an "
                f"RPCApp yet; pass it to RPCApp(controllers=[...]) first"
            )
        await send(page, reload)


class LiveNotServedError(RuntimeError):
    """``broadcast()`` on a controller that no ``RPCApp`` serves (so it has no broker)."""


_BROADCAST_ATTRIBUTE = "_belay_broadcast"
BroadcastHook = Callable[[str, Iterable[Any] | None], Awaitable[None]]


def bind_broadcast(controller: ControllerBase, hook: BroadcastHook) -> None:
    """Point ``controller.broadcast()`` at an app (the newest app serving it wins)."""
    controller.__dict__[_BROADCAST_ATTRIBUTE] = hook
