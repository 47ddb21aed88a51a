"""Which locals may hold (or contain) the object of another local.

``t = [x]`` makes ``t`` a *container* of ``x``: changing ``x``'s object changes
what ``t`` reads. Values passed to code the analysis cannot see (a method of
``self``, a store into a parameter's attribute, a context manager ...)
*escape* to ``WORLD``: after that, any change to them may be visible anywhere.
Arithmetic, comparisons and f-strings are taken to build new objects.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable

WORLD = "<world>"

Link = tuple[set[str], set[str]]  # (targets, sources): targets may contain sources

_NEW_VALUES = (ast.Constant, ast.JoinedStr, ast.BinOp, ast.UnaryOp, ast.Compare)


def alias_sources(node: ast.AST | None) -> set[str]:
    """Names whose objects the value of ``node`` may be or contain."""
    if node is None or isinstance(node, _NEW_VALUES):
        return set()
    if isinstance(node, ast.Name):
        return {node.id}
    if isinstance(node, ast.Attribute | ast.Subscript | ast.Starred | ast.Await | ast.NamedExpr):
        return alias_sources(node.value)
    if isinstance(node, ast.IfExp):
        return alias_sources(node.body) | alias_sources(node.orelse)
    if isinstance(node, ast.BoolOp):
        return _union(node.values)
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return _union(node.elts)
    if isinstance(node, ast.Dict):
        return _union([*(k for k in node.keys if k is not None), *node.values])
    if isinstance(node, ast.Call):
        receiver = node.func.value if isinstance(node.func, ast.Attribute) else None
        return _union([receiver, *node.args, *(k.value for k in node.keywords)])
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _union(nodes: Iterable[ast.AST | None]) -> set[str]:
    found: set[str] = set()
    for node in nodes:
        found |= alias_sources(node)
    return found


def links_of(
    item: ast.AST, *, fresh: frozenset[str], visible: Callable[[ast.expr], bool]
) -> list[Link]:
    """Containment links created by one node of render()'s own scope.

    ``visible(func)`` tells whether a call's effects are understood (a
    module-level function, a plain nested function, a fresh container's method).
    """
    if isinstance(item, ast.Assign):
        return [link for t in item.targets for link in _store_links(t, item.value, fresh)]
    if isinstance(item, ast.AnnAssign | ast.AugAssign):
        return _store_links(item.target, item.value, fresh)
    if isinstance(item, ast.For | ast.AsyncFor):
        if isinstance(item.target, ast.Attribute | ast.Subscript):
            return _store_links(item.target, item.iter, fresh)
        # the loop variable is an element: the iterable contains its object
        return [(alias_sources(item.iter), _bound_names(item.target))]
    if isinstance(item, ast.withitem):
        escaped = alias_sources(item.context_expr)
        bound = _bound_names(item.optional_vars) if item.optional_vars is not None else set()
        return [({WORLD, *bound}, escaped)]
    if isinstance(item, ast.NamedExpr):
        return [({item.target.id}, alias_sources(item.value))]
    if isinstance(item, ast.Call):
        args = _union([*item.args, *(k.value for k in item.keywords)])
        if not visible(item.func):
            return [({WORLD}, args)]
        if isinstance(item.func, ast.Attribute):
            return [(alias_sources(item.func.value), args)]
        return []
    if isinstance(item, ast.Await) and not isinstance(item.value, ast.Call):
        return [({WORLD}, alias_sources(item.value))]
    if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef):
        loads = {n.id for n in ast.walk(item) if isinstance(n, ast.Name)}
        name = {item.name} if not isinstance(item, ast.Lambda) else set()
        return [(name, loads)]
    return []


def _store_links(target: ast.AST, value: ast.AST | None, fresh: frozenset[str]) -> list[Link]:
    sources = alias_sources(value)
    if isinstance(target, ast.Attribute | ast.Subscript):
        base = target.value
        if isinstance(base, ast.Name) and base.id in fresh:
            return [({base.id}, sources)]
        return [({WORLD}, sources | alias_sources(base))]
    return [(_bound_names(target), sources)]


def _bound_names(target: ast.AST) -> set[str]:
    if isinstance(target, ast.Name):
        return {target.id}
    if isinstance(target, ast.Tuple | ast.List):
        return {n for elt in target.elts for n in _bound_names(elt)}
    if isinstance(target, ast.Starred):
        return _bound_names(target.value)
    if isinstance(target, ast.Attribute | ast.Subscript):
        return {WORLD}
    return set()


def container_map(links: list[Link], names: Iterable[str]) -> dict[str, frozenset[str]]:
    """For each name, every name (or ``WORLD``) that may end up containing its object."""
    edges: dict[str, set[str]] = {}
    for targets, sources in links:
        for source in sources:
            edges.setdefault(source, set()).update(t for t in targets if t != source)
    result: dict[str, frozenset[str]] = {}
    for name in names:
        seen: set[str] = set()
        stack = list(edges.get(name, ()))
        while stack:
            item = stack.pop()
            if item not in seen:
                seen.add(item)
                stack.extend(edges.get(item, ()))
        result[name] = frozenset(seen)
    return result
