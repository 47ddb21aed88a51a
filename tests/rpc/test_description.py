"""``describe_app``: the plain-data description codegen and OpenAPI export read."""

from __future__ import annotations

from typing import Any

import httpx

from rpc.description import describe_app
from rpcmeta import (
    ACTION_METHOD,
    PAGE_HEADER,
    RENDER_METHOD,
    SCHEMA_REF_PREFIX,
    AppDescription,
    dump_description,
    load_description,
)
from rpcmeta.facts import action_path, render_path
from tests.codegen.fixture_app import build_app
from tests.support.server import running_server


def described() -> AppDescription:
    return describe_app(build_app(), json_schemas=True)


def refs_in(schema: Any) -> set[str]:
    if isinstance(schema, dict):
        found = {schema["$ref"]} if isinstance(schema.get("$ref"), str) else set()
        return found.union(*(refs_in(value) for value in schema.values()))
    if isinstance(schema, list):
        return set().union(*(refs_in(item) for item in schema))
    return set()


def test_description_routes_are_the_ones_the_server_answers() -> None:
    app = described()
    shop = app.controllers[0]
    lookup = next(a for a in shop.actions if a.name == "lookup")
    assert [(p.name, p.source, p.required) for p in shop.render_params] == [
        ("shop", "path", True),
        ("q", "query", False),
    ]
    # URL integers are validated (so described) within 64 bits: what JSON round-trips.
    whole = {"type": "integer", "maximum": 2**63 - 1, "minimum": -(2**63)}
    assert [(p.name, p.required, p.json_schema) for p in lookup.params] == [
        ("ids", True, {"type": "array", "items": whole}),
        ("color", False, {"$ref": SCHEMA_REF_PREFIX + "Color"}),
        ("limit", False, {"anyOf": [whole, {"type": "null"}]}),
    ]
    assert lookup.returns_schema == {"$ref": SCHEMA_REF_PREFIX + "Page_Address_"}
    assert lookup.errors == ("RoomFull", "NotAllowed")
    room_full = next(e for e in app.errors if e.name == "RoomFull")
    with running_server(build_app()) as server, httpx.Client(base_url=server.base_url) as http:
        page = {PAGE_HEADER: "/shop/s1?q=hat"}
        state = http.request(RENDER_METHOD, render_path(app, shop), headers=page)
        found = http.request(ACTION_METHOD, action_path(app, shop, lookup), params={"ids": [1, 2]})
        full = http.request(ACTION_METHOD, action_path(app, shop, lookup), params={"ids": [0]})
    assert state.status_code == 200, state.text
    assert state.json()["shop"] == "s1"
    assert found.status_code == 200, found.text
    page_schema = app.json_schema_defs["Page_Address_"]
    page = found.json()["passthrough"]
    assert set(page) == set(page_schema["properties"]) == set(page_schema["required"])
    assert full.status_code == room_full.status == 409
    # A client picks the error class by the type the server names: the described name.
    assert full.headers["x-belay-error-type"] == room_full.name
    assert list(full.json()) == room_full.body_schema["required"] == ["detail", "capacity"]


def test_description_schemas_of_bodies_streams_and_errors() -> None:
    app = described()
    actions = {a.name: a for a in app.controllers[0].actions}
    # What the server reads is described by validation schemas, what it sends by
    # serialization ones; Catalog's differ (a Decimal, a computed field), so it has both.
    assert actions["catalog"].body_schema == {"$ref": SCHEMA_REF_PREFIX + "Catalog-Input"}
    assert actions["catalog"].returns_schema == {"$ref": SCHEMA_REF_PREFIX + "Catalog-Output"}
    price = app.json_schema_defs["Scalars-Input"]["properties"]["price"]
    assert {"type": "number"} in price["anyOf"]  # a Decimal is read from a number too
    assert app.json_schema_defs["Scalars-Output"]["properties"]["price"]["type"] == "string"
    assert actions["set_title"].body_schema is None
    assert actions["set_title"].returns_schema == {"type": "integer"}
    ticks = actions["ticks"]
    assert ticks.stream
    assert ticks.returns_schema == {"$ref": SCHEMA_REF_PREFIX + "Tick"}  # one event's item
    errors = {e.name: e for e in app.errors}
    assert errors["RoomFull"].status == 409
    assert errors["RoomFull"].body_schema["properties"] == {
        "detail": {"type": "string"},
        "capacity": {"type": "integer"},
    }
    # No default: an instance raised without it sends null.
    assert errors["NotAllowed"].body_schema["properties"]["reason"] == {
        "anyOf": [{"type": "string"}, {"type": "null"}]
    }
    assert app.json_schema_defs["Tick"]["properties"]["n"]["type"] == "integer"


def test_description_every_schema_ref_resolves() -> None:
    app = described()
    schemas: list[Any] = [app.json_schema_defs]
    schemas += [m.json_schema for m in app.models] + [e.body_schema for e in app.errors]
    for controller in app.controllers:
        schemas += [p.json_schema for p in controller.render_params]
        for action in controller.actions:
            schemas += [action.body_schema, action.returns_schema]
            schemas += [p.json_schema for p in action.params]
    refs = refs_in(schemas)
    assert SCHEMA_REF_PREFIX + "Address" in refs
    missing = {r for r in refs if r.removeprefix(SCHEMA_REF_PREFIX) not in app.json_schema_defs}
    assert missing == set()


def test_description_keeps_what_json_schema_loses() -> None:
    app = described()
    models = {m.name: m for m in app.models}
    assert models["Pet"].bases == ("Animal",)
    assert "allOf" not in str(app.json_schema_defs["Pet-Output"])  # the schema itself is flat
    color = next(e for e in app.enums if e.name == "Color")
    assert [m.name for m in color.members][:1] == ["RED"]
    assert app.json_schema_defs["Color"]["enum"][:1] == [color.members[0].value]


def test_description_without_json_schemas_leaves_them_empty() -> None:
    app = describe_app(build_app())
    assert app.json_schema_defs == {}
    assert all(m.json_schema == {} for m in app.models)
    assert all(e.body_schema == {} for e in app.errors)
    actions = [a for c in app.controllers for a in c.actions]
    assert all(a.returns_schema == {} and a.body_schema in (None, {}) for a in actions)
    with_schemas = described()
    assert [c.id for c in app.controllers] == [c.id for c in with_schemas.controllers]


def test_description_dump_round_trip_is_byte_identical() -> None:
    app = described()
    text = dump_description(app)
    loaded = load_description(text)
    assert loaded == app
    assert dump_description(loaded) == text
