"""The OpenAPI document: valid 3.1, every route, named as the TS client names things."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate

from codegen import generate_client
from rpc import RPCApp
from rpc.description import describe_app
from rpc.openapi import OPENAPI_VERSION, openapi_document
from rpc.openapi.document import build_document
from rpc.openapi.parameters import page_pattern
from rpcmeta import DescriptionError, dump_description, load_description
from tests.codegen.fixture_app import build_app as build_fixture_app
from tests.openapi.documents import API, event_valid, frames, operation, valid
from tests.openapi.fuzz_app import build_app

FRAMEWORK = {"BelayError", "BelayStreamError", "BelayValidationError", "BelayValidationIssue"}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return openapi_document(build_app())


@pytest.mark.parametrize("build", [build_app, build_fixture_app])
def test_document_passes_the_openapi_spec_validator(build: Any) -> None:
    document = openapi_document(build())
    validate(document)
    assert document["openapi"] == OPENAPI_VERSION == "3.1.0"


def test_document_has_every_route_with_its_operation_id(document: dict[str, Any]) -> None:
    ids = {
        (method.upper(), path.removeprefix(API), op["operationId"])
        for path, item in document["paths"].items()
        for method, op in item.items()
    }
    assert ids == {
        ("GET", "/StoreController/render", "StoreController.render"),
        ("GET", "/StoreController/live", "StoreController.live"),
        *(
            ("POST", f"/StoreController/{name}", f"StoreController.{name}")
            for name in ("add", "rename", "touch", "find", "echo", "maybe", "ticks")
        ),
        *(
            ("POST", f"/StoreController/{name}", f"StoreController.{name}")
            for name in ("resumable", "broken", "hello")  # hello: inherited from a base
        ),
        ("GET", "/PlainController/render", "PlainController.render"),
        ("GET", "/PlainController/live", "PlainController.live"),
        ("POST", "/PlainController/version", "PlainController.version"),
    }


def test_document_query_parameters_and_headers(document: dict[str, Any]) -> None:
    find = operation(document, "/StoreController/find")
    params = {(p["name"], p["in"]): p for p in find["parameters"]}
    assert set(params) == {
        ("ids", "query"),
        ("color", "query"),
        ("shelf", "query"),
        ("limit", "query"),
    }
    assert params["ids", "query"]["required"] is True
    assert params["ids", "query"]["schema"] == {  # bounded as the server validates it
        "type": "array",
        "items": {"type": "integer", "minimum": -(2**63), "maximum": 2**63 - 1},
    }
    assert params["limit", "query"]["schema"] == {"type": "integer", "minimum": 0, "maximum": 20}
    assert params["shelf", "query"]["schema"] == {"$ref": "#/components/schemas/Shelf"}  # no null
    add = {(p["name"], p["in"]) for p in operation(document, "/StoreController/add")["parameters"]}
    assert ("X-Belay-Page", "header") in add  # a sideeffect re-renders its page
    ticks = operation(document, "/StoreController/ticks")
    assert ("Last-Event-ID", "header") in {(p["name"], p["in"]) for p in ticks["parameters"]}
    assert "X-Belay-Page" not in {p["name"] for p in ticks["parameters"]}


def test_document_render_takes_its_values_from_the_page(document: dict[str, Any]) -> None:
    render = operation(document, "/StoreController/render")
    (header,) = render["parameters"]
    assert header["name"] == "X-Belay-Page"
    assert header["required"] is True
    pattern = re.compile(header["schema"]["pattern"])
    assert pattern.match("/stores/lobby?page=2")
    assert pattern.match("https://x.test/stores/a/")
    assert not pattern.match("/stores/")
    assert not pattern.match("/plain")
    assert render["x-belay-page"] == {
        "url": "/stores/{store}",
        "parameters": [
            {"name": "store", "in": "path", "required": True, "schema": {"type": "string"}},
            {
                "name": "page",
                "in": "query",
                "required": False,
                "schema": {"type": "integer", "minimum": 0, "maximum": 20},
            },
        ],
    }
    plain = operation(document, "/PlainController/render")
    assert plain["parameters"][0]["required"] is False  # no path parameter: the url itself


def test_page_pattern_escapes_literals_for_ecma_regexes() -> None:
    pattern = page_pattern("/a.b/{y}-{m}/(x)")
    assert "\\-" not in pattern
    assert "\\/" not in pattern
    assert re.match(pattern, "/a.b/2020-01/(x)?q=1#top")
    assert not re.match(pattern, "/aXb/2020-01/(x)")


def test_document_envelopes(document: dict[str, Any]) -> None:
    def success(path: str) -> dict[str, Any]:
        content = operation(document, path)["responses"]["200"]["content"]
        schema: dict[str, Any] = content["application/json"]["schema"]
        return schema

    add = success("/StoreController/add")
    state = {"store": "a", "items": [], "title": "t", "page": 0}
    assert valid(document, add, {"sideeffect": state, "passthrough": 3})
    assert not valid(document, add, {"passthrough": 3})
    rename = success("/StoreController/rename")  # reload=(title,): only that field
    assert rename["properties"]["sideeffect"]["required"] == ["title"]
    assert valid(document, rename, {"sideeffect": {"title": "t"}, "passthrough": None})
    assert not valid(document, rename, {"sideeffect": {}, "passthrough": None})
    find = success("/StoreController/find")
    assert find["required"] == ["passthrough"]
    assert valid(
        document, find, {"passthrough": {"items": [{"name": "x", "quantity": 1}], "total": 1}}
    )


def test_document_request_bodies(document: dict[str, Any]) -> None:
    def body(path: str) -> dict[str, Any]:
        result: dict[str, Any] = operation(document, path)["requestBody"]
        return result

    assert body("/StoreController/add")["required"] is True
    echo = body("/StoreController/echo")["content"]["application/json"]["schema"]
    assert echo == {"$ref": "#/components/schemas/CatalogInput"}  # what the server reads
    scalars = {"text": "", "whole": 1, "ratio": 1.5, "price": 2.5, "flag": True, "nothing": None}
    scalars |= {"at": "2020-01-01T00:00:00Z", "day": "2020-01-01", "clock": "10:00:00"}
    scalars |= {"ident": "e3e70682-c209-4cac-a29f-6fbed82c07cd"}
    assert valid(document, echo, {"scalars": scalars})  # a Decimal read from a number
    maybe = body("/StoreController/maybe")
    assert maybe["required"] is False
    assert valid(document, maybe["content"]["application/json"]["schema"], None)
    touch = body("/StoreController/touch")
    assert touch["required"] is False
    assert not valid(document, touch["content"]["application/json"]["schema"], {"x": 1})


def test_document_typed_and_framework_errors(document: dict[str, Any]) -> None:
    responses = operation(document, "/StoreController/find")["responses"]
    assert set(responses) == {"200", "400", "403", "408", "409", "413", "415", "422", "500"}
    conflict = responses["409"]
    assert conflict["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/SoldOutBody"
    }
    assert conflict["headers"]["X-Belay-Error-Type"]["schema"]["enum"] == ["SoldOut"]
    forbidden = responses["403"]["content"]["application/json"]["schema"]  # shared with CSRF
    assert valid(document, forbidden, {"detail": "forbidden", "reason": "negative"})
    assert valid(document, forbidden, {"detail": "cross-site request refused"})
    invalid = responses["422"]["content"]["application/json"]["schema"]
    issue = {"loc": ["query", "ids", 0], "msg": "bad", "type": "int_parsing"}
    assert valid(document, invalid, {"detail": [issue]})
    assert not valid(document, invalid, {"detail": "bad"})
    render = operation(document, "/StoreController/render")["responses"]
    assert set(render) == {"200", "400", "422", "500"}
    stream = operation(document, "/StoreController/ticks")["responses"]
    assert {"409", "503"} <= set(stream)
    assert set(document["components"]["responses"]) == {"Belay404", "Belay405"}


def test_document_stream_events(document: dict[str, Any]) -> None:
    ticks = frames(document, "/StoreController/ticks")
    assert event_valid(document, ticks, {"event": "message", "data": '{"n": 1}'})
    assert event_valid(document, ticks, {"data": '{"n": 1}', "id": "7"})
    assert not event_valid(document, ticks, {"data": '{"n": "one"}'})
    assert event_valid(document, ticks, {"event": "end", "data": "{}"})
    typed = '{"status": 409, "type": "SoldOut", "body": {"detail": "sold out", "left": 1}}'
    assert event_valid(document, ticks, {"event": "error", "data": typed})
    untyped = '{"status": 500, "type": null, "body": {"detail": "Internal Server Error"}}'
    assert event_valid(document, ticks, {"event": "error", "data": untyped})
    assert not event_valid(document, ticks, {"event": "error", "data": '{"detail": "x"}'})
    assert event_valid(document, ticks, {"event": "reset", "data": '{"position": "e1-5"}'})
    assert not event_valid(document, ticks, {"event": "state", "data": "{}"})  # not a sideeffect


def test_document_live_route(document: dict[str, Any]) -> None:
    live = operation(document, "/StoreController/live")
    names = {(p["name"], p["in"]) for p in live["parameters"]}
    assert names == {("X-Belay-Page", "header"), ("Last-Event-ID", "header")}
    events = frames(document, "/StoreController/live")
    full = {"store": "a", "items": [], "title": "t", "page": 0}
    assert event_valid(document, events, {"data": json.dumps(full)})
    assert event_valid(document, events, {"data": '{"title": "new"}'})  # a partial state
    assert not event_valid(document, events, {"data": '{"title": 3}'})


def test_document_component_names_are_the_typescript_names(tmp_path: Path) -> None:
    app = build_fixture_app()
    generate_client(describe_app(app), tmp_path)
    exported = set()
    for name in ("models.ts", "errors.ts"):
        text = (tmp_path / name).read_text()
        exported |= set(re.findall(r"^export (?:interface|type) (\w+)", text, re.MULTILINE))
    exported -= {"BelayAPIError"}
    schemas = set(openapi_document(app)["components"]["schemas"])
    assert exported <= schemas
    inputs = {
        name for name in schemas - exported - FRAMEWORK if name.removesuffix("Input") in exported
    }
    assert schemas == exported | inputs | FRAMEWORK
    assert inputs == {"CatalogInput", "PetInput", "ScalarsInput", "TreeNodeInput"}


def test_document_enums_keep_values_and_member_names(document: dict[str, Any]) -> None:
    color = document["components"]["schemas"]["Color"]
    assert color["enum"] == ["red", "navy"]
    assert color["x-enum-varnames"] == ["RED", "DARK_BLUE"]


def test_document_union_tags_are_required(document: dict[str, Any]) -> None:
    """A Literal tag with a default is always sent, and needed to pick the union member."""
    cat = document["components"]["schemas"]["Cat"]
    assert "kind" in cat["required"]


def test_document_from_a_saved_description_is_the_same(document: dict[str, Any]) -> None:
    saved = dump_description(describe_app(build_app(), json_schemas=True))
    assert openapi_document(load_description(saved)) == document
    assert build_document(load_description(saved), title="Shop", version="2")["info"] == {
        "title": "Shop",
        "version": "2",
    }


def test_document_needs_schemas() -> None:
    with pytest.raises(DescriptionError, match="json_schemas=True"):
        openapi_document(describe_app(build_app()))


def test_document_refuses_a_type_named_like_a_framework_schema() -> None:
    description = describe_app(build_app(), json_schemas=True)
    defs = dict(description.json_schema_defs)
    defs["BelayError"] = defs.pop("Rename")
    clash = dataclasses.replace(description, json_schema_defs=defs)
    with pytest.raises(DescriptionError, match="'BelayError'"):
        openapi_document(clash)


def test_document_of_an_app_without_controllers() -> None:
    document = openapi_document(RPCApp(controllers=[]))
    validate(document)
    assert document["paths"] == {}
