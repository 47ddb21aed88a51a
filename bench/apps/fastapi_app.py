"""FastAPI: the idiomatic endpoint (body model + query param, typed response model).

FastAPI serialises a declared return type with pydantic straight to JSON bytes,
its fastest path (it deprecates ``ORJSONResponse`` for that reason).
"""

from __future__ import annotations

from fastapi import FastAPI
from pydantic import BaseModel

from bench.apps.models import Order, Quote, quote

PATH = "/quote"


class Envelope(BaseModel):
    passthrough: Quote


app = FastAPI(openapi_url=None)


@app.post(PATH)
async def quote_endpoint(order: Order, discount: int = 0) -> Envelope:
    return Envelope(passthrough=quote(order, discount))
