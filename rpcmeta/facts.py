"""The plain-data description of an app: controllers, actions, types, errors, schemas.

``rpc.description.describe_app`` builds an ``AppDescription`` from a live
``RPCApp``; codegen (and any other consumer) reads only these frozen
dataclasses, never live Python objects, so the description can be dumped to
JSON in one process (``dump_description``) and used in another
(``load_description``), byte for byte.

Types appear twice, for two kinds of reader: as ``TypeRef`` trees (what the
wire carries, with model and enum names, for a client generator) and as
pydantic's JSON Schemas (for OpenAPI): serialization schemas for what the
server sends (models, returns, stream items, error bodies), validation schemas
for what it reads (``ParamFacts.json_schema``, ``ActionFacts.body_schema``).
JSON Schema loses what the ``TypeRef`` side keeps: model bases
(``ModelFacts.bases``) and enum member names (``EnumFacts.members``). Schema
``$ref``s point at ``#/components/schemas/{name}``; the referenced schemas are
in ``AppDescription.json_schema_defs``, under pydantic's names: a model whose
two schemas differ (a ``Decimal``, a computed field) has both,
``{name}-Input`` and ``{name}-Output``. The schemas are filled in only when asked
for (``describe_app(app, json_schemas=True)``); otherwise every one is ``{}``.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Literal

JsonScalar = str | int | float | bool | None
JsonSchema = dict[str, Any]
TypeKind = Literal[
    "primitive", "model", "enum", "enum_member", "literal", "array", "tuple", "record", "union"
]
SCHEMA_REF_PREFIX = "#/components/schemas/"
RENDER_METHOD = "GET"
ACTION_METHOD = "POST"
# The request header carrying the page location (path and query) that page parameters come from.
PAGE_HEADER = "X-Belay-Page"
# The response header naming the ``APIException`` subclass (``ErrorFacts.name``) of an error.
ERROR_TYPE_HEADER = "X-Belay-Error-Type"


class DescriptionError(ValueError):
    """An app that has no valid description; the message names the Python objects."""


@dataclass(frozen=True)
class TypeRef:
    """A JSON type expression, as a client sees it on the wire.

    ``primitive``: ``name`` is string/number/boolean/null/unknown; ``model`` and
    ``enum``: ``name`` is the described name; ``enum_member``: ``name`` is the
    enum, ``value`` the member name; ``literal``: ``value``; ``array``/``record``:
    one arg (item/value type); ``tuple`` and ``union``: the args.
    """

    kind: TypeKind
    name: str = ""
    args: tuple[TypeRef, ...] = ()
    value: JsonScalar = None


@dataclass(frozen=True)
class FieldFacts:
    """One property of a model or error body: ``name`` is the wire (alias) name."""

    name: str
    python_name: str
    type: TypeRef
    required: bool
    description: str | None = None


@dataclass(frozen=True)
class ModelFacts:
    """A pydantic model: its own fields only; inherited ones come from ``bases``.

    ``overrides`` are wire names of own fields that replace an inherited field
    with another type. ``json_schema`` is a ``$ref`` to the model's flattened
    schema in ``AppDescription.json_schema_defs``.
    """

    name: str
    python_name: str
    bases: tuple[str, ...]
    fields: tuple[FieldFacts, ...]
    description: str | None = None
    overrides: tuple[str, ...] = ()
    json_schema: JsonSchema = field(default_factory=dict)


@dataclass(frozen=True)
class EnumMember:
    """One member of an enum: its Python name and its wire value."""

    name: str
    value: str | int | float


@dataclass(frozen=True)
class EnumFacts:
    """A Python ``Enum``, keeping member names and values."""

    name: str
    python_name: str
    members: tuple[EnumMember, ...]
    description: str | None = None


@dataclass(frozen=True)
class ErrorFacts:
    """An ``APIException`` subclass: status, default detail, body fields (detail first).

    ``name`` is the class name, which is also the error's type on the wire:
    the server sends it in the ``X-Belay-Error-Type`` header and as ``type``
    in a stream's ``event: error`` data, so a client picks the class by it.
    """

    name: str
    python_name: str
    status: int
    detail: JsonScalar
    fields: tuple[FieldFacts, ...]
    body_schema: JsonSchema = field(default_factory=dict)


@dataclass(frozen=True)
class ParamFacts:
    """A parameter; ``name`` is its URL name.

    An action's ``params`` are query parameters of its own request. Render's
    page parameters (``ControllerFacts.render_params``) come from the page
    location in the ``PAGE_HEADER`` header (else ``Referer``, else the
    controller's ``url``): ``source="path"`` ones from the ``url`` template's
    ``{name}`` segments, ``source="query"`` ones from the page's query string.
    """

    name: str
    type: TypeRef
    required: bool
    source: Literal["query", "path"] = "query"
    json_schema: JsonSchema = field(default_factory=dict)


@dataclass(frozen=True)
class ActionFacts:
    """One action, served at ``ACTION_METHOD {prefix}/{controller id}/{name}``.

    ``returns`` is the return type, or for a stream (``stream``) the item type
    of each event. A passthrough answers ``{"passthrough": <returns>}``; a
    sideeffect ``{"sideeffect": <render model, or only the reload fields>,
    "passthrough": <returns>}``; a stream is ``text/event-stream``, and a
    streaming sideeffect (``kind`` "sideeffect" and ``stream``) ends its items
    with an ``event: state`` frame carrying that sideeffect envelope. ``reload``
    holds wire names of the render fields sent back; ``errors`` names the
    ``ErrorFacts`` the action declares. ``broadcast``: a sideeffect whose new
    state (the reload fields, or all) also reaches every live viewer of the
    page. ``on_disconnect`` (streaming sideeffects only) says what the server
    does when the client leaves: "finish" the action anyway, or "cancel" it.
    """

    name: str
    python_name: str
    kind: Literal["sideeffect", "passthrough"]
    stream: bool
    params: tuple[ParamFacts, ...]
    body: TypeRef | None
    body_required: bool
    returns: TypeRef
    reload: tuple[str, ...] | None
    errors: tuple[str, ...]
    description: str | None = None
    body_schema: JsonSchema | None = None
    returns_schema: JsonSchema = field(default_factory=dict)
    on_disconnect: Literal["finish", "cancel"] | None = None
    broadcast: bool = False


@dataclass(frozen=True)
class ControllerFacts:
    """A controller class: served ones have a url and render model; bases may not.

    A served controller's state is read at ``RENDER_METHOD {prefix}/{id}/render``
    for the page parameters ``render_params``; its page is served at ``url``.
    """

    id: str
    python_name: str
    bases: tuple[str, ...]
    served: bool
    url: str | None
    render_model: str | None
    actions: tuple[ActionFacts, ...]
    description: str | None = None
    render_params: tuple[ParamFacts, ...] = ()


@dataclass(frozen=True)
class AppDescription:
    """Everything known about one app. Controllers: served ones in app order, then bases."""

    prefix: str
    controllers: tuple[ControllerFacts, ...]
    models: tuple[ModelFacts, ...]
    enums: tuple[EnumFacts, ...]
    errors: tuple[ErrorFacts, ...]
    json_schema_defs: dict[str, JsonSchema] = field(default_factory=dict)


def render_path(app: AppDescription, controller: ControllerFacts) -> str:
    """Where a served controller's state is read (with ``RENDER_METHOD``)."""
    return f"{app.prefix}/{controller.id}/render"


def live_path(app: AppDescription, controller: ControllerFacts) -> str:
    """Where a served controller's live state is followed (``RENDER_METHOD``, SSE).

    The first ``data:`` frame is the full state, each later one a partial state
    (a broadcast's reload fields, or all) to merge.
    """
    return f"{app.prefix}/{controller.id}/live"


def action_path(app: AppDescription, controller: ControllerFacts, action: ActionFacts) -> str:
    """Where ``action`` is called on ``controller`` (with ``ACTION_METHOD``)."""
    return f"{app.prefix}/{controller.id}/{action.name}"


def dump_description(app: AppDescription) -> str:
    """The description as JSON text (sorted keys, so equal descriptions give equal text)."""
    return json.dumps(dataclasses.asdict(app), indent=1, sort_keys=True)


def load_description(text: str) -> AppDescription:
    """Rebuild the description from ``dump_description`` output.

    Raises ``DescriptionError`` for text that is not such a dump.
    """
    try:
        loaded: AppDescription = _load(AppDescription, json.loads(text))
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        raise DescriptionError(
            f"not a Belay app description ({type(exc).__name__}: {exc})"
        ) from exc
    return loaded


def _has_default(item: dataclasses.Field[Any]) -> bool:
    missing = dataclasses.MISSING
    return item.default is not missing or item.default_factory is not missing


def _load(annotation: Any, raw: Any) -> Any:
    origin = typing.get_origin(annotation)
    if dataclasses.is_dataclass(annotation) and isinstance(annotation, type):
        hints = typing.get_type_hints(annotation)
        fields = dataclasses.fields(annotation)
        # A field with a default may be missing from an older dump.
        present = [f for f in fields if f.name in raw or not _has_default(f)]
        return annotation(**{f.name: _load(hints[f.name], raw[f.name]) for f in present})
    if origin is tuple:
        item = typing.get_args(annotation)[0]
        return tuple(_load(item, value) for value in raw)
    if origin is types.UnionType or origin is typing.Union:
        if raw is None:
            return None
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
        classes = [a for a in options if dataclasses.is_dataclass(a)]
        if isinstance(raw, dict) and classes:
            return _load(classes[0], raw)
        if isinstance(raw, list):
            tuples = [a for a in options if typing.get_origin(a) is tuple]
            return _load(tuples[0], raw)
        return raw
    return raw  # scalars and JSON Schemas (plain dicts) are already what they should be
