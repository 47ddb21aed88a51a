"""Argument binding: body model, query scalars and lists, defaults, Request, declarations."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from pydantic import BaseModel

from rpc import ControllerBase, DeclarationError, RPCApp, passthrough
from rpc.specs import ParamSource
from tests.rpc.apps import HomeState, Item
from tests.rpc.conftest import API

pytestmark = pytest.mark.anyio

BINDING = f"{API}/BindingController"
UID = uuid.UUID("12345678-1234-5678-1234-567812345678")
SCALARS = {
    "i": "3",
    "f": "2.5",
    "b": "true",
    "color": "green",
    "level": "2",
    "uid": str(UID),
    "day": "2024-02-29",
    "moment": "2024-02-29T12:30:00+00:00",
    "mode": "slow",
}


async def test_binding_body_model_and_query_param(client: httpx.AsyncClient) -> None:
    response = await client.post(
        f"{BINDING}/create", params={"note": "hi"}, json={"name": "pen", "qty": 2}
    )
    assert response.status_code == 200
    assert response.json() == {"passthrough": {"name": "pen:hi", "qty": 2}}


async def test_binding_query_default_used_when_absent(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{BINDING}/create", json={"name": "pen", "qty": 2})
    assert response.json()["passthrough"]["name"] == "pen:none"


async def test_binding_query_scalars_are_coerced(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{BINDING}/scalars", params=SCALARS)
    assert response.status_code == 200, response.text
    assert response.json()["passthrough"] == {
        "i": ["int", "3"],
        "f": ["float", "2.5"],
        "b": ["bool", "True"],
        "color": ["Color", "Color.GREEN"],
        "level": ["Level", "2"],
        "uid": ["UUID", str(UID)],
        "day": ["date", "2024-02-29"],
        "moment": ["datetime", "2024-02-29 12:30:00+00:00"],
        "mode": ["str", "slow"],
        "maybe": ["NoneType", "None"],
        "limited": ["int", "1"],
    }


@pytest.mark.parametrize(
    ("raw", "expected"), [("false", "False"), ("0", "False"), ("1", "True"), ("yes", "True")]
)
async def test_binding_query_bool_spellings(
    client: httpx.AsyncClient, raw: str, expected: str
) -> None:
    response = await client.post(f"{BINDING}/scalars", params={**SCALARS, "b": raw})
    assert response.json()["passthrough"]["b"] == ["bool", expected]


async def test_binding_query_optional_given(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{BINDING}/scalars", params={**SCALARS, "maybe": "9"})
    assert response.json()["passthrough"]["maybe"] == ["int", "9"]


@pytest.mark.parametrize(
    ("name", "value", "error_type"),
    [
        ("i", "3.5", "int_parsing"),
        ("f", "x", "float_parsing"),
        ("b", "maybe", "bool_parsing"),
        ("color", "blue", "enum"),
        ("level", "7", "enum"),
        ("uid", "not-a-uuid", "uuid_parsing"),
        ("day", "2024-02-30", "date_from_datetime_parsing"),
        ("moment", "noon", "datetime_from_date_parsing"),
        ("mode", "medium", "literal_error"),
        ("limited", "0", "greater_than_equal"),
    ],
)
async def test_binding_query_scalar_errors(
    client: httpx.AsyncClient, name: str, value: str, error_type: str
) -> None:
    response = await client.post(f"{BINDING}/scalars", params={**SCALARS, name: value})
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["query", name]
    assert error["type"] == error_type


async def test_binding_list_query_params_are_repeated_keys(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{BINDING}/tags?tag=a&tag=b&n=1&n=2&n=3")
    assert response.json() == {"passthrough": {"tag": ["a", "b"], "n": [1, 2, 3]}}


async def test_binding_list_query_single_and_absent_optional(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{BINDING}/tags?tag=only")
    assert response.json() == {"passthrough": {"tag": ["only"], "n": None}}


async def test_binding_list_query_item_error_has_index(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{BINDING}/tags?tag=a&n=1&n=x")
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["query", "n", 1]


async def test_binding_required_list_missing_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{BINDING}/tags")
    assert response.json()["detail"][0]["loc"] == ["query", "tag"]


async def test_binding_defaults_and_percent_decoding(client: httpx.AsyncClient) -> None:
    assert (await client.post(f"{BINDING}/defaults")).json() == {"passthrough": [5, "x"]}
    response = await client.post(f"{BINDING}/defaults?a=7&s=caf%C3%A9%20%26%20bar")
    assert response.json() == {"passthrough": [7, "café & bar"]}


async def test_binding_request_is_injected(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{BINDING}/whoami", headers={"x-user": "ada"})
    assert response.json() == {"passthrough": {"method": "POST", "user": "ada"}}


async def test_binding_return_shapes(client: httpx.AsyncClient) -> None:
    assert (await client.post(f"{BINDING}/nothing")).json() == {"passthrough": None}
    assert (await client.post(f"{BINDING}/number")).json() == {"passthrough": 1.5}
    assert (await client.post(f"{BINDING}/items?count=2")).json() == {
        "passthrough": [{"name": "i0", "qty": 0}, {"name": "i1", "qty": 1}]
    }
    assert (await client.post(f"{BINDING}/mapping")).json() == {
        "passthrough": {"a": {"name": "a", "qty": 1}}
    }


def test_binding_postponed_annotations_resolved() -> None:
    from tests.rpc.apps import app

    spec = next(s for s in app.controller_specs if s.id == "BindingController")
    create = next(a for a in spec.actions if a.name == "create")
    assert create.body is not None
    assert create.body.annotation is Item
    assert [(p.name, p.source, p.annotation) for p in create.params] == [
        ("item", ParamSource.BODY, Item),
        ("note", ParamSource.QUERY, str),
    ]
    assert spec.render.model is HomeState


class Other(BaseModel):
    x: int


def _declare(method: Any) -> RPCApp:
    controller = type("Declared", (ControllerBase,), {"render": _render, "act": method})
    return RPCApp([controller()])


async def _render(self: Any) -> HomeState:
    return HomeState(title="", page=0)


def test_binding_two_body_models_is_a_declaration_error() -> None:
    @passthrough
    async def act(self: Any, a: Item, b: Other) -> None: ...

    with pytest.raises(DeclarationError, match=r"only one pydantic-model parameter.*a, b"):
        _declare(act)


def test_binding_unsupported_parameter_type_is_a_declaration_error() -> None:
    @passthrough
    async def act(self: Any, data: dict[str, int]) -> None: ...

    with pytest.raises(DeclarationError, match="'data'"):
        _declare(act)


def test_binding_var_args_are_a_declaration_error() -> None:
    @passthrough
    async def act(self: Any, *values: int) -> None: ...

    with pytest.raises(DeclarationError, match=r"\*args"):
        _declare(act)


def test_binding_unresolvable_annotation_is_a_declaration_error() -> None:
    @passthrough
    async def act(self: Any, x: NotDefinedAnywhere) -> None: ...  # type: ignore[name-defined]  # noqa: F821

    with pytest.raises(DeclarationError, match="cannot resolve"):
        _declare(act)


def test_binding_render_taking_a_body_is_a_declaration_error() -> None:
    async def render(self: Any, item: Item) -> HomeState:
        raise NotImplementedError

    controller = type("BodyRender", (ControllerBase,), {"render": render})
    with pytest.raises(DeclarationError, match=r"render.*body"):
        RPCApp([controller()])


def test_binding_render_without_model_return_is_a_declaration_error() -> None:
    async def render(self: Any) -> dict[str, int]:
        raise NotImplementedError

    controller = type("DictRender", (ControllerBase,), {"render": render})
    with pytest.raises(DeclarationError, match="must be annotated to return a pydantic model"):
        RPCApp([controller()])

    async def bare(self: Any):  # type: ignore[no-untyped-def]
        ...

    controller = type("BareRender", (ControllerBase,), {"render": bare})
    with pytest.raises(DeclarationError, match=r"\.bare must be annotated.*got None"):
        RPCApp([controller()])


class OptionalBodyController(ControllerBase):
    url = "/"

    async def render(self) -> HomeState:
        return HomeState(title="home", page=1)

    @passthrough
    async def maybe(self, item: Item | None = None) -> str:
        return "none" if item is None else item.name


async def test_binding_optional_body_model_takes_empty_body_or_model() -> None:
    app = RPCApp(controllers=[OptionalBodyController()])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        url = f"{API}/OptionalBodyController/maybe"
        empty = await http.post(url)
        given = await http.post(url, json={"name": "rope", "qty": 1})
        invalid = await http.post(url, json={"qty": "x"})
    assert empty.json() == {"passthrough": "none"}
    assert given.json() == {"passthrough": "rope"}
    assert invalid.status_code == 422
    spec = app.controller_specs[0].actions[0]
    assert spec.body is not None
    assert spec.body.annotation is Item
    assert spec.body.required is False


async def test_binding_optional_body_model_takes_json_null_as_absent() -> None:
    app = RPCApp(controllers=[OptionalBodyController()])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        response = await http.post(
            f"{API}/OptionalBodyController/maybe",
            content=b"null",
            headers={"content-type": "application/json"},
        )
    assert response.json() == {"passthrough": "none"}
