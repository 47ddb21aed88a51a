"""An app description to its OpenAPI 3.1 document: a pure function of ``rpcmeta`` facts.

The same facts codegen reads, so the document and the TypeScript client never
disagree: component schemas are named as the TS types are (``Page[Address]``
is ``PageAddress``, an error's body ``{Error}Body``), enums keep their values
and list their member names in ``x-enum-varnames``.
"""

from __future__ import annotations

from typing import Any

from rpc.openapi import framework as fw
from rpc.openapi.operations import (
    OperationContext,
    action_operation,
    live_operation,
    render_operation,
)
from rpcmeta import (
    ACTION_METHOD,
    RENDER_METHOD,
    SCHEMA_REF_PREFIX,
    ActionFacts,
    AppDescription,
    ControllerFacts,
    DescriptionError,
    JsonSchema,
    action_path,
    render_path,
)

OPENAPI_VERSION = "3.1.0"
# pydantic's suffixes for a model's two definitions when its request and response schemas differ
_INPUT, _OUTPUT = "-Input", "-Output"


def build_document(
    description: AppDescription, *, title: str = "Belay API", version: str = "0.1.0"
) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every route of ``description``'s served controllers.

    ``description`` must carry JSON Schemas (``describe_app(app, json_schemas=True)``);
    raises ``rpcmeta.DescriptionError`` for one without, or whose type names would
    clash with the framework's ``Belay...`` schemas.
    """
    _check_schemas(description)
    renames = _def_renames(description)
    defs = {
        renames.get(name, name): schema for name, schema in description.json_schema_defs.items()
    }
    _add_enum_names(description, defs)
    _require_tags(description, defs)
    for error in description.errors:
        defs[f"{error.name}Body"] = error.body_schema
    clashes = sorted(set(defs) & set(fw.FRAMEWORK_SCHEMA_NAMES))
    if clashes:
        raise DescriptionError(
            f"the app's type {clashes[0]!r} has the name of a Belay framework schema in the "
            f"OpenAPI document; rename it"
        )
    ctx = OperationContext(defs=defs, errors={error.name: error for error in description.errors})
    document: dict[str, Any] = {
        "openapi": OPENAPI_VERSION,
        "info": {"title": title, "version": version},
        "tags": [_tag(c) for c in description.controllers if c.served],
        "paths": _paths(description, ctx),
        "components": {
            "schemas": {**dict(sorted(defs.items())), **fw.framework_schemas()},
            "responses": fw.routing_responses(),
        },
    }
    result: dict[str, Any] = _renamed_refs(document, renames)
    return result


def _paths(description: AppDescription, ctx: OperationContext) -> dict[str, Any]:
    by_id = {controller.id: controller for controller in description.controllers}
    paths: dict[str, Any] = {}
    method = RENDER_METHOD.lower()
    for controller in description.controllers:
        if not controller.served:
            continue
        render = render_path(description, controller)
        paths[render] = {method: render_operation(controller, ctx)}
        live = render.removesuffix("/render") + "/live"
        paths[live] = {method: live_operation(controller, ctx)}
        for action in visible_actions(controller, by_id):
            operation = action_operation(controller, action, ctx)
            paths[action_path(description, controller, action)] = {ACTION_METHOD.lower(): operation}
    return paths


def visible_actions(
    controller: ControllerFacts, by_id: dict[str, ControllerFacts]
) -> list[ActionFacts]:
    """Own actions, then inherited ones (nearest base first), each name once."""
    seen: dict[str, ActionFacts] = {}
    for action in controller.actions:
        seen.setdefault(action.name, action)
    for base in controller.bases:
        for action in visible_actions(by_id[base], by_id):
            seen.setdefault(action.name, action)
    return list(seen.values())


def _tag(controller: ControllerFacts) -> dict[str, str]:
    tag = {"name": controller.id}
    if controller.description:
        tag["description"] = controller.description
    return tag


def _check_schemas(description: AppDescription) -> None:
    served = [c for c in description.controllers if c.served]
    if (
        served
        and not description.json_schema_defs
        and not any(m.json_schema for m in description.models)
    ):
        raise DescriptionError(
            "this description has no JSON Schemas; describe the app with "
            "describe_app(app, json_schemas=True) (belay codegen --save-description saves "
            "one without)"
        )


def _def_renames(description: AppDescription) -> dict[str, str]:
    """pydantic's definition names to the described ones: ``Page_Address_`` to ``PageAddress``.

    A model whose request schema differs from its response schema has two
    definitions, ``Catalog-Output`` (named ``Catalog``, as its TS type) and
    ``Catalog-Input`` (``CatalogInput``).
    """
    renames: dict[str, str] = {}
    for model in description.models:
        target = model.json_schema.get("$ref", "")
        if isinstance(target, str) and target.startswith(SCHEMA_REF_PREFIX):
            name = target.removeprefix(SCHEMA_REF_PREFIX)
            renames[name] = model.name
            if name.endswith(_OUTPUT):
                renames[name.removesuffix(_OUTPUT) + _INPUT] = model.name + "Input"
    taken: dict[str, str] = {}
    for old in description.json_schema_defs:
        new = renames.get(old, old)
        if taken.setdefault(new, old) != old:
            raise DescriptionError(
                f"two schemas would both be named {new!r} in the OpenAPI document "
                f"({taken[new]} and {old}); rename one of the types"
            )
    return renames


def _add_enum_names(description: AppDescription, defs: dict[str, JsonSchema]) -> None:
    for enum in description.enums:
        schema = defs.get(enum.name)
        if schema is not None and "enum" in schema:
            defs[enum.name] = {**schema, "x-enum-varnames": [m.name for m in enum.members]}


def _require_tags(description: AppDescription, defs: dict[str, JsonSchema]) -> None:
    """Mark required what the facts (and so the TS types) call required.

    pydantic's serialization schema leaves out a field with a default, but a
    single-literal field is a union tag, always sent and needed to pick the
    union member; the facts mark it required, and so does the document.
    """
    models = {model.name: model for model in description.models}

    def required(name: str) -> set[str]:
        model = models[name]
        own = {f.name for f in model.fields if f.required}
        return own.union(*(required(base) for base in model.bases if base in models))

    for name, schema_name in [(n, n + suffix) for n in models for suffix in ("", "Input")]:
        schema = defs.get(schema_name)
        if schema is None or not isinstance(schema.get("properties"), dict):
            continue
        present = list(schema.get("required", []))
        missing = [f for f in schema["properties"] if f in required(name) and f not in present]
        if missing:
            defs[schema_name] = {**schema, "required": present + missing}


def _renamed_refs(node: Any, renames: dict[str, str]) -> Any:
    """A copy of ``node`` with every ``$ref`` to a renamed definition pointing at its new name."""
    if isinstance(node, dict):
        copied = {key: _renamed_refs(value, renames) for key, value in node.items()}
        target = copied.get("$ref")
        if isinstance(target, str) and target.startswith(SCHEMA_REF_PREFIX):
            name = target.removeprefix(SCHEMA_REF_PREFIX)
            copied["$ref"] = SCHEMA_REF_PREFIX + renames.get(name, name)
        return copied
    if isinstance(node, list):
        return [_renamed_refs(item, renames) for item in node]
    return node
