"""What one statement (or block header) of ``render()`` reads, writes and may change.

The trust rule: a call of a module-level function or class by name
(``calculate(n)``, ``len(x)``, ``math.sqrt(x)``, ``Model.parse(x)``, a plain
nested function that changes nothing but its own arguments) is a computation;
its only effects are its result and changes to the objects handed to it (a
list it fills, an iterator it consumes): the root local of each argument
(``d`` for ``d["k"]``) and the locals sharing it may change. Iterating counts
too (``for``, every comprehension clause, ``x in it``, ``[*it]``, ``a, b = it``).
Parameters of immutable types (int, str, enum ...) never change, and
computations are trusted with attributes of the receiver (``f(self.items)``).
A method call on a fresh local container
(``rows.append(x)``) or a store into one (``d[k] = v``) changes that
container and the locals that may contain it. Every other call, ``await`` of a
non-call, store into an attribute or item of anything else (``self.x = 1``), or in-place ``+=`` on a
possibly shared object is a *barrier*: it may change any state, so it is kept
whenever anything after it is kept. A bare expression statement that calls
something exists for its effects and is always kept, unless it is a method
call on a fresh container; ``raise`` and ``assert`` are always kept.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from rpc.slicing.facts import (
    NameFacts,
    builtin_name,
    is_module_level_call,
    parameter_names,
    target_names,
)
from rpc.slicing.touches import handed_arguments, iterated_operands


@dataclass(frozen=True)
class Effects:
    """Read/write summary of one statement or block header."""

    uses: frozenset[str] = frozenset()
    writes: frozenset[str] = frozenset()
    kills: frozenset[str] = frozenset()
    barrier: bool = False
    must_keep: bool = False


@dataclass
class _Scan:
    loads: set[str] = field(default_factory=set)
    writes: set[str] = field(default_factory=set)
    barrier: bool = False
    calls: int = 0


class _ExpressionScanner(ast.NodeVisitor):
    """Reads, walrus writes and call effects of one expression."""

    def __init__(self, facts: NameFacts) -> None:
        self.facts = facts
        self.scan = _Scan()
        self._bound: list[set[str]] = []

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load) and not any(node.id in b for b in self._bound):
            self.scan.loads.add(node.id)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.scan.writes.add(node.target.id)
        self.visit(node.value)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        for default in (*node.args.defaults, *node.args.kw_defaults):
            if default is not None:
                self.visit(default)
        self._bound.append(set(parameter_names(node.args)))
        self.visit(node.body)  # conservatively as if called right away
        self._bound.pop()

    def _comprehension(
        self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp
    ) -> None:
        self.visit(node.generators[0].iter)
        for gen in node.generators:
            self._touch(gen.iter)  # iterating consumes an iterator, in every `for` clause
        self._bound.append({n for g in node.generators for n in target_names(g.target)})
        for index, gen in enumerate(node.generators):
            if index:
                self.visit(gen.iter)
            for cond in gen.ifs:
                self.visit(cond)
        for part in (node.key, node.value) if isinstance(node, ast.DictComp) else (node.elt,):
            self.visit(part)
        self._bound.pop()

    visit_ListComp = visit_SetComp = visit_GeneratorExp = visit_DictComp = _comprehension

    def visit_Compare(self, node: ast.Compare) -> None:
        for operand in iterated_operands(node):  # `x in it` advances an iterator
            self._touch(operand)
        self.generic_visit(node)

    def visit_Starred(self, node: ast.Starred) -> None:
        for operand in iterated_operands(node):  # `[*it]` uses an iterator up
            self._touch(operand)
        self.generic_visit(node)

    def visit_Await(self, node: ast.Await) -> None:
        if not isinstance(node.value, ast.Call):
            self.scan.barrier = True
        self.scan.calls += 1
        self.visit(node.value)

    def visit_Call(self, node: ast.Call) -> None:
        self.scan.calls += 1
        self._classify(node)
        self.generic_visit(node)

    def _classify(self, node: ast.Call) -> None:
        facts, func = self.facts, node.func
        plain = isinstance(func, ast.Name) and func.id in facts.plain_callables
        root = container_method_root(func, facts)
        if plain or is_module_level_call(func, facts.local_names, facts.lookup):
            self._touch_arguments(node, builtin=builtin_name(func, facts.local_names, facts.lookup))
        elif root is not None:
            self.scan.writes |= facts.group(root)
            self._touch_arguments(node)
        else:
            self.scan.barrier = True

    def _touch_arguments(self, node: ast.Call, *, builtin: str | None = None) -> None:
        plain = self.facts.plain_containers
        for value in handed_arguments(node, builtin=builtin, plain_containers=plain):
            self._touch(value)

    def _touch(self, value: ast.expr) -> None:
        self.scan.writes |= touched_locals(value, self.facts)


def touched_locals(value: ast.expr, facts: NameFacts) -> frozenset[str]:
    """Locals that may change when ``value`` is handed to a call or iterated.

    Those whose objects ``value`` may be or contain (see ``NameFacts.touchable``)
    and every local sharing one of them.
    """
    found: set[str] = set()
    for name in facts.touchable(value):
        found |= facts.group(name) | {name}
    return frozenset(found)


def container_method_root(func: ast.expr, facts: NameFacts) -> str | None:
    """``x`` for ``x.method`` when ``x`` is a fresh local container."""
    owner = func.value if isinstance(func, ast.Attribute) else None
    if isinstance(owner, ast.Name) and facts.contained(owner.id):
        return owner.id
    return None


def scan_expression(node: ast.AST | None, facts: NameFacts) -> _Scan:
    """Scan one expression (or any node, e.g. a pattern or a target)."""
    scanner = _ExpressionScanner(facts)
    if node is not None:
        scanner.visit(node)
    return scanner.scan


def expression_effects(nodes: list[ast.AST | None], facts: NameFacts) -> Effects:
    """Effects of block-header expressions (an ``if`` test, a ``for`` iterable ...)."""
    scans = [scan_expression(n, facts) for n in nodes]
    return Effects(
        uses=frozenset(n for s in scans for n in s.loads),
        writes=frozenset(n for s in scans for n in s.writes),
        barrier=any(s.barrier for s in scans),
    )


def target_effects(target: ast.expr, facts: NameFacts) -> Effects:
    """Effects of binding to ``target``: names, or stores into objects."""
    if isinstance(target, ast.Name):
        return Effects(writes=frozenset({target.id}))
    if isinstance(target, ast.Tuple | ast.List | ast.Starred):
        parts = [target_effects(e, facts) for e in _elements(target)]
        return _merge(parts)
    if not isinstance(target, ast.Attribute | ast.Subscript):
        return Effects(barrier=True, must_keep=True)
    inner = scan_expression(target.value, facts)
    index = scan_expression(target.slice, facts) if isinstance(target, ast.Subscript) else None
    base = target.value
    contained = isinstance(base, ast.Name) and facts.contained(base.id)
    writes = facts.group(base.id) if isinstance(base, ast.Name) and contained else frozenset()
    return Effects(
        uses=frozenset(inner.loads | (index.loads if index else set())),
        writes=writes | frozenset(inner.writes),
        barrier=not contained or inner.barrier or bool(index and index.barrier),
    )


def _elements(target: ast.Tuple | ast.List | ast.Starred) -> list[ast.expr]:
    return [target.value] if isinstance(target, ast.Starred) else list(target.elts)


def _merge(parts: list[Effects]) -> Effects:
    return Effects(
        uses=frozenset().union(*(p.uses for p in parts)),
        writes=frozenset().union(*(p.writes for p in parts)),
        kills=frozenset().union(*(p.kills for p in parts)),
        barrier=any(p.barrier for p in parts),
        must_keep=any(p.must_keep for p in parts),
    )


def statement_effects(stmt: ast.stmt, facts: NameFacts) -> Effects:
    """Effects of a simple (non-block) statement."""
    if isinstance(stmt, ast.Assign):
        value = expression_effects([stmt.value], facts)
        unpacked = [touched_locals(o, facts) for o in iterated_operands(stmt)]  # `a, b = it`
        value = _merge([value, Effects(writes=frozenset().union(*unpacked))])
        targets = _merge([target_effects(t, facts) for t in stmt.targets])
        kills = frozenset(n for t in stmt.targets for n in target_names(t))
        return _merge([value, targets, Effects(kills=kills - value.writes)])
    if isinstance(stmt, ast.AnnAssign):
        if stmt.value is None:
            return Effects()
        value = expression_effects([stmt.value], facts)
        kills = frozenset(target_names(stmt.target))
        return _merge([value, target_effects(stmt.target, facts), Effects(kills=kills)])
    if isinstance(stmt, ast.AugAssign):
        return _augmented_effects(stmt, facts)
    if isinstance(stmt, ast.Expr):
        return _expression_statement_effects(stmt, facts)
    if isinstance(stmt, ast.Break | ast.Continue):
        return Effects()  # a loop that keeps anything and has one is kept whole
    if isinstance(stmt, ast.Raise | ast.Assert):
        children = [c for c in ast.iter_child_nodes(stmt) if isinstance(c, ast.expr)]
        return _merge([expression_effects(list(children), facts), Effects(must_keep=True)])
    if isinstance(stmt, ast.Import | ast.ImportFrom):
        names = frozenset((a.asname or a.name).split(".")[0] for a in stmt.names)
        return Effects(writes=names, kills=names)
    if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
        header = expression_effects(
            [*stmt.decorator_list, *stmt.args.defaults, *stmt.args.kw_defaults], facts
        )
        free = {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name)}
        uses = frozenset(free - set(parameter_names(stmt.args))) | header.uses
        name = frozenset({stmt.name})
        return Effects(uses=uses, writes=name | header.writes, kills=name, barrier=header.barrier)
    if isinstance(stmt, ast.ClassDef):
        loads = frozenset(n.id for n in ast.walk(stmt) if isinstance(n, ast.Name))
        return Effects(uses=loads, writes=frozenset({stmt.name}), barrier=True)
    if isinstance(stmt, ast.Pass):
        return Effects()
    return Effects(uses=frozenset(), must_keep=True, barrier=True)


def _augmented_effects(stmt: ast.AugAssign, facts: NameFacts) -> Effects:
    value = expression_effects([stmt.value], facts)
    if isinstance(stmt.target, ast.Name):
        name = stmt.target.id
        in_place = not facts.contained(name)  # `x += y` may extend x's object in place
        own = Effects(uses=frozenset({name}), writes=facts.group(name) | {name}, barrier=in_place)
        return _merge([value, own])
    target = target_effects(stmt.target, facts)
    reads = expression_effects([_as_load(stmt.target)], facts)
    return _merge([value, target, reads])


def _as_load(target: ast.expr) -> ast.expr:
    copy = ast.Attribute if isinstance(target, ast.Attribute) else ast.Subscript
    fields = {f: getattr(target, f) for f in target._fields if f != "ctx"}
    return copy(**fields, ctx=ast.Load())


def _expression_statement_effects(stmt: ast.Expr, facts: NameFacts) -> Effects:
    scan = scan_expression(stmt.value, facts)
    value = stmt.value
    container_call = isinstance(value, ast.Call) and (
        container_method_root(value.func, facts) is not None
    )
    must_keep = scan.calls > 0 and not (container_call and not scan.barrier)
    return Effects(
        uses=frozenset(scan.loads),
        writes=frozenset(scan.writes),
        barrier=scan.barrier,
        must_keep=must_keep,
    )
