"""Belay: a passthrough action with a pydantic body and a query parameter."""

from __future__ import annotations

from pydantic import BaseModel

from bench.apps.models import Order, Quote, quote
from rpc import ControllerBase, RPCApp, passthrough

PATH = "/internal/api/BenchController/quote"


class BenchState(BaseModel):
    ok: bool


class BenchController(ControllerBase):
    url = "/"

    async def render(self) -> BenchState:
        return BenchState(ok=True)

    @passthrough
    async def quote(self, order: Order, discount: int = 0) -> Quote:
        return quote(order, discount)


app = RPCApp([BenchController()])
