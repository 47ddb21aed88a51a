"""The live route as documented: the frames a real server sends validate against the document."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import anyio
import httpx
import pytest

from rpc.openapi import openapi_document
from tests.openapi.documents import API, event_valid, frames
from tests.openapi.fuzz_app import build_app
from tests.support.server import running_server
from tests.support.sse import Frame, iter_frames

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

PAGE = {"x-belay-page": "/stores/lobby"}


@pytest.fixture
def anyio_backend() -> str:
    # asyncio only, like the other httpx-stream tests: leaving httpx's byte iterator
    # early leaves its generator to the GC, which trio reports as unraisable.
    return "asyncio"


def as_event(frame: Frame) -> dict[str, Any]:
    """A frame as OpenAPI 3.2 itemSchema readers (schemathesis) see it; no event line: message."""
    event: dict[str, Any] = {"event": frame.get("event", "message"), "data": frame["data"]}
    if "id" in frame:
        event["id"] = frame["id"]
    return event


async def test_live_frames_are_as_documented() -> None:
    app = build_app()
    document = openapi_document(app)
    schema = frames(document, "/StoreController/live")
    received: list[Frame] = []
    with running_server(app) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
            with anyio.fail_after(30):
                live = http.stream("GET", f"{API}/StoreController/live", headers=PAGE)
                async with live as response:
                    assert response.status_code == 200
                    assert response.headers["content-type"].startswith("text/event-stream")
                    async with contextlib.aclosing(iter_frames(response.aiter_bytes())) as it:
                        async for frame in it:
                            if "data" not in frame:
                                continue  # a ping
                            received.append(frame)
                            if len(received) == 2:
                                break
                            renamed = await http.post(
                                f"{API}/StoreController/rename",
                                params={"store": "lobby"},
                                json={"title": "new"},
                                headers=PAGE,
                            )
                            assert renamed.status_code == 200, renamed.text
    events = [as_event(frame) for frame in received]
    assert [event_valid(document, schema, event) for event in events] == [True, True]
    assert json.loads(events[0]["data"])["title"] == "untitled"  # the full state first
    assert json.loads(events[1]["data"]) == {"title": "new"}  # then the changed field
