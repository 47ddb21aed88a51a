"""Answers carry every value pydantic accepted, also integers past 64 bits.

orjson refuses integers outside the signed/unsigned 64-bit range; a body model's
``int`` field takes any integer, so echoing one back was a 500 (found by
schemathesis fuzzing the OpenAPI document).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pydantic import BaseModel

from rpc import APIException, ControllerBase, RenderBase, RPCApp, passthrough, sideeffect
from tests.rpc.asgi import ASGIResult, call

pytestmark = pytest.mark.anyio

HUGE = -92706548116465134986151854080


class Numbers(BaseModel):
    values: list[int]
    label: str = ""


class TooMany(APIException):
    status_code = 409
    detail = "too many"
    count: int = 0


class BigState(RenderBase):
    total: int


class BigController(ControllerBase):
    url = "/big"

    def __init__(self) -> None:
        self.total = 2**70

    async def render(self) -> BigState:
        return BigState(total=self.total)

    @passthrough
    async def echo(self, payload: Numbers) -> Numbers:
        return payload

    @sideeffect
    async def add(self, payload: Numbers) -> int:
        self.total += sum(payload.values)
        return self.total

    @passthrough(exception_models=[TooMany])
    async def refuse(self, payload: Numbers) -> None:
        raise TooMany(count=sum(payload.values))

    @passthrough
    async def count(self, payload: Numbers) -> AsyncIterator[Numbers]:
        yield payload


def build() -> RPCApp:
    return RPCApp(controllers=[BigController()])


async def post(app: RPCApp, action: str, body: Any) -> ASGIResult:
    # The stdlib encoder and decoder: the test's own JSON must handle big integers too.
    content = json.dumps(body).encode()
    headers = [("content-type", "application/json")]
    return await call(
        app, "POST", f"/internal/api/BigController/{action}", headers=headers, chunks=(content,)
    )


async def test_encoding_echoes_integers_past_64_bits() -> None:
    sent = {"values": [HUGE, 1, 2**64], "label": "caf\u00e9 \u2603"}
    result = await post(build(), "echo", sent)
    assert result.status == 200, result.body
    assert json.loads(result.body) == {"passthrough": sent}


async def test_encoding_renders_and_reloads_state_past_64_bits() -> None:
    app = build()
    rendered = await call(app, "GET", "/internal/api/BigController/render")
    assert (rendered.status, json.loads(rendered.body)) == (200, {"total": 2**70})
    added = await post(app, "add", {"values": [1]})
    assert added.status == 200, added.body
    assert json.loads(added.body) == {"sideeffect": {"total": 2**70 + 1}, "passthrough": 2**70 + 1}


async def test_encoding_streams_items_past_64_bits() -> None:
    result = await post(build(), "count", {"values": [HUGE]})
    assert result.status == 200, result.body
    data = [line[6:] for line in result.body.split(b"\n") if line.startswith(b"data: ")]
    assert json.loads(data[0]) == {"values": [HUGE], "label": ""}
    assert b"event: end" in result.body


async def test_encoding_typed_error_fields_past_64_bits() -> None:
    result = await post(build(), "refuse", {"values": [HUGE]})
    assert result.status == 409, result.body
    assert json.loads(result.body) == {"detail": "too many", "count": HUGE}
