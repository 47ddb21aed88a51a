"""Facts about the names of ``render()`` that the slicer needs, gathered once.

*Fresh* names hold containers built inside render() by a literal or a
comprehension (``rows = []``); a method call or item store on one changes only
the objects that share its alias group. *Plain callables* are nested functions
and lambdas whose bodies only read names and call module-level functions:
calling one is a computation. *Closure variables* are render() locals that a
nested function or lambda reads; the closure may run at any later time, so
every statement writing one is kept.
"""

from __future__ import annotations

import ast
import builtins
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from rpc.slicing.aliases import WORLD, alias_sources, container_map, links_of
from rpc.slicing.source import FunctionNode
from rpc.slicing.touches import changes_only_own_arguments, immutable_parameters, root_name

MISSING: Any = object()

_FRESH_VALUES = (
    ast.List, ast.Dict, ast.Set, ast.Tuple, ast.ListComp, ast.DictComp, ast.SetComp,
    ast.GeneratorExp, ast.Constant, ast.JoinedStr,
)  # fmt: skip
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)


@dataclass(frozen=True)
class NameFacts:
    """Flow-insensitive facts about render()'s local names."""

    params: tuple[str, ...]
    local_names: frozenset[str]
    fresh: frozenset[str]
    plain_callables: frozenset[str]
    plain_containers: frozenset[str]
    closure_vars: frozenset[str]
    containers: dict[str, frozenset[str]]
    lookup: Callable[[str], Any]
    immutable_params: frozenset[str] = frozenset()
    receiver: str | None = None

    def group(self, name: str) -> frozenset[str]:
        """Locals whose value may change when ``name``'s object is changed.

        ``name`` may *be* the object of any local it was assigned from
        (``alias = rows``), so those count too, with everything holding them.
        """
        members = {name} | {y for y, held in self.containers.items() if name in held}
        found = set(members)
        for member in members:
            found |= self.containers.get(member, frozenset())
        return frozenset(found - {WORLD})

    def touchable(self, value: ast.expr) -> frozenset[str]:
        """The locals whose objects ``value`` may be or contain (``d`` for ``d["k"]``, ``it``
        for ``[it]``): what a call or an iteration given ``value`` may change.

        Not parameters of an immutable type, nor the receiver reached through its
        attributes (``self.items``): computations are trusted with controller state.
        """
        return _touchable(value, self.local_names, self.immutable_params, self.receiver)

    def contained(self, name: str) -> bool:
        """True for a fresh container that never escapes to code we cannot see."""
        return name in self.fresh and WORLD not in self.containers.get(name, frozenset())


def parameter_names(args: ast.arguments) -> tuple[str, ...]:
    """All parameter names of a def or lambda, in order."""
    names = [a.arg for a in (*args.posonlyargs, *args.args)]
    if args.vararg:
        names.append(args.vararg.arg)
    names.extend(a.arg for a in args.kwonlyargs)
    if args.kwarg:
        names.append(args.kwarg.arg)
    return tuple(names)


def target_names(target: ast.AST) -> list[str]:
    """Names bound by an assignment target (through tuples, lists and stars)."""
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, ast.Tuple | ast.List):
        return [n for elt in target.elts for n in target_names(elt)]
    if isinstance(target, ast.Starred):
        return target_names(target.value)
    return []


def name_loads(node: ast.AST | None) -> set[str]:
    """Every name read anywhere under ``node`` (an over-approximation)."""
    if node is None:
        return set()
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def make_lookup(render: types.FunctionType) -> Callable[[str], Any]:
    """Resolve a non-local name as render() would now: closure, globals, builtins."""
    cells = dict(zip(render.__code__.co_freevars, render.__closure__ or (), strict=True))

    def lookup(name: str) -> Any:
        if name in cells:
            try:
                return cells[name].cell_contents
            except ValueError:
                return MISSING
        if name in render.__globals__:
            return render.__globals__[name]
        return getattr(builtins, name, MISSING)

    return lookup


def gather_facts(node: FunctionNode, render: types.FunctionType) -> NameFacts:
    """Scan render()'s own scope once for bindings, aliases and closures."""
    params = parameter_names(node.args)
    bindings: dict[str, list[ast.AST | None]] = {p: [None] for p in params}
    closures: set[str] = set()
    for item in _walk_own_scope(node.body):
        for name, value in _bindings_of(item):
            bindings.setdefault(name, []).append(value)
        if isinstance(item, _DEFS):
            closures |= name_loads(item) - set(parameter_names(item.args))
        elif isinstance(item, ast.ClassDef):
            closures |= name_loads(item)
    local_names = frozenset(bindings)
    lookup = make_lookup(render)
    fresh = frozenset(n for n, vs in bindings.items() if all(_is_fresh(v) for v in vs))
    plain_containers = frozenset(
        n for n in fresh if not any(isinstance(v, ast.GeneratorExp) for v in bindings[n])
    )

    immutable = immutable_parameters(render, params)
    receiver = params[0] if node.args.posonlyargs or node.args.args else None

    def builtin_of(func: ast.expr) -> str | None:
        return builtin_name(func, local_names, lookup)

    def shared(value: ast.expr) -> bool:
        return bool(_touchable(value, local_names, immutable, receiver))

    plain = frozenset(
        n
        for n, vs in bindings.items()
        if all(_is_plain_def(v, local_names, lookup) for v in vs)
        and all(
            changes_only_own_arguments(
                v, builtin_of=builtin_of, plain_containers=plain_containers, shared=shared
            )
            for v in vs
            if isinstance(v, _DEFS)
        )
    )

    def visible(func: ast.expr) -> bool:
        if isinstance(func, ast.Name) and func.id in plain:
            return True
        owner = func.value if isinstance(func, ast.Attribute) else None
        if isinstance(owner, ast.Name) and owner.id in fresh:
            return True
        return is_module_level_call(func, local_names, lookup)

    links = [
        link
        for item in _walk_own_scope(node.body)
        for link in links_of(item, fresh=fresh, visible=visible)
    ]
    return NameFacts(
        params=params,
        local_names=local_names,
        fresh=fresh,
        plain_callables=plain,
        plain_containers=plain_containers,
        closure_vars=frozenset(closures & local_names),
        containers=container_map(links, local_names),
        lookup=lookup,
        immutable_params=immutable,
        receiver=receiver,
    )


def _touchable(
    value: ast.expr, local_names: frozenset[str], immutable: frozenset[str], receiver: str | None
) -> frozenset[str]:
    names = alias_sources(value)
    if root_name(value) == receiver and not isinstance(value, ast.Name):
        names.discard(receiver or "")
    return frozenset(n for n in names if n in local_names and n not in immutable)


def _walk_own_scope(body: list[ast.stmt]) -> Iterator[ast.AST]:
    stack: list[ast.AST] = list(reversed(body))
    while stack:
        item = stack.pop()
        yield item
        if isinstance(item, (*_DEFS, ast.ClassDef)):
            continue
        stack.extend(reversed(list(ast.iter_child_nodes(item))))


_AUG: ast.AST = ast.Pass()  # marker: an augmented assignment keeps freshness


def _bindings_of(item: ast.AST) -> list[tuple[str, ast.AST | None]]:
    if isinstance(item, ast.Assign):
        single = len(item.targets) == 1 and isinstance(item.targets[0], ast.Name)
        return [(n, item.value if single else None) for t in item.targets for n in target_names(t)]
    if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
        return [(item.target.id, item.value)] if item.value is not None else []
    if isinstance(item, ast.AugAssign) and isinstance(item.target, ast.Name):
        return [(item.target.id, _AUG)]
    if isinstance(item, ast.For | ast.AsyncFor):
        return [(n, None) for n in target_names(item.target)]
    if isinstance(item, ast.withitem) and item.optional_vars is not None:
        return [(n, None) for n in target_names(item.optional_vars)]
    if isinstance(item, ast.NamedExpr):
        return [(item.target.id, None)]
    if isinstance(item, ast.ExceptHandler) and item.name:
        return [(item.name, None)]
    if isinstance(item, ast.Import | ast.ImportFrom):
        return [((a.asname or a.name).split(".")[0], None) for a in item.names]
    if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return [(item.name, item)]
    if isinstance(item, ast.MatchAs | ast.MatchStar) and item.name:
        return [(item.name, None)]
    if isinstance(item, ast.MatchMapping) and item.rest:
        return [(item.rest, None)]
    if isinstance(item, ast.comprehension):
        return []
    return []


def _is_fresh(value: ast.AST | None) -> bool:
    return value is _AUG or isinstance(value, _FRESH_VALUES)


def _is_plain_def(value: ast.AST | None, local_names: frozenset[str], lookup: Any) -> bool:
    if not isinstance(value, _DEFS):
        return False
    if isinstance(value, ast.FunctionDef | ast.AsyncFunctionDef) and value.decorator_list:
        return False
    for child in ast.walk(value.body if isinstance(value, ast.Lambda) else value):
        if isinstance(child, ast.Attribute | ast.Subscript) and not isinstance(child.ctx, ast.Load):
            return False
        if isinstance(child, ast.Await) and not isinstance(child.value, ast.Call):
            return False
        if isinstance(child, ast.Call) and not is_module_level_call(
            child.func, local_names, lookup
        ):
            return False
    return True


def builtin_name(func: ast.expr, local_names: frozenset[str], lookup: Any) -> str | None:
    """The name of a builtin function called by its plain name, else None."""
    if not isinstance(func, ast.Name) or func.id in local_names:
        return None
    return func.id if lookup(func.id) is getattr(builtins, func.id, None) else None


def is_module_level_call(func: ast.expr, local_names: frozenset[str], lookup: Any) -> bool:
    """True for ``f(...)``, ``module.f(...)``, ``Class.f(...)``, ``"".join(...)``.

    ``f`` must be a name render() does not bind (a module-level or builtin name).
    """
    if isinstance(func, ast.Name):
        return func.id not in local_names and lookup(func.id) is not MISSING
    if not isinstance(func, ast.Attribute):
        return False
    owner: ast.expr = func.value
    if isinstance(owner, ast.Constant):
        return True
    chain: list[str] = []
    while isinstance(owner, ast.Attribute):
        chain.append(owner.attr)
        owner = owner.value
    if not isinstance(owner, ast.Name) or owner.id in local_names:
        return False
    value = lookup(owner.id)
    for attr in reversed(chain):
        if not isinstance(value, types.ModuleType | type):
            return False
        value = getattr(value, attr, MISSING)
    return isinstance(value, types.ModuleType | type)
