"""``ControllerBase`` and ``RenderBase``: what users subclass."""

from __future__ import annotations

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
