"""Reading the OpenAPI document in tests: operations, and checking values and events."""

from __future__ import annotations

import json
from typing import Any

import jsonschema_rs

API = "/internal/api"


def operation(document: dict[str, Any], path: str) -> dict[str, Any]:
    (found,) = document["paths"][API + path].values()
    result: dict[str, Any] = found
    return result


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with every ``$ref`` to a component resolvable (for jsonschema)."""
    return {**schema, "components": document["components"]}


def valid(document: dict[str, Any], schema: dict[str, Any], value: Any) -> bool:
    return jsonschema_rs.Draft202012Validator(resolve(document, schema)).is_valid(value)


def frames(document: dict[str, Any], path: str) -> dict[str, Any]:
    content = operation(document, path)["responses"]["200"]["content"]
    schema: dict[str, Any] = content["text/event-stream"]["schema"]
    return schema


def event_valid(document: dict[str, Any], schema: dict[str, Any], event: dict[str, Any]) -> bool:
    """``event`` valid, its ``data`` parsed and checked against the frame's contentSchema."""
    for option in schema["oneOf"]:
        if valid(document, option, event):
            content = option["properties"]["data"]["contentSchema"]
            return valid(document, content, json.loads(event["data"]))
    return False
