"""What the framework itself answers: its error bodies and statuses, and its SSE frames.

These are the same for every app, so they are written here once, as JSON
Schemas named ``Belay...`` in ``components/schemas``. Stream frames follow
OpenAPI 3.2's ``itemSchema`` shape for ``text/event-stream`` (one parsed event:
``event``, ``data``, ``id``), ``data`` being JSON (``contentMediaType`` +
``contentSchema``); in a 3.1 document that is the media type's ``schema``,
which is how 3.1 tools (schemathesis among them) read event streams.
"""

from __future__ import annotations

from rpcmeta import SCHEMA_REF_PREFIX, JsonSchema
from streams.framing import EVENT_END, EVENT_ERROR
from streams.positions import EVENT_RESET

EVENT_MESSAGE = "message"  # what SSE calls a frame with no ``event:`` line (every item)
LAST_EVENT_ID_HEADER = "Last-Event-ID"

ERROR = "BelayError"
VALIDATION_ERROR = "BelayValidationError"
VALIDATION_ISSUE = "BelayValidationIssue"
STREAM_ERROR = "BelayStreamError"
FRAMEWORK_SCHEMA_NAMES = (ERROR, STREAM_ERROR, VALIDATION_ERROR, VALIDATION_ISSUE)

# Framework statuses, and when each one happens. 404 and 405 answer requests for no
# documented operation (an unknown controller or action, another method), so they
# are in ``components/responses`` only.
STATUS_REASONS: dict[int, str] = {
    400: "Bad request: malformed JSON, an invalid Content-Length, a page location "
    "(X-Belay-Page, else Referer) that does not match the controller's url, or a "
    "channel key the app cannot use",
    403: "Cross-site request refused: an Origin (or Sec-Fetch-Site: cross-site) of another "
    "site that is not in RPCApp(allowed_origins=...)",
    404: "No such controller or action",
    405: "Wrong method (render and live are read with GET, actions called with POST); "
    "the Allow header names the right one",
    408: "The request body did not arrive within RPCApp(body_timeout=...)",
    413: "The request body is larger than RPCApp(max_body_size=...)",
    415: "The request body is not sent as Content-Type: application/json",
    422: "Invalid query, path, page or body values (every problem of the request listed)",
    500: "Unexpected server error (with debug on, the body also carries the traceback)",
    503: "Too many open streams (RPCApp(max_streams=...)), or the server is shutting down",
}
RENDER_STATUSES = (400, 422, 500)
ACTION_STATUSES = (400, 403, 408, 413, 415, 422, 500)
STREAM_STATUSES = (*ACTION_STATUSES, 503)
LIVE_STATUSES = (*RENDER_STATUSES, 503)
ROUTING_STATUSES = (404, 405)


def ref(name: str) -> JsonSchema:
    """A ``$ref`` to ``components/schemas/{name}``."""
    return {"$ref": SCHEMA_REF_PREFIX + name}


def framework_schemas() -> dict[str, JsonSchema]:
    """The framework's own component schemas, by name."""
    return {
        ERROR: {
            "title": ERROR,
            "description": "A framework error: what went wrong, in words.",
            "type": "object",
            "properties": {
                "detail": {"type": "string"},
                "traceback": {"type": "string", "description": "Only with RPCApp(debug=True)."},
            },
            "required": ["detail"],
        },
        VALIDATION_ISSUE: {
            "title": VALIDATION_ISSUE,
            "type": "object",
            "properties": {
                "loc": {
                    "type": "array",
                    "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
                    "description": 'Where: "query", "path", "page" or "body", then field names '
                    "and list indexes.",
                },
                "msg": {"type": "string"},
                "type": {"type": "string"},
            },
            "required": ["loc", "msg", "type"],
        },
        VALIDATION_ERROR: {
            "title": VALIDATION_ERROR,
            "type": "object",
            "properties": {"detail": {"type": "array", "items": ref(VALIDATION_ISSUE)}},
            "required": ["detail"],
        },
        STREAM_ERROR: {
            "title": STREAM_ERROR,
            "description": "The data of an `event: error` frame: the status and JSON body the "
            "error would have had as an HTTP answer, and the APIException subclass name "
            "(null for framework and unexpected errors).",
            "type": "object",
            "properties": {
                "status": {"type": "integer"},
                "type": {"type": ["string", "null"]},
                "body": {"type": "object"},
            },
            "required": ["status", "type", "body"],
        },
    }


def framework_body(status: int) -> JsonSchema:
    """The schema of the framework's body for ``status``."""
    return ref(VALIDATION_ERROR if status == 422 else ERROR)


def routing_responses() -> dict[str, JsonSchema]:
    """``components/responses`` for the statuses of requests outside every operation."""
    return {
        f"Belay{status}": {
            "description": STATUS_REASONS[status],
            "content": {"application/json": {"schema": framework_body(status)}},
        }
        for status in ROUTING_STATUSES
    }


def json_data(schema: JsonSchema) -> JsonSchema:
    """A frame's ``data``: a string holding JSON of ``schema``."""
    return {"type": "string", "contentMediaType": "application/json", "contentSchema": schema}


def frame(event: str | None, data: JsonSchema, *, title: str, tracked: bool = False) -> JsonSchema:
    """One event as parsed from the stream: ``event`` (absent: ``message``), ``data``, ``id``."""
    properties: JsonSchema = {"event": {"const": event or EVENT_MESSAGE}, "data": json_data(data)}
    if tracked:
        properties["id"] = {
            "type": "string",
            "description": "Present for items yielded as streams.tracked(id, item) (and "
            "channel items, '<epoch>-<offset>'); send it back as Last-Event-ID to resume.",
        }
    required = ["data"] if event is None else ["event", "data"]
    return {"title": title, "type": "object", "properties": properties, "required": required}


def closing_frames(error_data: JsonSchema) -> list[JsonSchema]:
    """The frames every stream may send besides its items: ``end``, ``error``, ``reset``."""
    return [
        frame(EVENT_END, {"type": "object", "maxProperties": 0}, title="end: a clean end"),
        frame(EVENT_ERROR, error_data, title="error: the stream failed; it closes after this"),
        frame(
            EVENT_RESET,
            {
                "type": "object",
                "properties": {"position": {"type": "string"}},
                "required": ["position"],
            },
            title="reset: continuity after Last-Event-ID could not be proven; "
            "the stream goes on live from this position",
        ),
    ]
