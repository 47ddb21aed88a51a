"""The ``@sideeffect`` and ``@passthrough`` decorators.

They only attach an ``ActionOptions`` to the function; ``RPCApp`` reads it when
it builds the controller specs. Declaration mistakes that need no type
resolution (sync generator passthroughs, bad reload names) fail here,
at import time.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, overload

from rpc.controller import FieldRef
from rpc.errors import APIException, qualified_name
from rpc.specs import ActionKind

F = TypeVar("F", bound=Callable[..., Any])

ACTION_ATTRIBUTE = "__belay_action__"

OnDisconnect = Literal["finish", "cancel"]
"""What a streaming sideeffect does when its client leaves mid-way (see ``sideeffect``)."""

ON_DISCONNECT_CHOICES: tuple[OnDisconnect, ...] = ("finish", "cancel")


@dataclass(frozen=True)
class ActionOptions:
    """What a decorator said about one action."""

    kind: ActionKind
    reload: tuple[FieldRef | str, ...] | None = None
    experimental_render_reload: bool = False
    exception_models: tuple[type[APIException], ...] = ()
    ping_interval: float | None = None
    send_timeout: float | None = None
    on_disconnect: OnDisconnect | None = None  # None: not given ("finish" for a stream)
    broadcast: bool = False


def action_options(function: Any) -> ActionOptions | None:
    """The options attached by a decorator, or None for a plain method."""
    options = getattr(function, ACTION_ATTRIBUTE, None)
    return options if isinstance(options, ActionOptions) else None


@overload
def sideeffect(function: F, /) -> F: ...
@overload
def sideeffect(
    *,
    reload: Iterable[Any] | None = None,
    experimental_render_reload: bool = False,
    exception_models: Iterable[type[APIException]] = (),
    on_disconnect: OnDisconnect | None = None,
    broadcast: bool = False,
) -> Callable[[F], F]: ...
def sideeffect(
    function: Any = None,
    /,
    *,
    reload: Iterable[Any] | None = None,
    experimental_render_reload: bool = False,
    exception_models: Iterable[type[APIException]] = (),
    on_disconnect: OnDisconnect | None = None,
    broadcast: bool = False,
) -> Any:
    """Mark a mutation: after it runs, ``render()`` runs again and its state is sent back.

    ``reload=(Model.field, ...)`` (or field-name strings) sends only those fields;
    ``experimental_render_reload=True`` re-runs only the part of ``render()``
    those fields need. ``broadcast=True`` also sends the new state (the same
    fields) to every open viewer of the page (``GET .../live``), rendered for
    each viewer.

    A generator (``async def`` annotated ``-> AsyncIterator[Item]``, or a plain
    ``def`` annotated ``-> Iterator[Item]``, run in a worker thread) streams its
    items, then the page state as ``event: state``. ``on_disconnect`` says what
    it does when its client leaves mid-way: ``"finish"`` (the default) runs it
    to its end and still re-renders; ``"cancel"`` closes it as a stream is closed.
    """
    if not isinstance(broadcast, bool):
        raise TypeError(f"broadcast= takes True or False, got {broadcast!r}")
    reload_fields = _check_reload(reload)
    if experimental_render_reload and reload_fields is None:
        raise TypeError("experimental_render_reload=True needs reload=(Model.field, ...)")
    if on_disconnect is not None and on_disconnect not in ON_DISCONNECT_CHOICES:
        raise ValueError(f"on_disconnect must be 'finish' or 'cancel', got {on_disconnect!r}")
    options = ActionOptions(
        kind=ActionKind.SIDEEFFECT,
        reload=reload_fields,
        experimental_render_reload=experimental_render_reload,
        exception_models=_check_exception_models(exception_models),
        on_disconnect=on_disconnect,
        broadcast=broadcast,
    )
    return _attach(function, options)


@overload
def passthrough(function: F, /) -> F: ...
@overload
def passthrough(
    *,
    exception_models: Iterable[type[APIException]] = (),
    ping_interval: float | None = None,
    send_timeout: float | None = None,
) -> Callable[[F], F]: ...
def passthrough(
    function: Any = None,
    /,
    *,
    exception_models: Iterable[type[APIException]] = (),
    ping_interval: float | None = None,
    send_timeout: float | None = None,
) -> Any:
    """Mark an action that returns data without re-rendering the page.

    An ``async def`` generator annotated ``-> AsyncIterator[Model]`` streams its
    items as Server-Sent Events; ``ping_interval`` and ``send_timeout`` override
    the app's stream settings for this action.
    """
    if ping_interval is not None and ping_interval <= 0:
        raise ValueError(f"ping_interval must be > 0, got {ping_interval!r}")
    options = ActionOptions(
        kind=ActionKind.PASSTHROUGH,
        exception_models=_check_exception_models(exception_models),
        ping_interval=ping_interval,
        send_timeout=send_timeout,
    )
    return _attach(function, options)


def _attach(function: Any, options: ActionOptions) -> Any:
    def decorate(fn: Any) -> Any:
        _check_callable(fn, options)
        setattr(fn, ACTION_ATTRIBUTE, options)
        return fn

    return decorate if function is None else decorate(function)


def _check_callable(fn: Any, options: ActionOptions) -> None:
    name = qualified_name(fn)
    if not callable(fn):
        raise TypeError(f"@{options.kind.value} must decorate a function, got {fn!r}")
    if inspect.isgeneratorfunction(fn) and options.kind is ActionKind.PASSTHROUGH:
        raise TypeError(
            f"{name} is a sync generator; a streaming passthrough must be an `async def` "
            f"generator annotated `-> AsyncIterator[Model]`"
        )


def _check_reload(reload: Iterable[Any] | None) -> tuple[FieldRef | str, ...] | None:
    if reload is None:
        return None
    if isinstance(reload, str | FieldRef):
        reload = (reload,)
    fields = tuple(reload)
    for field in fields:
        if not isinstance(field, FieldRef | str):
            raise TypeError(
                f"reload= takes render-model fields (Model.field) or field names, got {field!r}"
            )
    return fields


def _check_exception_models(
    models: Iterable[type[APIException]],
) -> tuple[type[APIException], ...]:
    out = tuple(models)
    for model in out:
        if not (isinstance(model, type) and issubclass(model, APIException)):
            raise TypeError(f"exception_models takes APIException subclasses, got {model!r}")
    return out
