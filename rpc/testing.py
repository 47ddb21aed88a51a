"""Calling a Belay app in-process from your own tests.

``RPCTestClient`` wraps an ``httpx.AsyncClient`` over ``httpx.ASGITransport``
(httpx is a test dependency, imported only here)::

    async with RPCTestClient(app) as client:
        state = await client.render("CounterController", page="/rooms/lobby")
        response = await client.action(
            "CounterController", "increment",
            params={"room": "lobby"}, body={"count": 5}, page="/rooms/lobby",
        )
        assert response.status_code == 200
        assert response.json()["sideeffect"]["count"] == 5
        events = await client.stream("CounterController", "ticks", params={"limit": 3})
        assert [e.data for e in events] == [{"n": 0}, {"n": 1}, {"n": 2}]

The requests go through the full ASGI app: binding, dependencies (and
``app.dependency_overrides``), errors, and the stream wire format.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import httpx
import orjson

from rpc.app import RPCApp
from rpcmeta import PAGE_HEADER


@dataclass(frozen=True)
class StreamEvent:
    """One parsed Server-Sent Event: its name (``message`` for items), id and JSON data."""

    event: str
    data: Any
    id: str | None


class RPCTestClient:
    """An async client bound to an ``RPCApp`` (or any ASGI app mounting one)."""

    def __init__(self, app: Any, *, prefix: str | None = None, base_url: str = "http://testserver"):
        if not isinstance(app, RPCApp) and prefix is None:
            raise TypeError("pass prefix= (e.g. '/rpc/internal/api') when app is not an RPCApp")
        self.prefix: str = prefix if prefix is not None else app.prefix
        self._client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=base_url, timeout=30
        )

    async def __aenter__(self) -> RPCTestClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    @property
    def http(self) -> httpx.AsyncClient:
        """The underlying httpx client, for anything the helpers do not cover."""
        return self._client

    async def render(
        self, controller: str, *, page: str | None = None, headers: Mapping[str, str] | None = None
    ) -> Any:
        """The page state as JSON; raises ``httpx.HTTPStatusError`` on an error status."""
        response = await self._client.get(
            f"{self.prefix}/{controller}/render", headers=_headers(page, headers)
        )
        response.raise_for_status()
        return response.json()

    async def action(
        self,
        controller: str,
        action: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        page: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """POST an action; the raw response, whatever its status."""
        all_headers = _headers(page, headers)
        content = None
        if body is not None:
            content = orjson.dumps(body)
            all_headers["content-type"] = "application/json"
        return await self._client.post(
            f"{self.prefix}/{controller}/{action}",
            params=params,
            content=content,
            headers=all_headers,
        )

    async def stream(
        self,
        controller: str,
        action: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        page: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> list[StreamEvent]:
        """Run a streaming action to its end and return every event (items, end, error).

        A streaming sideeffect's events include its ``state`` (pass its ``page``).
        """
        response = await self.action(
            controller, action, params=params, body=body, page=page, headers=headers
        )
        response.raise_for_status()
        return parse_events(response.text)


def parse_events(text: str) -> list[StreamEvent]:
    """Parse an SSE body into events (comments such as pings are dropped)."""
    events: list[StreamEvent] = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        name, event_id, data_lines = "message", None, []
        for line in block.split("\n"):
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                name = value
            elif field == "id":
                event_id = value
            elif field == "data":
                data_lines.append(value)
        if data_lines:
            events.append(StreamEvent(name, orjson.loads("\n".join(data_lines)), event_id))
    return events


def _headers(page: str | None, headers: Mapping[str, str] | None) -> dict[str, str]:
    out = dict(headers or {})
    if page is not None:
        out[PAGE_HEADER] = page
    return out
