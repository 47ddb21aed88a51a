"""Telling a page's viewers that it changed: page keys, notifications, the publish.

A notification says only "this page changed; reload these fields (or all)". It
never carries rendered state: every viewer renders for itself (its own headers,
cookies, ``Depends``), so per-user data cannot reach another user. Notifications
travel through the app's channel broker on one internal channel, one key per
page (the controller id plus the page's validated path and query values), so
viewers on other workers and hosts hear them too.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import orjson
from starlette.datastructures import Headers

from rpc.assembly import ActionRuntime, ControllerRuntime
from rpc.controller import FieldRef
from rpc.resolution import validate_page_values
from rpcmeta import PAGE_HEADER
from streams.brokers import Broker

logger = logging.getLogger("belay.rpc")

LIVE_CHANNEL = "~live"  # "~" is outside user channel names, so this one never clashes
LIVE_HISTORY = 8  # a viewer that misses notifications re-renders everything: no replay needed
LIVE_TTL = 300.0
_READABLE_KEY = 400  # longer page keys are hashed (channel keys are at most 512 chars)

Reload = frozenset[str] | None
"""The fields a change touches; None: the whole state."""


def page_key(controller_id: str, values: Mapping[str, Any]) -> str:
    """The channel key of one page: same controller + same validated values = same key.

    ``?step=02`` and ``?step=2`` validate to one value, and unknown query
    parameters are not values, so both pages share a key.
    """
    encoded = orjson.dumps(
        values, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=str
    ).decode()
    key = f"{controller_id}:{encoded}"
    if len(key) <= _READABLE_KEY:
        return key
    return f"{controller_id}#{hashlib.sha256(encoded.encode()).hexdigest()}"


def encode_change(reload: Reload) -> bytes:
    """A notification's JSON: ``{"reload": [fields] | null}``."""
    return orjson.dumps({"reload": None if reload is None else sorted(reload)})


def decode_change(data: bytes) -> Reload:
    """The fields of a notification; None (everything) for anything unexpected."""
    try:
        fields = orjson.loads(data).get("reload")
    except (orjson.JSONDecodeError, AttributeError):
        return None
    if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
        return None
    return frozenset(fields)


def reload_names(controller: ControllerRuntime, reload: Iterable[Any] | None) -> Reload:
    """Check ``reload=`` of ``broadcast()`` against the render model, as ``@sideeffect`` does."""
    if reload is None:
        return None
    if isinstance(reload, str | FieldRef):
        reload = (reload,)
    model = controller.render.model
    names: list[str] = []
    for item in reload:
        if isinstance(item, FieldRef):
            if not issubclass(model, item.model):
                raise ValueError(f"reload field {item} is not a field of {model.__qualname__}")
            names.append(item.name)
        elif isinstance(item, str):
            names.append(item)
        else:
            raise TypeError(f"reload= takes Model.field or field names, got {item!r}")
    unknown = sorted(n for n in names if n not in model.model_fields)
    if unknown:
        raise ValueError(
            f"reload names {unknown} are not fields of {model.__qualname__} "
            f"(fields: {sorted(model.model_fields)})"
        )
    return frozenset(names)


class Broadcaster:
    """One app's publisher of page changes, through its channel broker.

    ``broker`` is read on every publish: the app's broker may be replaced
    (closed and started again) but the broadcaster stays.
    """

    def __init__(self, broker: Callable[[], Broker]) -> None:
        self._broker = broker

    @property
    def broker(self) -> Broker:
        return self._broker()

    async def publish(self, key: str, reload: Reload) -> None:
        """Tell every viewer of the page ``key`` (any worker) to re-render ``reload``."""
        data = encode_change(reload)
        await self.broker.publish(LIVE_CHANNEL, key, data, history=LIVE_HISTORY, ttl=LIVE_TTL)

    async def broadcast(
        self,
        controller: ControllerRuntime,
        page: str,
        reload: Iterable[Any] | None,
    ) -> None:
        """``controller.broadcast(page, reload=...)``: locate ``page``, then publish."""
        if not isinstance(page, str):
            raise TypeError("broadcast(page) takes a page location such as '/rooms/lobby'")
        names = reload_names(controller, reload)
        location = controller.render.pattern.locate(Headers(headers={PAGE_HEADER: page}))
        values = validate_page_values(controller.render.plan, location.query, location.path)
        await self.publish(page_key(controller.spec.id, values), names)

    async def page_changed(
        self,
        controller: ControllerRuntime,
        action: ActionRuntime,
        query: Mapping[str, list[str]],
        path: Mapping[str, str],
    ) -> None:
        """After a ``broadcast=True`` sideeffect on the page ``query``/``path``: publish.

        Called once the caller has its answer. Never raises: the mutation is
        done and answered, so a broker failure is logged, not reported.
        """
        if not action.spec.broadcast:
            return
        try:
            values = validate_page_values(controller.render.plan, query, path)
            await self.publish(page_key(controller.spec.id, values), action.reload_include)
        except Exception:
            logger.exception(
                "%s.%s: could not tell the page's viewers it changed",
                controller.spec.id,
                action.spec.name,
            )
