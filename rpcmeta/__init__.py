"""Plain-data description of a Belay app: the seam between ``rpc`` and ``codegen``.

Standard library only, and it imports none of Belay's other packages, so a
reader of a description (``codegen``) never loads starlette, anyio or the
user's code. ``rpc.description.describe_app(app)`` produces an
``AppDescription``; ``dump_description``/``load_description`` carry it across
a process boundary as JSON.
"""

from __future__ import annotations

from rpcmeta.facts import (
    ACTION_METHOD,
    ERROR_TYPE_HEADER,
    PAGE_HEADER,
    RENDER_METHOD,
    SCHEMA_REF_PREFIX,
    ActionFacts,
    AppDescription,
    ControllerFacts,
    DescriptionError,
    EnumFacts,
    EnumMember,
    ErrorFacts,
    FieldFacts,
    JsonScalar,
    JsonSchema,
    ModelFacts,
    ParamFacts,
    TypeRef,
    action_path,
    dump_description,
    live_path,
    load_description,
    render_path,
)

__all__ = [
    "ACTION_METHOD",
    "ERROR_TYPE_HEADER",
    "PAGE_HEADER",
    "RENDER_METHOD",
    "SCHEMA_REF_PREFIX",
    "ActionFacts",
    "AppDescription",
    "ControllerFacts",
    "DescriptionError",
    "EnumFacts",
    "EnumMember",
    "ErrorFacts",
    "FieldFacts",
    "JsonScalar",
    "JsonSchema",
    "ModelFacts",
    "ParamFacts",
    "TypeRef",
    "action_path",
    "dump_description",
    "live_path",
    "load_description",
    "render_path",
]
