"""Walk an ``RPCApp``'s controllers into its plain-data ``AppDescription``.

The describer reads ``app.controller_specs`` (built and validated by ``rpc``),
keeps each controller's base controllers, and collects every model, enum and
error class reachable from render models, parameters, bodies and returns.
"""

from __future__ import annotations

import inspect
import typing
from typing import Any, Literal, Protocol

from rpc.binding import bounded_value_type
from rpc.controller import ControllerBase
from rpc.description.annotations import NULL, TypeMapper, json_scalar, union
from rpc.description.models import one_line, own_doc, qualified_name
from rpc.errors import APIException, exception_fields
from rpc.specs import ActionKind, ActionSpec, ControllerSpec, ParamSource, ParamSpec
from rpcmeta import (
    ActionFacts,
    AppDescription,
    ControllerFacts,
    DescriptionError,
    ErrorFacts,
    FieldFacts,
    JsonSchema,
    ParamFacts,
    TypeRef,
)


class DescribedApp(Protocol):
    """What the describer reads from an ``rpc.RPCApp``."""

    @property
    def prefix(self) -> str: ...

    @property
    def controller_specs(self) -> tuple[ControllerSpec, ...]: ...


class AppDescriber:
    """One description of one app; use ``describe_app``."""

    def __init__(self, *, json_schemas: bool) -> None:
        self.types = TypeMapper(json_schemas=json_schemas)
        self.controllers: dict[str, ControllerFacts] = {}
        self.classes: dict[str, type] = {}
        self.errors: dict[type, ErrorFacts] = {}

    def describe(self, app: DescribedApp) -> AppDescription:
        """Every served controller, the base controllers they extend, and what they use."""
        specs = app.controller_specs
        for spec in specs:
            self._served(spec)
        for spec in specs:
            for cls in reversed(_controller_ancestors(spec.controller_class)):  # roots first
                if cls.__name__ not in self.controllers or self.classes[cls.__name__] is not cls:
                    self._base(cls, specs)
        served = [self.controllers[spec.id] for spec in specs]
        bases = [c for c in self.controllers.values() if not c.served]
        schema_defs = self.types.schema_defs()
        return AppDescription(
            prefix=app.prefix,
            controllers=(*served, *bases),
            models=tuple(sorted(self.types.models.values(), key=lambda m: m.name)),
            enums=tuple(sorted(self.types.enums.values(), key=lambda e: e.name)),
            errors=tuple(sorted(self.errors.values(), key=lambda e: e.name)),
            json_schema_defs=schema_defs,
        )

    def _claim(self, cls: type) -> str:
        name = cls.__name__
        holder = self.classes.setdefault(name, cls)
        if holder is not cls:
            raise DescriptionError(
                f"two controller classes are both named {name!r}: "
                f"{qualified_name(holder)} and {qualified_name(cls)}; rename one of them"
            )
        return name

    def _served(self, spec: ControllerSpec) -> None:
        cls = spec.controller_class
        self._claim(cls)
        render = self.types.model(spec.render.model)
        where = f"{qualified_name(cls)}.render"
        self.controllers[spec.id] = ControllerFacts(
            id=spec.id,
            python_name=qualified_name(cls),
            bases=_direct_bases(cls),
            served=True,
            url=spec.url,
            render_model=render.name,
            actions=self._actions(spec, cls),
            description=own_doc(cls, ControllerBase),
            render_params=tuple(
                self._param(param, where)
                for param in spec.render.params
                if param.source in (ParamSource.PATH, ParamSource.QUERY)
            ),
        )

    def _base(self, cls: type, specs: tuple[ControllerSpec, ...]) -> None:
        self._claim(cls)
        self.controllers[cls.__name__] = ControllerFacts(
            id=cls.__name__,
            python_name=qualified_name(cls),
            bases=_direct_bases(cls),
            served=False,
            url=None,
            render_model=None,
            actions=self._base_actions(specs, cls),
            description=own_doc(cls, ControllerBase),
        )

    def _base_actions(
        self, specs: tuple[ControllerSpec, ...], owner: type
    ) -> tuple[ActionFacts, ...]:
        # A subclass that overrides an action hides the base's version from its own spec,
        # so look through every served subclass; keep the base's definition order.
        found: dict[str, tuple[ControllerSpec, ActionSpec]] = {}
        for spec in specs:
            for action in spec.actions:
                if action.owner is owner:
                    found.setdefault(action.name, (spec, action))
        order = list(vars(owner))
        ordered = sorted(found.values(), key=lambda pair: order.index(pair[1].name))
        return tuple(self._action(spec, action) for spec, action in ordered)

    def _actions(self, spec: ControllerSpec, owner: type) -> tuple[ActionFacts, ...]:
        return tuple(self._action(spec, a) for a in spec.actions if a.owner is owner)

    def _param(self, param: ParamSpec, where: str) -> ParamFacts:
        at = f"{where}({param.name})"
        ptype = self.types.map(param.annotation, at)
        if param.required:  # null is left out of the URL, which the server then rejects
            ptype = _without_null(ptype)
        source: typing.Literal["query", "path"] = (
            "path" if param.source is ParamSource.PATH else "query"
        )
        # URL values are validated with 64-bit ints and finite floats: described so too.
        schema = self.types.json_schema(bounded_value_type(param.annotation), at, "validation")
        return ParamFacts(param.name, ptype, param.required, source, schema)

    def _action(self, spec: ControllerSpec, action: ActionSpec) -> ActionFacts:
        where = f"{qualified_name(action.owner)}.{action.name}"
        params = [self._param(p, where) for p in action.params if p.source is ParamSource.QUERY]
        body = action.body
        returns, returns_schema = self._returns(action, where)
        body_schema: JsonSchema | None = None
        if body is not None:
            at = f"{where}({body.name})"
            body_schema = self.types.json_schema(body.annotation, at, "validation")
        return ActionFacts(
            name=action.name,
            python_name=where,
            kind="sideeffect" if action.kind is ActionKind.SIDEEFFECT else "passthrough",
            stream=action.stream_item is not None,
            params=tuple(params),
            body=self.types.map(body.annotation, f"{where}({body.name})") if body else None,
            body_required=body.required if body else False,
            returns=returns,
            reload=self._reload(spec, action),
            errors=tuple(self._error(cls).name for cls in action.exception_models),
            description=_doc(action.function),
            body_schema=body_schema,
            returns_schema=returns_schema,
            on_disconnect=_on_disconnect(action),
            broadcast=action.broadcast,
        )

    def _returns(self, action: ActionSpec, where: str) -> tuple[TypeRef, JsonSchema]:
        if action.stream_item is not None:
            at = f"{where} -> AsyncIterator"
            item = action.stream_item
            return self.types.map(item, at), self.types.json_schema(item, at)
        at = f"{where} -> return"
        if action.return_annotation in (None, type(None)):
            return NULL, self.types.json_schema(None, at)
        returned = action.return_annotation
        return self.types.map(returned, at), self.types.json_schema(returned, at)

    def _reload(self, spec: ControllerSpec, action: ActionSpec) -> tuple[str, ...] | None:
        if action.reload_fields is None:
            return None
        fields = spec.render.model.model_fields
        sent = [n for n in action.reload_fields if not fields[n].exclude]  # never on the wire
        return tuple(sorted(fields[n].serialization_alias or fields[n].alias or n for n in sent))

    def _error(self, cls: type[Exception]) -> ErrorFacts:
        found = self.errors.get(cls)
        if found is not None:
            return found
        if not issubclass(cls, APIException):
            raise DescriptionError(
                f"{qualified_name(cls)} is in exception_models but is not an APIException"
            )
        name = self.types.claim_name(cls.__name__, cls)
        self.types.claim_name(f"{name}Body", cls)
        where = qualified_name(cls)
        declared = {"detail": _detail_type(cls), **exception_fields(cls)}
        fields: list[FieldFacts] = []
        properties: dict[str, JsonSchema] = {}
        for field_name, annotation in declared.items():
            at = where if field_name == "detail" else f"{where}.{field_name}"
            ftype = self.types.map(annotation, at)
            schema = self.types.json_schema(annotation, at)
            if field_name != "detail" and not any(field_name in vars(k) for k in cls.__mro__):
                ftype = union([ftype, NULL])  # no default: the body carries null
                schema = {"anyOf": [schema, {"type": "null"}]}
            fields.append(FieldFacts(field_name, field_name, ftype, True))
            properties[field_name] = schema
        body_schema: JsonSchema = {}
        if self.types.builds_schemas:
            body_schema = {
                "type": "object",
                "properties": properties,
                "required": list(properties),
                "title": f"{name}Body",
            }
        found = ErrorFacts(
            name, where, cls.status_code, json_scalar(cls.detail), tuple(fields), body_schema
        )
        self.errors[cls] = found
        return found


def describe_app(app: DescribedApp, *, json_schemas: bool = False) -> AppDescription:
    """The plain-data description of every served controller of ``app`` and what it uses.

    With ``json_schemas`` every ``*schema`` field and ``json_schema_defs`` are
    filled in (for OpenAPI); without, they are empty, which is all a client
    generator needs and keeps a description fast enough to redo on every reload.
    Raises ``rpcmeta.DescriptionError`` for an app that has no valid
    description (a type with no JSON form, two types with one name, ...).
    """
    if not hasattr(app, "controller_specs") or not isinstance(getattr(app, "prefix", None), str):
        raise DescriptionError(f"describing an app needs an rpc.RPCApp, got {app!r}")
    return AppDescriber(json_schemas=json_schemas).describe(app)


def _without_null(ref: TypeRef) -> TypeRef:
    if ref.kind != "union" or NULL not in ref.args:
        return ref
    return union([arg for arg in ref.args if arg != NULL])


def _detail_type(cls: type[APIException]) -> Any:
    for klass in cls.__mro__:
        if klass is APIException:
            break
        if "detail" in inspect.get_annotations(klass):
            return typing.get_type_hints(klass)["detail"]
    return type(cls.detail) if isinstance(cls.detail, str | int | float | bool) else Any


def _controller_ancestors(cls: type) -> list[type]:
    return [k for k in cls.__mro__[1:] if issubclass(k, ControllerBase) and k is not ControllerBase]


def _direct_bases(cls: type) -> tuple[str, ...]:
    return tuple(
        base.__name__
        for base in cls.__bases__
        if issubclass(base, ControllerBase) and base is not ControllerBase
    )


def _doc(function: Any) -> str | None:
    doc = getattr(function, "__doc__", None)
    return one_line(doc) if isinstance(doc, str) else None


def _on_disconnect(action: ActionSpec) -> Literal["finish", "cancel"] | None:
    if action.on_disconnect == "cancel":
        return "cancel"
    return "finish" if action.on_disconnect == "finish" else None
