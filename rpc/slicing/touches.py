"""Which objects a piece of render() may change without storing into a local by name.

A call may change any object handed to it (``heapq.heappop(queue)``,
``bisect.insort(groups["k"], v)``), and iterating uses up an iterator: ``for``
loops and comprehensions (every ``for`` clause), ``x in it``, ``[*it]`` and
unpacking ``a, b = it``. What such code may change is named by the *root* of
the expression handed over: ``groups`` for ``groups["k"]``, ``box`` for
``box.items``. Attributes of render()'s receiver (``self.items``) are the
documented exception: computations are trusted not to change controller state.
"""

from __future__ import annotations

import ast
import datetime
import decimal
import enum
import types
import typing
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from rpc.dependencies import Dependency
from rpc.slicing.aliases import alias_sources

NON_MUTATING_BUILTINS = frozenset(
    {"len", "isinstance", "issubclass", "id", "type", "hash", "repr", "abs", "round",
     "format", "callable", "ord", "chr", "bool", "int", "float", "str"}
)  # fmt: skip

_IMMUTABLE_TYPES: tuple[type, ...] = (
    int, float, complex, str, bytes, type(None), decimal.Decimal, uuid.UUID, datetime.date,
    datetime.time, datetime.timedelta, enum.Enum,
)  # fmt: skip


def root_name(node: ast.expr) -> str | None:
    """The name an attribute/item chain starts from (``d`` for ``d["k"].x``), else None."""
    while isinstance(node, ast.Attribute | ast.Subscript | ast.Starred):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def iterated_operands(node: ast.AST) -> list[ast.expr]:
    """The operands ``node`` itself iterates over (not those of its children)."""
    if isinstance(node, ast.Compare):
        pairs = zip(node.ops, node.comparators, strict=True)
        return [value for op, value in pairs if isinstance(op, ast.In | ast.NotIn)]
    if isinstance(node, ast.Starred) and isinstance(node.ctx, ast.Load):
        return [node.value]
    if isinstance(node, ast.For | ast.AsyncFor | ast.comprehension):
        return [node.iter]
    if isinstance(node, ast.Assign) and any(_unpacks(t) for t in node.targets):
        return [node.value]
    return []


def _unpacks(target: ast.expr) -> bool:
    return isinstance(target, ast.Tuple | ast.List | ast.Starred)


def handed_arguments(
    call: ast.Call, *, builtin: str | None, plain_containers: frozenset[str]
) -> list[ast.expr]:
    """Arguments a call may change: all, except what builtins cannot change."""
    if builtin in NON_MUTATING_BUILTINS:
        return []
    handed: list[ast.expr] = []
    for arg in (*call.args, *(k.value for k in call.keywords)):
        value = arg.value if isinstance(arg, ast.Starred) else arg
        if builtin is not None and isinstance(value, ast.Name) and value.id in plain_containers:
            continue  # builtins do not change a list/dict/set built here
        handed.append(value)
    return handed


def changes_only_own_arguments(
    function: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda,
    *,
    builtin_of: Callable[[ast.expr], str | None],
    plain_containers: frozenset[str],
    shared: Callable[[ast.expr], bool],
) -> bool:
    """True if the only objects ``function`` may change are those passed as its arguments.

    ``shared(value)`` tells whether a free name's object is render() state that
    may change. Parameters with defaults (``lambda v, into=rows: ...``) and names
    the function binds itself may hold render() objects too.
    """
    args = function.args
    positional = [*args.posonlyargs, *args.args]
    defaulted = {a.arg for a in positional[len(positional) - len(args.defaults) :]}
    defaulted |= {a.arg for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d}
    own = {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)}
    own |= {a.arg for a in (args.vararg, args.kwarg) if a is not None}
    body: list[ast.AST] = [function.body] if isinstance(function, ast.Lambda) else [*function.body]
    nodes = [n for part in body for n in ast.walk(part)]
    bound = {n.id for n in nodes if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
    suspects = defaulted | bound
    for node in nodes:
        handed = iterated_operands(node)
        if isinstance(node, ast.Call):
            builtin = builtin_of(node.func)
            handed += handed_arguments(node, builtin=builtin, plain_containers=plain_containers)
        for value in handed:
            names = alias_sources(value)
            if names & suspects or (names - own and shared(value)):
                return False
    return True


def immutable_parameters(function: Callable[..., Any], params: Iterable[str]) -> frozenset[str]:
    """Parameters annotated with immutable scalar types, which no call can change.

    Values injected by ``Depends`` are not validated against their annotation,
    so those parameters never count.
    """
    try:
        hints = typing.get_type_hints(function, include_extras=True)
    except Exception:  # unresolvable annotations: trust none of them
        return frozenset()
    defaults = _defaults(function)
    return frozenset(
        p for p in params
        if p in hints and _is_immutable(hints[p]) and not isinstance(defaults.get(p), Dependency)
    )  # fmt: skip


def _defaults(function: Callable[..., Any]) -> dict[str, object]:
    code = getattr(function, "__code__", None)
    names = code.co_varnames[: code.co_argcount] if code is not None else ()
    positional = getattr(function, "__defaults__", None) or ()
    found = dict(zip(names[len(names) - len(positional) :], positional, strict=True))
    found.update(getattr(function, "__kwdefaults__", None) or {})
    return found


def _is_immutable(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return False  # Annotated metadata may inject a value (Depends)
    if origin is typing.Literal:
        return True
    if origin is typing.Union or origin is types.UnionType:
        return all(_is_immutable(a) for a in typing.get_args(annotation))
    return isinstance(annotation, type) and issubclass(annotation, _IMMUTABLE_TYPES)
