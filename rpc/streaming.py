"""Streaming actions: which actions answer SSE, their item type, and how an item is served.

Decided once per action when the app is built (``rpc.assembly`` asks); the
``StreamRuntime`` is what every open stream of the action then shares.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import PydanticUserError, TypeAdapter

from rpc.actions import ActionOptions
from rpc.encoding import dump_json
from rpc.errors import DeclarationError, qualified_name
from rpc.specs import ActionKind
from streams.settings import StreamSettings

_STREAM_ORIGINS = (collections.abc.AsyncIterator, collections.abc.AsyncGenerator)
_SYNC_STREAM_ORIGINS = (
    collections.abc.Iterator,
    collections.abc.Generator,
    collections.abc.Iterable,
)


@dataclass(frozen=True, slots=True)
class StreamRuntime:
    """What serving one kind of stream needs: how an item becomes JSON, and its timing.

    Built once per streaming action when the app is built and shared by all its
    open streams, so an open stream holds a reference, not a copy.
    """

    encode: Callable[[object], bytes]
    settings: StreamSettings
    finish_on_disconnect: bool = False  # a streaming sideeffect that outlives its client


def item_encoder(qualname: str, item_type: Any) -> Callable[[object], bytes]:
    """One stream item to JSON bytes, dumped as the non-stream path dumps results (by alias)."""
    try:
        dump = TypeAdapter(item_type).dump_python
    except PydanticUserError as exc:  # includes PydanticSchemaGenerationError
        reason = str(exc).split(". ", 1)[0]  # pydantic's first sentence; the rest is advice
        raise DeclarationError(
            f"{qualname}: pydantic cannot serialise the stream item type "
            f"{qualified_name(item_type)} (use a pydantic model or a JSON type): {reason}"
        ) from exc

    def encode(item: object) -> bytes:
        return dump_json(dump(item, mode="json", by_alias=True, warnings="error"))

    return encode


def stream_item_type(qualname: str, method: Any, annotation: Any, options: ActionOptions) -> Any:
    """The item type of a streaming action, None for an action that answers JSON.

    Passthroughs stream from an ``async def`` generator; a sideeffect may also
    be a plain generator (``-> Iterator[Item]``), which is run in a worker thread.
    """
    origin = typing.get_origin(annotation)
    function = getattr(method, "__func__", method)
    is_async_gen = inspect.isasyncgenfunction(function)
    is_sync_gen = inspect.isgeneratorfunction(function)
    if is_sync_gen and options.kind is ActionKind.SIDEEFFECT:
        if origin not in _SYNC_STREAM_ORIGINS:
            raise DeclarationError(
                f"{qualname} is a generator; annotate it `-> Iterator[Model]` (a sync generator "
                f"runs in a worker thread) or make it an `async def` generator"
            )
        return _item_type(qualname, annotation, "Iterator")
    if is_async_gen and origin not in _STREAM_ORIGINS:
        raise DeclarationError(
            f"{qualname} is an async generator; annotate it `-> AsyncIterator[Model]`"
        )
    if origin not in _STREAM_ORIGINS:
        return None
    if not is_async_gen:
        raise DeclarationError(
            f"{qualname} is annotated AsyncIterator but is not an `async def` generator"
        )
    return _item_type(qualname, annotation, "AsyncIterator")


def _item_type(qualname: str, annotation: Any, kind: str) -> Any:
    args = typing.get_args(annotation)
    if not args:
        raise DeclarationError(f"{qualname}: {kind} needs an item type, e.g. [Model]")
    return args[0]


def on_disconnect_policy(options: ActionOptions, stream_item: Any) -> str | None:
    """What a streaming sideeffect does when its client leaves ("finish" by default); else None."""
    if stream_item is None or options.kind is not ActionKind.SIDEEFFECT:
        return None
    return options.on_disconnect or "finish"


def stream_runtime(
    qualname: str, options: ActionOptions, defaults: StreamSettings, stream_item: Any
) -> StreamRuntime | None:
    """The stream of an ``AsyncIterator[Model]`` action: the app's settings, with its overrides."""
    if stream_item is None:
        if options.on_disconnect is not None:
            raise DeclarationError(
                f"{qualname}: on_disconnect= applies to streaming sideeffects only "
                f"(generators); a plain sideeffect always runs to its end"
            )
        return None
    overrides: dict[str, Any] = {}
    if options.ping_interval is not None:
        overrides["ping_interval"] = options.ping_interval
    if options.send_timeout is not None:
        overrides["send_timeout"] = options.send_timeout
    settings = dataclasses.replace(defaults, **overrides) if overrides else defaults
    finish = options.kind is ActionKind.SIDEEFFECT and options.on_disconnect != "cancel"
    return StreamRuntime(
        encode=item_encoder(qualname, stream_item),
        settings=settings,
        finish_on_disconnect=finish,
    )
