"""One OpenAPI operation per route of a served controller: render, live, each action.

Pure functions of ``rpcmeta`` facts: the schemas come from the description
(already renamed to component names by ``document``); what the framework adds
(error bodies, envelopes, stream frames) from ``framework``.
"""

from __future__ import annotations

from dataclasses import dataclass

from rpc.openapi import framework as fw
from rpc.openapi.parameters import last_event_id, page_extension, page_header, query_parameter
from rpcmeta import ERROR_TYPE_HEADER, ActionFacts, ControllerFacts, ErrorFacts, JsonSchema
from streams.framing import EVENT_STATE


@dataclass(frozen=True)
class OperationContext:
    """What an operation needs besides its own facts: renamed schemas and the app's errors."""

    defs: dict[str, JsonSchema]
    errors: dict[str, ErrorFacts]

    def error_body(self, error: ErrorFacts) -> JsonSchema:
        return fw.ref(f"{error.name}Body")


def render_operation(controller: ControllerFacts, ctx: OperationContext) -> JsonSchema:
    """``GET .../render``: the page state for the page location in ``X-Belay-Page``."""
    state = fw.ref(_render_model(controller))
    return {
        "operationId": f"{controller.id}.render",
        "tags": [controller.id],
        "summary": f"The page state of {controller.url}",
        **_description(controller.description),
        "parameters": [page_header(controller)],
        "responses": {
            "200": {
                "description": "The page state",
                "content": {"application/json": {"schema": state}},
            },
            **_error_responses(fw.RENDER_STATUSES, (), ctx),
        },
        "x-belay-page": page_extension(controller),
    }


def live_operation(controller: ControllerFacts, ctx: OperationContext) -> JsonSchema:
    """``GET .../live``: the page state, then every change to it, as server-sent events."""
    model = _render_model(controller)
    partial = _partial(ctx.defs.get(model, {}), title=f"Partial{model}")
    state_data: JsonSchema = {
        "description": f"The first frame of each connection is the full {model}; each later "
        "one holds the changed fields only, to merge into it.",
        "anyOf": [fw.ref(model), partial],
    }
    frames = [
        fw.frame(None, state_data, title="a page state (full first, then partial)"),
        *fw.closing_frames(fw.ref(fw.STREAM_ERROR)),
    ]
    return {
        "operationId": f"{controller.id}.live",
        "tags": [controller.id],
        "summary": f"The page state of {controller.url}, kept up to date",
        "parameters": [page_header(controller), last_event_id()],
        "responses": {
            "200": _event_stream(frames, "The page state, then each change to it"),
            **_error_responses(fw.LIVE_STATUSES, (), ctx),
        },
        "x-belay-page": page_extension(controller),
    }


def action_operation(
    controller: ControllerFacts, action: ActionFacts, ctx: OperationContext
) -> JsonSchema:
    """``POST .../{action}``: JSON envelope, or an event stream for streaming actions."""
    errors = tuple(ctx.errors[name] for name in action.errors)
    parameters = [query_parameter(param) for param in action.params]
    if action.kind == "sideeffect":
        parameters.append(page_header(controller))
    if action.stream:
        parameters.append(last_event_id())
        success = _event_stream(_stream_frames(controller, action, errors, ctx), "The items")
    else:
        envelope = _envelope(controller, action, ctx)
        success = {
            "description": "The sideeffect's new page state and the return value"
            if action.kind == "sideeffect"
            else "The return value",
            "content": {"application/json": {"schema": envelope}},
        }
    statuses = fw.STREAM_STATUSES if action.stream else fw.ACTION_STATUSES
    operation: JsonSchema = {
        "operationId": f"{controller.id}.{action.name}",
        "tags": [controller.id],
        **({"summary": action.description} if action.description else {}),
        "parameters": parameters,
        "requestBody": _request_body(action),
        "responses": {"200": success, **_error_responses(statuses, errors, ctx)},
        "x-belay-kind": action.kind,
    }
    if action.kind == "sideeffect":
        operation["x-belay-page"] = page_extension(controller)
    return operation


def _envelope(
    controller: ControllerFacts, action: ActionFacts, ctx: OperationContext
) -> JsonSchema:
    properties: JsonSchema = {"passthrough": action.returns_schema}
    if action.kind == "sideeffect":
        properties = {"sideeffect": _sideeffect_state(controller, action, ctx), **properties}
    return {"type": "object", "properties": properties, "required": list(properties)}


def _sideeffect_state(
    controller: ControllerFacts, action: ActionFacts, ctx: OperationContext
) -> JsonSchema:
    """The render model, or only its ``reload`` fields."""
    model = _render_model(controller)
    if action.reload is None:
        return fw.ref(model)
    full = ctx.defs.get(model, {})
    properties = full.get("properties", {})
    kept = {name: properties.get(name, {}) for name in action.reload}
    required = [name for name in full.get("required", []) if name in kept]
    return {
        "type": "object",
        "title": f"{model} ({', '.join(action.reload) or 'no fields'})",
        "properties": kept,
        "required": required,
    }


def _stream_frames(
    controller: ControllerFacts,
    action: ActionFacts,
    errors: tuple[ErrorFacts, ...],
    ctx: OperationContext,
) -> list[JsonSchema]:
    frames = [fw.frame(None, action.returns_schema, title="an item", tracked=True)]
    if action.kind == "sideeffect":
        state = {
            "type": "object",
            "properties": {
                "sideeffect": _sideeffect_state(controller, action, ctx),
                "passthrough": {"type": "null"},
            },
            "required": ["sideeffect", "passthrough"],
        }
        frames.append(fw.frame(EVENT_STATE, state, title="state: the new page state"))
    typed = [
        {
            "type": "object",
            "properties": {
                "status": {"const": error.status},
                "type": {"const": error.name},
                "body": ctx.error_body(error),
            },
            "required": ["status", "type", "body"],
        }
        for error in errors
    ]
    error_data = {"anyOf": [*typed, fw.ref(fw.STREAM_ERROR)]} if typed else fw.ref(fw.STREAM_ERROR)
    return [*frames, *fw.closing_frames(error_data)]


def _event_stream(frames: list[JsonSchema], description: str) -> JsonSchema:
    return {
        "description": f"{description}, as server-sent events (`: ping` comments keep idle "
        "connections open). The schema describes one event, as OpenAPI 3.2's itemSchema does.",
        "content": {"text/event-stream": {"schema": {"oneOf": frames}}},
    }


def _error_responses(
    statuses: tuple[int, ...], errors: tuple[ErrorFacts, ...], ctx: OperationContext
) -> dict[str, JsonSchema]:
    """Framework statuses merged with the action's typed errors (several may share one)."""
    by_status: dict[int, list[tuple[str, JsonSchema]]] = {}
    for status in statuses:
        by_status.setdefault(status, []).append(
            (fw.STATUS_REASONS[status], fw.framework_body(status))
        )
    for error in errors:
        reason = f"{error.name}: {error.detail}" if error.detail is not None else error.name
        by_status.setdefault(error.status, []).append((reason, ctx.error_body(error)))
    responses: dict[str, JsonSchema] = {}
    for status in sorted(by_status):
        found = by_status[status]
        schemas = [schema for _, schema in found]
        response: JsonSchema = {
            "description": "; or ".join(reason for reason, _ in found),
            "content": {
                "application/json": {
                    "schema": schemas[0] if len(schemas) == 1 else {"anyOf": schemas}
                }
            },
        }
        typed = [e.name for e in errors if e.status == status]
        if typed:
            response["headers"] = {
                ERROR_TYPE_HEADER: {
                    "description": "The APIException subclass of a typed error",
                    "schema": {"type": "string", "enum": typed},
                }
            }
        responses[str(status)] = response
    return responses


def _request_body(action: ActionFacts) -> JsonSchema:
    if action.body_schema is None:
        return {
            "description": "This action takes no body: send nothing or {}",
            "required": False,
            "content": {"application/json": {"schema": {"type": "object", "maxProperties": 0}}},
        }
    schema = action.body_schema
    if not action.body_required:  # no body, or null, gives the parameter's default
        schema = {"anyOf": [schema, {"type": "null"}]}
    return {
        "required": action.body_required,
        "content": {"application/json": {"schema": schema}},
    }


def _render_model(controller: ControllerFacts) -> str:
    if controller.render_model is None:  # only base controllers have none, and get no routes
        raise ValueError(f"controller {controller.id} is not served")
    return controller.render_model


def _partial(full: JsonSchema, *, title: str) -> JsonSchema:
    return {"title": title, "type": "object", "properties": dict(full.get("properties", {}))}


def _description(text: str | None) -> JsonSchema:
    return {"description": text} if text else {}
