"""Python annotations to ``TypeRef``s and JSON Schemas, collecting the models and enums they use.

The mapping follows what the server puts on the wire (``model_dump(mode="json",
by_alias=True)``): a set is a JSON array, a ``Decimal`` a string, field names
are aliases. Types outside the table are asked for pydantic's serialization
JSON schema, which covers custom and constrained types.
"""

from __future__ import annotations

import collections
import collections.abc as abc
import datetime
import decimal
import enum
import ipaddress
import pathlib
import types
import typing
import uuid
from typing import Any

from pydantic import BaseModel, RootModel, TypeAdapter

from rpc.description.models import describe_model, own_doc, qualified_name
from rpc.description.schemas import SchemaBatch, SchemaMode
from rpcmeta import (
    DescriptionError,
    EnumFacts,
    EnumMember,
    JsonScalar,
    JsonSchema,
    ModelFacts,
    TypeRef,
)

STRING = TypeRef("primitive", "string")
NUMBER = TypeRef("primitive", "number")
BOOLEAN = TypeRef("primitive", "boolean")
NULL = TypeRef("primitive", "null")
UNKNOWN = TypeRef("primitive", "unknown")

_STRING_TYPES: tuple[type, ...] = (
    str,
    bytes,
    datetime.datetime,
    datetime.date,
    datetime.time,
    datetime.timedelta,
    uuid.UUID,
    decimal.Decimal,
    pathlib.PurePath,
    ipaddress.IPv4Address,
    ipaddress.IPv6Address,
    ipaddress.IPv4Network,
    ipaddress.IPv6Network,
)
_ARRAY_ORIGINS: tuple[Any, ...] = (
    list,
    set,
    frozenset,
    collections.deque,
    abc.Sequence,
    abc.MutableSequence,
    abc.Set,
    abc.MutableSet,
    abc.Iterable,
    abc.Collection,
)
_RECORD_ORIGINS: tuple[Any, ...] = (
    dict,
    abc.Mapping,
    abc.MutableMapping,
    collections.OrderedDict,
    collections.defaultdict,
)
_SCHEMA_TYPES = {"string": STRING, "integer": NUMBER, "number": NUMBER, "boolean": BOOLEAN}


def union(members: list[TypeRef]) -> TypeRef:
    """A flattened, de-duplicated union, ``null`` last; one member is itself."""
    flat: list[TypeRef] = []
    seen: set[str] = set()
    for member in members:
        for item in member.args if member.kind == "union" else (member,):
            key = repr(item)  # not ==: Literal[1] and Literal[True] compare equal
            if key not in seen:
                seen.add(key)
                flat.append(item)
    if UNKNOWN in flat:
        return UNKNOWN
    flat.sort(key=lambda ref: ref == NULL)
    return flat[0] if len(flat) == 1 else TypeRef("union", args=tuple(flat))


class TypeMapper:
    """Maps annotations, registering each model and enum it meets (once).

    With ``json_schemas``, ``json_schema`` hands out an annotation's
    serialization schema, complete once ``schema_defs()`` has run; without, it
    gives ``{}`` (schemas cost about five times the rest of a description).
    """

    def __init__(self, *, json_schemas: bool = False) -> None:
        self.models: dict[type, ModelFacts] = {}
        self.enums: dict[type, EnumFacts] = {}
        self._schemas = SchemaBatch() if json_schemas else None
        self._names: dict[str, type] = {}

    def map(self, annotation: Any, where: str) -> TypeRef:
        """The TS type of ``annotation``; ``where`` names it in error messages."""
        annotation = _unwrap(annotation)
        origin = typing.get_origin(annotation)
        if origin is not None:
            return self._map_generic(annotation, origin, where)
        if annotation is None or annotation is type(None):
            return NULL
        if annotation is Any or annotation is object or isinstance(annotation, typing.TypeVar):
            return UNKNOWN
        if isinstance(annotation, type):
            return self._map_class(annotation, where)
        return self._from_schema(annotation, where)

    def _map_generic(self, annotation: Any, origin: Any, where: str) -> TypeRef:
        args = typing.get_args(annotation)
        if origin is typing.Literal:
            return union([self._literal(value, where) for value in args])
        if origin is typing.Union or origin is types.UnionType:
            return union([self.map(arg, where) for arg in args])
        if origin is tuple:
            if not args or (len(args) == 2 and args[1] is Ellipsis):
                return TypeRef("array", args=(self.map(args[0] if args else Any, where),))
            if args == ((),):
                return TypeRef("tuple")
            return TypeRef("tuple", args=tuple(self.map(arg, where) for arg in args))
        if origin in _ARRAY_ORIGINS:
            return TypeRef("array", args=(self.map(args[0] if args else Any, where),))
        if origin in _RECORD_ORIGINS:
            return TypeRef("record", args=(self.map(args[1] if args else Any, where),))
        if origin is type:
            return STRING
        if isinstance(origin, type) and issubclass(origin, BaseModel):
            return self._map_class(annotation, where)
        return self._from_schema(annotation, where)

    def _map_class(self, cls: type, where: str) -> TypeRef:
        if issubclass(cls, enum.Enum):
            return TypeRef("enum", self.enum(cls).name)
        if issubclass(cls, RootModel):
            root = cls.model_fields["root"].annotation
            return self.map(root, f"{qualified_name(cls)}.root")
        if issubclass(cls, BaseModel):
            return TypeRef("model", self.model(cls).name)
        if cls is bool:
            return BOOLEAN
        if issubclass(cls, int | float):
            return NUMBER
        if issubclass(cls, _STRING_TYPES):
            return STRING
        if cls in (list, set, frozenset, tuple):
            return TypeRef("array", args=(UNKNOWN,))
        if cls is dict:
            return TypeRef("record", args=(UNKNOWN,))
        return self._from_schema(cls, where)

    def _literal(self, value: object, where: str) -> TypeRef:
        if isinstance(value, enum.Enum):
            return TypeRef("enum_member", self.enum(type(value)).name, value=value.name)
        if value is None:
            return NULL
        if isinstance(value, str | int | float | bool):
            return TypeRef("literal", value=value)
        raise DescriptionError(f"{where}: Literal value {value!r} has no JSON literal type")

    def _from_schema(self, annotation: Any, where: str) -> TypeRef:
        try:
            schema = TypeAdapter(annotation).json_schema(mode="serialization")
        except Exception as exc:
            raise DescriptionError(
                f"{where}: cannot map type {annotation!r} to a JSON type ({exc})"
            ) from exc
        kind = schema.get("type")
        if kind == "array":
            return TypeRef("array", args=(UNKNOWN,))
        if kind == "object":
            return TypeRef("record", args=(UNKNOWN,))
        return _SCHEMA_TYPES.get(kind, UNKNOWN) if isinstance(kind, str) else UNKNOWN

    @property
    def builds_schemas(self) -> bool:
        """Whether ``json_schema`` hands out real schemas (else always ``{}``)."""
        return self._schemas is not None

    def json_schema(
        self, annotation: Any, where: str, mode: SchemaMode = "serialization"
    ) -> JsonSchema:
        """The JSON Schema of ``annotation``, filled in by ``schema_defs()``.

        ``mode="validation"`` for values the server reads, else what it sends.
        """
        return {} if self._schemas is None else self._schemas.request(annotation, where, mode)

    def schema_defs(self) -> dict[str, JsonSchema]:
        """Fill every schema handed out; the definitions their ``$ref``s point at."""
        return {} if self._schemas is None else self._schemas.build()

    def model(self, cls: type[BaseModel]) -> ModelFacts:
        """The facts of ``cls`` (described on first use; recursion-safe)."""
        found = self.models.get(cls)
        if found is None:
            name = self.claim_name(model_name(cls), cls)
            found = describe_model(self, cls, name)
        return found

    def enum(self, cls: type[enum.Enum]) -> EnumFacts:
        """The facts of ``cls`` (described on first use)."""
        found = self.enums.get(cls)
        if found is None:
            name = self.claim_name(cls.__name__, cls)
            found = EnumFacts(
                name=name,
                python_name=qualified_name(cls),
                members=tuple(_member(cls, m) for m in cls),
                description=own_doc(cls, enum.Enum),
            )
            self.enums[cls] = found
        return found

    def claim_name(self, name: str, owner: type) -> str:
        """Reserve a described name for ``owner``; two Python types with one name are an error."""
        holder = self._names.setdefault(name, owner)
        if holder is not owner:
            raise DescriptionError(
                f"two types would both be named {name!r} in the TypeScript client and "
                f"the JSON Schemas: {qualified_name(holder)} and {qualified_name(owner)}; "
                f"rename one of them"
            )
        return name


def model_name(cls: type[BaseModel]) -> str:
    """The described name: the class name, or for ``Page[Item]`` the concrete ``PageItem``."""
    meta = getattr(cls, "__pydantic_generic_metadata__", None) or {}
    origin, args = meta.get("origin"), meta.get("args", ())
    if origin is None or not args:
        return cls.__name__
    return str(origin.__name__) + "".join(_type_word(arg) for arg in args)


def _type_word(annotation: Any) -> str:
    if isinstance(annotation, type):
        if issubclass(annotation, BaseModel):
            return model_name(annotation)
        return annotation.__name__[:1].upper() + annotation.__name__[1:]
    origin = typing.get_origin(annotation)
    words = "".join(_type_word(arg) for arg in typing.get_args(annotation))
    if origin is typing.Union or origin is types.UnionType:
        return words.replace("NoneType", "Null")
    return _type_word(origin) + words if origin is not None else "Unknown"


def _member(cls: type[enum.Enum], member: enum.Enum) -> EnumMember:
    value = member.value
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise DescriptionError(
            f"{qualified_name(cls)}.{member.name}: enum value {value!r} is not a string or number"
        )
    return EnumMember(member.name, value)


def _unwrap(annotation: Any) -> Any:
    """Strip Annotated, NewType and ``type X = ...`` aliases."""
    while True:
        if typing.get_origin(annotation) is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif isinstance(annotation, typing.NewType):
            annotation = annotation.__supertype__
        elif type(annotation).__name__ == "TypeAliasType":
            annotation = annotation.__value__
        else:
            return annotation


def json_scalar(value: object) -> JsonScalar:
    """``value`` if it is a JSON scalar, else None."""
    return value if isinstance(value, str | int | float | bool) or value is None else None
