"""Request parameters: query values, and the headers that name the page and resume a stream.

Render's own values (``render_params``) are not request parameters: they come
from the page location in ``X-Belay-Page``, whose ``pattern`` matches the
controller's ``url``; ``x-belay-page`` lists them with their schemas.
"""

from __future__ import annotations

import re

from rpc.openapi import framework as fw
from rpcmeta import PAGE_HEADER, ControllerFacts, JsonSchema, ParamFacts

_PARAM = re.compile(r"{([A-Za-z_][A-Za-z0-9_]*)}")
# A URL's host part, ASCII without brackets (the server refuses an unbalanced one).
_HOST = "[A-Za-z0-9._~%!$&'()*+,;=:@-]*"
# Escaped for ECMA-262 (JSON Schema's regex dialect): only syntax characters; Python's
# re.escape also escapes "-" and "/", which unicode-mode ECMA regexes refuse.
_REGEX_SPECIAL = re.compile(r"[\\^$.*+?()[\]{}|]")


def query_parameter(param: ParamFacts) -> JsonSchema:
    """An action's query parameter (a list is repeated keys: OpenAPI's default form style)."""
    return {
        "name": param.name,
        "in": "query",
        "required": param.required,
        "schema": without_null(param.json_schema),
    }


def page_header(controller: ControllerFacts) -> JsonSchema:
    """``X-Belay-Page``: the page whose values render (and a sideeffect's re-render) use."""
    names = ", ".join(p.name for p in controller.render_params) or "none"
    has_path = any(p.source == "path" for p in controller.render_params)
    return {
        "name": PAGE_HEADER,
        "in": "header",
        # Referer works too, but a client that sends neither gets a 400 for such a url.
        "required": has_path,
        "description": f"The page the browser is on (a path with optional query, or a full "
        f"URL) matching {controller.url}; else the Referer"
        + ("" if has_path else f", else {controller.url} itself")
        + f". The page parameters ({names}) come from it: see x-belay-page.",
        "schema": {"type": "string", "pattern": page_pattern(controller.url or "/")},
        "example": _example_page(controller),
    }


def page_pattern(url: str) -> str:
    """A regex for the page locations matching ``url``: an optional scheme and host, the
    path (each ``{param}`` one non-empty segment part), an optional query or fragment."""
    parts = _PARAM.split(url.rstrip("/"))
    body = "".join(
        "[^/?#]+" if index % 2 else _REGEX_SPECIAL.sub(r"\\\g<0>", part)
        for index, part in enumerate(parts)
    )
    return "^(?:[A-Za-z][A-Za-z0-9+.-]*://" + _HOST + ")?" + body + "/?(?:[?#].*)?$"


def page_extension(controller: ControllerFacts) -> JsonSchema:
    """The page parameters render takes from the page location, with their schemas."""
    return {
        "url": controller.url,
        "parameters": [
            {
                "name": param.name,
                "in": param.source,
                "required": param.required,
                "schema": without_null(param.json_schema),
            }
            for param in controller.render_params
        ],
    }


def last_event_id() -> JsonSchema:
    return {
        "name": fw.LAST_EVENT_ID_HEADER,
        "in": "header",
        "required": False,
        "description": "The id of the last event received, to resume after it (handed to a "
        "parameter annotated streams.LastEventId)",
        "schema": {"type": "string"},
    }


def _example_page(controller: ControllerFacts) -> str:
    url = controller.url or "/"
    for param in controller.render_params:
        url = url.replace("{" + param.name + "}", "example")
    return url


def without_null(schema: JsonSchema) -> JsonSchema:
    """``schema`` without its ``null`` alternative: a URL value is absent, never null."""
    options = schema.get("anyOf")
    if not isinstance(options, list) or {"type": "null"} not in options:
        return schema
    rest = [option for option in options if option != {"type": "null"}]
    outer = {key: value for key, value in schema.items() if key not in ("anyOf", "default")}
    if schema.get("default") is not None:
        outer["default"] = schema["default"]
    if len(rest) == 1:
        return {**outer, **rest[0]}
    return {**outer, "anyOf": rest}
