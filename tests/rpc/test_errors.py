"""Error bodies: 422 shapes, APIException, 500 with one logged traceback, debug mode."""

from __future__ import annotations

import datetime
import logging

import httpx
import orjson
import pytest
from starlette.exceptions import HTTPException as StarletteHTTPException

from rpc import APIException, ControllerBase, RPCApp, passthrough
from rpc.errors import render_error
from tests.rpc.apps import HomeState, Item, RoomFull, build_app
from tests.rpc.conftest import API

pytestmark = pytest.mark.anyio

BINDING = f"{API}/BindingController"


async def test_errors_body_validation_is_422_with_body_locs(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{BINDING}/create", json={"qty": -1})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert response.json() == {"detail": detail}
    by_loc = {tuple(err["loc"]): err for err in detail}
    assert set(by_loc) == {("body", "name"), ("body", "qty")}
    assert by_loc[("body", "name")]["type"] == "missing"
    assert by_loc[("body", "qty")]["type"] == "greater_than_equal"
    assert all(set(err) == {"loc", "msg", "type"} for err in detail)
    assert all(isinstance(err["msg"], str) and err["msg"] for err in detail)


async def test_errors_missing_body_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{BINDING}/create")
    assert response.status_code == 422
    assert response.json() == {
        "detail": [{"loc": ["body"], "msg": "Field required", "type": "missing"}]
    }


async def test_errors_body_of_wrong_json_type_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{BINDING}/create", json=[1, 2])
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body"]
    assert error["type"] == "model_type"


async def test_errors_query_validation_is_422_with_query_locs(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(f"{BINDING}/items", params={"count": "many"})
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "loc": ["query", "count"],
                "msg": "Input should be a valid integer, unable to parse string as an integer",
                "type": "int_parsing",
            }
        ]
    }


async def test_errors_missing_query_param_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{BINDING}/items")
    assert response.json()["detail"] == [
        {"loc": ["query", "count"], "msg": "Field required", "type": "missing"}
    ]


async def test_errors_body_and_query_errors_reported_together(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        f"{BINDING}/create", params={"note": ["a", "b"]}, json={"name": 1, "qty": 1}
    )
    # note takes the last value of a repeated scalar; only the body is wrong here
    assert [err["loc"] for err in response.json()["detail"]] == [["body", "name"]]
    response = await client.post(
        f"{API}/RoomController/increment", json={"count": "x"}, headers={"x-belay-page": "/rooms/a"}
    )
    locs = sorted(tuple(err["loc"]) for err in response.json()["detail"])
    assert locs == [("body", "count"), ("query", "room")]


async def test_errors_path_validation_is_422_with_path_loc() -> None:
    class Numbered(ControllerBase):
        url = "/n/{number}"

        async def render(self, number: int) -> HomeState:
            return HomeState(title="n", page=number)

    app = RPCApp([Numbered()])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        ok = await http.get(f"{API}/Numbered/render", headers={"x-belay-page": "/n/7"})
        assert ok.json() == {"title": "n", "page": 7}
        bad = await http.get(f"{API}/Numbered/render", headers={"x-belay-page": "/n/seven"})
    assert bad.status_code == 422
    [error] = bad.json()["detail"]
    assert error["loc"] == ["path", "number"]
    assert error["type"] == "int_parsing"


async def test_errors_api_exception_status_and_fields(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{API}/RoomController/peek", params={"room": "full"})
    assert response.status_code == 409
    assert response.json() == {"detail": "room is full", "capacity": 12}


async def test_errors_api_exception_defaults_and_detail_override() -> None:
    assert RoomFull().body() == {"detail": "room is full", "capacity": 10}
    assert RoomFull("no seats").body() == {"detail": "no seats", "capacity": 10}
    with pytest.raises(TypeError, match="seats"):
        RoomFull(seats=1)


class Boom(ControllerBase):
    url = "/boom"

    async def render(self) -> HomeState:
        raise RuntimeError("render exploded")

    @passthrough
    async def explode(self) -> int:
        raise RuntimeError("secret internals")

    @passthrough
    def explode_sync(self) -> int:
        raise KeyError("sync secret")

    @passthrough
    async def teapot(self) -> int:
        class Teapot(APIException):
            status_code = 418
            detail = "short and stout"
            headers = {"X-Pot": "1"}

        raise Teapot()


def _client(app: RPCApp) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


@pytest.mark.parametrize("action", ["explode", "explode_sync"])
async def test_errors_unexpected_exception_is_500_logged_once(
    caplog: pytest.LogCaptureFixture, action: str
) -> None:
    async with _client(RPCApp([Boom()])) as http:
        with caplog.at_level(logging.ERROR, logger="belay"):
            response = await http.post(f"{API}/Boom/{action}")
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal Server Error"}
    assert "secret" not in response.text
    logged = [r for r in caplog.records if r.exc_info is not None]
    assert len(logged) == 1
    assert "secret" in str(logged[0].exc_info[1])  # type: ignore[index]


async def test_errors_api_exception_not_logged_and_headers_kept(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with _client(RPCApp([Boom()])) as http:
        with caplog.at_level(logging.DEBUG, logger="belay"):
            response = await http.post(f"{API}/Boom/teapot")
    assert response.status_code == 418
    assert response.headers["x-pot"] == "1"
    assert response.json() == {"detail": "short and stout"}
    assert not [r for r in caplog.records if r.exc_info]


async def test_errors_debug_adds_traceback_to_json_500() -> None:
    async with _client(RPCApp([Boom()], debug=True)) as http:
        response = await http.post(f"{API}/Boom/explode", headers={"accept": "text/html"})
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["detail"] == "Internal Server Error"
    assert "RuntimeError: secret internals" in body["traceback"]


async def test_errors_debug_render_html_page_only_for_html_gets() -> None:
    async with _client(RPCApp([Boom()], debug=True)) as http:
        page = await http.get(f"{API}/Boom/render", headers={"accept": "text/html,*/*"})
        as_json = await http.get(f"{API}/Boom/render", headers={"accept": "application/json"})
    assert page.status_code == 500
    assert page.headers["content-type"].startswith("text/html")
    assert "render exploded" in page.text
    assert "Traceback" in page.text
    assert as_json.status_code == 500
    assert as_json.headers["content-type"] == "application/json"
    assert "render exploded" in as_json.json()["traceback"]


async def test_errors_no_traceback_or_html_without_debug() -> None:
    async with _client(RPCApp([Boom()])) as http:
        response = await http.get(f"{API}/Boom/render", headers={"accept": "text/html"})
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"detail": "Internal Server Error"}


async def test_errors_debug_can_be_switched_at_run_time() -> None:
    app = RPCApp([Boom()])
    app.debug = True
    async with _client(app) as http:
        response = await http.post(f"{API}/Boom/explode")
    assert "traceback" in response.json()


@pytest.mark.parametrize("action", ["wrong", "wrong_model"])
async def test_errors_return_value_of_wrong_type_is_500(
    caplog: pytest.LogCaptureFixture, action: str
) -> None:
    async with _client(build_app()) as http:
        with caplog.at_level(logging.ERROR, logger="belay"):
            response = await http.post(f"{BINDING}/{action}")
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal Server Error"}
    assert len([r for r in caplog.records if r.exc_info]) == 1


class Conflict(APIException):
    status_code = 409
    detail = "conflict"
    item: Item | None = None
    items: list[Item] = []
    when: datetime.date | None = None


async def test_errors_api_exception_model_fields_are_json_objects() -> None:
    exc = Conflict(
        item=Item(name="a", qty=1), items=[Item(name="b", qty=2)], when=datetime.date(2024, 1, 2)
    )
    payload = render_error(exc)
    assert payload.status == 409
    assert orjson.loads(payload.body) == {
        "detail": "conflict",
        "item": {"name": "a", "qty": 1},
        "items": [{"name": "b", "qty": 2}],
        "when": "2024-01-02",
    }


class StarletteErrorController(ControllerBase):
    url = "/"

    async def render(self) -> HomeState:
        return HomeState(title="home", page=1)

    @passthrough
    async def teapot(self) -> None:
        raise StarletteHTTPException(418, detail="short and stout", headers={"x-kind": "pot"})


async def test_errors_starlette_http_exception_keeps_its_status_detail_and_headers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = RPCApp(controllers=[StarletteErrorController()])
    async with _client(app) as http:
        with caplog.at_level(logging.ERROR, logger="belay"):
            response = await http.post(f"{API}/StarletteErrorController/teapot")
    assert response.status_code == 418
    assert response.json() == {"detail": "short and stout"}
    assert response.headers["x-kind"] == "pot"
    assert not [r for r in caplog.records if r.exc_info]  # an expected error: no traceback
