"""Raw Starlette: the same validation by hand, the same orjson response."""

from __future__ import annotations

import orjson
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench.apps.models import Order, quote

PATH = "/quote"


def _json(status: int, payload: object) -> Response:
    return Response(orjson.dumps(payload), status_code=status, media_type="application/json")


async def quote_endpoint(request: Request) -> Response:
    try:
        discount = int(request.query_params.get("discount", "0"))
    except ValueError:
        return _json(422, {"detail": [{"loc": ["query", "discount"], "msg": "not an int"}]})
    try:
        order = Order.model_validate_json(await request.body())
    except ValidationError as exc:
        return _json(422, {"detail": exc.errors(include_url=False, include_input=False)})
    return _json(200, {"passthrough": quote(order, discount).model_dump(mode="json")})


app = Starlette(routes=[Route(PATH, quote_endpoint, methods=["POST"])])
