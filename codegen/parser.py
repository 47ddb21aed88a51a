"""Walk an ``RPCApp``'s controllers in memory into plain-data wrappers.

The parser reads ``app.controller_specs`` (built and validated by ``rpc``),
keeps each controller's base controllers, and collects every model, enum and
error class reachable from render models, parameters, bodies and returns.
"""

from __future__ import annotations

import inspect
import typing
from typing import Any, Protocol

from codegen.errors import CodegenError
from codegen.typemap import NULL, TypeMapper, json_scalar, own_doc, union
from codegen.wrappers import (
    ActionWrapper,
    AppWrapper,
    ControllerWrapper,
    ErrorWrapper,
    FieldWrapper,
    ParamWrapper,
    TypeRef,
)
from rpc import APIException, ControllerBase
from rpc.errors import exception_fields
from rpc.specs import ActionKind, ActionSpec, ControllerSpec, ParamSource

RESERVED_PARAMS = frozenset({"requestBody", "signal"})
# Names the generated controller object or createServerState's store already use.
RESERVED_ACTIONS = frozenset({"render", "load", "state", "loaded", "subscribe", "__proto__"})


class AppLike(Protocol):
    """What codegen reads from an ``rpc.RPCApp``."""

    @property
    def prefix(self) -> str: ...

    @property
    def controller_specs(self) -> tuple[ControllerSpec, ...]: ...


class AppParser:
    """One parse of one app; use ``parse_app``."""

    def __init__(self) -> None:
        self.types = TypeMapper()
        self.controllers: dict[str, ControllerWrapper] = {}
        self.classes: dict[str, type] = {}
        self.errors: dict[type, ErrorWrapper] = {}

    def parse(self, app: AppLike) -> AppWrapper:
        specs = app.controller_specs
        for spec in specs:
            self._served(spec)
        for spec in specs:
            for cls in reversed(_controller_ancestors(spec.controller_class)):  # roots first
                if cls.__name__ not in self.controllers or self.classes[cls.__name__] is not cls:
                    self._base(cls, specs)
        served = [self.controllers[spec.id] for spec in specs]
        bases = [c for c in self.controllers.values() if not c.served]
        return AppWrapper(
            prefix=app.prefix,
            controllers=(*served, *bases),
            models=tuple(sorted(self.types.models.values(), key=lambda m: m.name)),
            enums=tuple(sorted(self.types.enums.values(), key=lambda e: e.name)),
            errors=tuple(sorted(self.errors.values(), key=lambda e: e.name)),
        )

    def _claim(self, cls: type) -> str:
        name = cls.__name__
        holder = self.classes.setdefault(name, cls)
        if holder is not cls:
            raise CodegenError(
                f"two controller classes are both named {name!r}: "
                f"{_qualified(holder)} and {_qualified(cls)}; rename one of them"
            )
        return name

    def _served(self, spec: ControllerSpec) -> None:
        cls = spec.controller_class
        self._claim(cls)
        render = self.types.model(spec.render.model)
        self.controllers[spec.id] = ControllerWrapper(
            id=spec.id,
            python_name=_qualified(cls),
            bases=_direct_bases(cls),
            served=True,
            url=spec.url,
            render_model=render.name,
            actions=self._actions(spec, cls),
            description=own_doc(cls, ControllerBase),
        )

    def _base(self, cls: type, specs: tuple[ControllerSpec, ...]) -> None:
        self._claim(cls)
        self.controllers[cls.__name__] = ControllerWrapper(
            id=cls.__name__,
            python_name=_qualified(cls),
            bases=_direct_bases(cls),
            served=False,
            url=None,
            render_model=None,
            actions=self._base_actions(specs, cls),
            description=own_doc(cls, ControllerBase),
        )

    def _base_actions(
        self, specs: tuple[ControllerSpec, ...], owner: type
    ) -> tuple[ActionWrapper, ...]:
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

    def _actions(self, spec: ControllerSpec, owner: type) -> tuple[ActionWrapper, ...]:
        return tuple(self._action(spec, a) for a in spec.actions if a.owner is owner)

    def _action(self, spec: ControllerSpec, action: ActionSpec) -> ActionWrapper:
        where = f"{_qualified(action.owner)}.{action.name}"
        if action.name in RESERVED_ACTIONS:
            raise CodegenError(
                f"{where}: an action cannot be named {action.name!r} in the TypeScript client "
                f"(reserved: {', '.join(sorted(RESERVED_ACTIONS))})"
            )
        params = []
        for param in action.params:
            if param.source is not ParamSource.QUERY:
                continue
            if param.name in RESERVED_PARAMS:
                raise CodegenError(
                    f"{where}: parameter {param.name!r} clashes with the TypeScript client's "
                    f"own {param.name!r}; rename it"
                )
            ptype = self.types.map(param.annotation, f"{where}({param.name})")
            if param.required:  # null is left out of the URL, which the server then rejects
                ptype = _without_null(ptype)
            params.append(ParamWrapper(param.name, ptype, param.required))
        body = action.body
        return ActionWrapper(
            name=action.name,
            python_name=where,
            kind="sideeffect" if action.kind is ActionKind.SIDEEFFECT else "passthrough",
            stream=action.is_stream,
            params=tuple(params),
            body=self.types.map(body.annotation, f"{where}({body.name})") if body else None,
            body_required=body.required if body else False,
            returns=self._returns(action, where),
            reload=self._reload(spec, action),
            errors=tuple(self._error(cls).name for cls in action.exception_models),
            description=_doc(action.function),
        )

    def _returns(self, action: ActionSpec, where: str) -> TypeRef:
        if action.stream_item is not None:
            return self.types.map(action.stream_item, f"{where} -> AsyncIterator")
        if action.return_annotation in (None, type(None)):
            return NULL
        return self.types.map(action.return_annotation, f"{where} -> return")

    def _reload(self, spec: ControllerSpec, action: ActionSpec) -> tuple[str, ...] | None:
        if action.reload_fields is None:
            return None
        fields = spec.render.model.model_fields
        sent = [n for n in action.reload_fields if not fields[n].exclude]  # never on the wire
        return tuple(sorted(fields[n].serialization_alias or fields[n].alias or n for n in sent))

    def _error(self, cls: type[Exception]) -> ErrorWrapper:
        found = self.errors.get(cls)
        if found is not None:
            return found
        if not issubclass(cls, APIException):
            raise CodegenError(
                f"{_qualified(cls)} is in exception_models but is not an APIException"
            )
        name = self.types.claim_name(cls.__name__, cls)
        self.types.claim_name(f"{name}Body", cls)
        where = _qualified(cls)
        detail = FieldWrapper("detail", "detail", self.types.map(_detail_type(cls), where), True)
        fields = [detail]
        for field_name, annotation in exception_fields(cls).items():
            ftype = self.types.map(annotation, f"{where}.{field_name}")
            if not any(field_name in vars(k) for k in cls.__mro__):
                ftype = union([ftype, NULL])
            fields.append(FieldWrapper(field_name, field_name, ftype, True))
        found = ErrorWrapper(name, where, cls.status_code, json_scalar(cls.detail), tuple(fields))
        self.errors[cls] = found
        return found


def parse_app(app: AppLike) -> AppWrapper:
    """The wrappers for every served controller of ``app`` and what they reference."""
    if not hasattr(app, "controller_specs") or not isinstance(getattr(app, "prefix", None), str):
        raise CodegenError(f"codegen needs an rpc.RPCApp, got {app!r}")
    return AppParser().parse(app)


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
    return " ".join(doc.split()) or None if isinstance(doc, str) else None


def _qualified(obj: Any) -> str:
    return f"{obj.__module__}.{obj.__qualname__}"
