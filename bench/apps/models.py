"""The request and response models every benchmarked endpoint shares.

The work per request is identical across frameworks: validate a JSON body
into ``Order``, validate an int query parameter, build a ``Quote`` and encode
it as JSON.
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class Order(BaseModel):
    item: str
    qty: int = Field(ge=1)
    price: float


class Quote(BaseModel):
    item: str
    total: float
    discount: int


def quote(order: Order, discount: int) -> Quote:
    return Quote(item=order.item, total=order.qty * order.price - discount, discount=discount)
