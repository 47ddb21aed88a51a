"""Plain, frozen facts about controllers and their actions.

``RPCApp`` builds one ``ControllerSpec`` per controller when it is constructed;
the request path and ``rpc.description`` (for codegen) read these instead of
inspecting signatures.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class ActionKind(enum.Enum):
    """What an action sends back besides its return value."""

    SIDEEFFECT = "sideeffect"
    PASSTHROUGH = "passthrough"


class ParamSource(enum.Enum):
    """Where a bound parameter's value comes from."""

    BODY = "body"
    QUERY = "query"
    PATH = "path"
    DEPENDS = "depends"
    REQUEST = "request"
    LAST_EVENT_ID = "last_event_id"


@dataclass(frozen=True)
class ParamSpec:
    """One parameter of an action or of ``render()``.

    ``annotation`` is the resolved type (``get_type_hints``); for list query
    parameters it is e.g. ``list[str]``. ``default`` is ``inspect.Parameter.empty``
    when the parameter is required.
    """

    name: str
    source: ParamSource
    annotation: Any
    required: bool
    default: Any


@dataclass(frozen=True)
class ActionSpec:
    """One ``@sideeffect`` or ``@passthrough`` method of a controller."""

    name: str
    kind: ActionKind
    function: Callable[..., Any]
    owner: type
    params: tuple[ParamSpec, ...]
    body: ParamSpec | None
    return_annotation: Any
    stream_item: Any | None
    reload_fields: tuple[str, ...] | None
    exception_models: tuple[type[Exception], ...]
    on_disconnect: str | None = None  # a streaming sideeffect's: "finish" or "cancel"
    broadcast: bool = False

    @property
    def is_stream(self) -> bool:
        return self.stream_item is not None


@dataclass(frozen=True)
class RenderSpec:
    """The controller's ``render()``: its parameters and page-state model."""

    params: tuple[ParamSpec, ...]
    model: type[Any]


@dataclass(frozen=True)
class ControllerSpec:
    """A controller as served: id (class name), page url, render and actions.

    ``bases`` are the ids of the controller's ``ControllerBase`` ancestors,
    nearest first, so codegen can keep controller inheritance.
    """

    id: str
    controller_class: type
    url: str
    render: RenderSpec
    actions: tuple[ActionSpec, ...]
    bases: tuple[str, ...]
