"""Backward slicing of render()'s statements over names that stay live.

``Slicer.block(stmts, live)`` walks a block from its end; ``live`` holds the
names whose values (or objects) later kept code reads. A statement is kept when
it writes a live name or a closure variable, is a barrier while anything is
live, or must always run (see ``effects``). Blocks:

- ``if``/``match``: kept when a branch keeps something (or the header writes a
  live name); every case is kept so the same branch is chosen.
- ``for``/``while``: iterated to a fixed point; a kept loop whose body has
  ``break``/``continue`` is kept whole.
- ``with`` and ``try`` with handlers: kept whole once anything in them is kept,
  because a context manager or handler may catch an exception raised by any
  statement of the body.
"""

from __future__ import annotations

import ast
import copy
from typing import TypeVar

from rpc.slicing.effects import (
    Effects,
    expression_effects,
    statement_effects,
    target_effects,
    touched_locals,
)
from rpc.slicing.facts import NameFacts, target_names

Live = frozenset[str]
_Node = TypeVar("_Node", bound=ast.AST)
Result = tuple[ast.stmt | None, Live]


class Slicer:
    """Slices blocks of one render() against its ``NameFacts``."""

    def __init__(self, facts: NameFacts) -> None:
        self.facts = facts
        self._no_kill = 0

    def block(
        self, stmts: list[ast.stmt], live: Live, *, force: bool = False
    ) -> tuple[list[ast.stmt], Live]:
        kept: list[ast.stmt] = []
        for stmt in reversed(stmts):
            new, live = self.statement(stmt, live, force)
            if new is not None:
                kept.append(new)
        kept.reverse()
        return kept, live

    def statement(self, stmt: ast.stmt, live: Live, force: bool) -> Result:
        handler = getattr(self, f"_{type(stmt).__name__.lower()}", None)
        if handler is not None:
            result: Result = handler(stmt, live, force)
            return result
        effects = statement_effects(stmt, self.facts)
        if not (force or self._needed(effects, live)):
            return None, live
        kills = frozenset() if self._no_kill else effects.kills
        return stmt, (live - kills) | effects.uses

    def _needed(self, effects: Effects, live: Live) -> bool:
        alive = live | self.facts.closure_vars
        return (
            effects.must_keep or bool(effects.writes & alive) or (effects.barrier and bool(alive))
        )

    def _if(self, stmt: ast.If, live: Live, force: bool) -> Result:
        body, live_body = self.block(stmt.body, live, force=force)
        orelse, live_else = self.block(stmt.orelse, live, force=force)
        header = expression_effects([stmt.test], self.facts)
        if not (force or body or orelse or self._needed(header, live)):
            return None, live
        new = _replace(stmt, body=body or [ast.Pass()], orelse=orelse)
        return new, live_body | live_else | header.uses

    def _loop(self, stmt: ast.For | ast.AsyncFor | ast.While, live: Live, force: bool) -> Result:
        if isinstance(stmt, ast.While):
            header, targets = expression_effects([stmt.test], self.facts), frozenset[str]()
        else:
            iterable = expression_effects([stmt.iter], self.facts)
            consumed = Effects(writes=touched_locals(stmt.iter, self.facts))  # an iterator
            header = _combine(iterable, consumed, target_effects(stmt.target, self.facts))
            targets = frozenset(target_names(stmt.target))
        # First: does the loop matter at all, ignoring what its own header reads?
        body, orelse, _ = self._loop_fixpoint(stmt, live, frozenset(), targets, force)
        if not (force or body or orelse or self._needed(header, live)):
            return None, live
        whole = force or _has_jump(stmt.body)
        body, orelse, head = self._loop_fixpoint(stmt, live, header.uses, targets, whole)
        new = _replace(stmt, body=body or [ast.Pass()], orelse=orelse)
        return new, head | header.uses

    _for = _asyncfor = _while = _loop

    def _loop_fixpoint(
        self,
        stmt: ast.For | ast.AsyncFor | ast.While,
        live: Live,
        header_uses: Live,
        targets: Live,
        force: bool,
    ) -> tuple[list[ast.stmt], list[ast.stmt], Live]:
        orelse, live_else = self.block(stmt.orelse, live, force=force)
        head = live_else | live | header_uses  # `break` skips the else clause
        while True:
            body, live_body = self.block(stmt.body, head, force=force)
            new_head = head | (live_body - targets)
            if new_head == head:
                return body, orelse, head
            head = new_head

    def _with(self, stmt: ast.With | ast.AsyncWith, live: Live, force: bool) -> Result:
        header = _combine(
            expression_effects([i.context_expr for i in stmt.items], self.facts),
            *(target_effects(i.optional_vars, self.facts) for i in stmt.items if i.optional_vars),
        )
        body, _ = self.block(stmt.body, live, force=force)
        if not (force or body or self._needed(header, live)):
            return None, live
        self._no_kill += 1  # the body may stop at any statement, with `live` still needed
        try:
            body, live_body = self.block(stmt.body, live, force=True)
        finally:
            self._no_kill -= 1
        bound = frozenset(
            n for i in stmt.items if i.optional_vars for n in target_names(i.optional_vars)
        )
        return _replace(stmt, body=body or [ast.Pass()]), (live_body - bound) | header.uses

    _asyncwith = _with

    def _try(self, stmt: ast.Try | ast.TryStar, live: Live, force: bool) -> Result:
        final, live_final = self.block(stmt.finalbody, live, force=force)
        orelse, live_else = self.block(stmt.orelse, live_final, force=force)
        handlers: list[ast.ExceptHandler] = []
        live_handlers: Live = frozenset()
        kept_any = force or bool(orelse or final)
        for handler in stmt.handlers:
            h_body, h_live = self.block(handler.body, live_final, force=force)
            kind = expression_effects([handler.type], self.facts)
            handlers.append(_replace(handler, body=h_body or [ast.Pass()]))
            live_handlers |= (h_live - {handler.name or ""}) | kind.uses
            kept_any = kept_any or bool(h_body) or kind.barrier
        body, _ = self.block(stmt.body, live_else | live_final, force=force)
        if not (kept_any or body):
            return None, live
        whole = bool(stmt.handlers) or force
        self._no_kill += 1
        try:
            out = live_else | live_final | live_handlers
            body, live_body = self.block(stmt.body, out, force=whole)
        finally:
            self._no_kill -= 1
        new = _replace(
            stmt, body=body or [ast.Pass()], handlers=handlers, orelse=orelse, finalbody=final
        )
        return new, live_body | live_handlers

    _trystar = _try

    def _match(self, stmt: ast.Match, live: Live, force: bool) -> Result:
        subject = expression_effects([stmt.subject], self.facts)
        cases: list[ast.match_case] = []
        live_in = live | subject.uses
        kept = force or self._needed(subject, live)
        for case in stmt.cases:
            body, live_case = self.block(case.body, live, force=force)
            pattern = expression_effects([case.pattern, case.guard], self.facts)
            bound = frozenset(_pattern_names(case.pattern))
            kept = (
                kept or bool(body) or self._needed(_combine(pattern, Effects(writes=bound)), live)
            )
            cases.append(_replace(case, body=body or [ast.Pass()]))
            live_in |= (live_case - bound) | pattern.uses
        if not kept:
            return None, live
        return _replace(stmt, cases=cases), live_in


def _replace(node: _Node, **fields: object) -> _Node:
    new = copy.copy(node)
    for name, value in fields.items():
        setattr(new, name, value)
    return new


def _combine(*parts: Effects) -> Effects:
    return Effects(
        uses=frozenset().union(*(p.uses for p in parts)),
        writes=frozenset().union(*(p.writes for p in parts)),
        barrier=any(p.barrier for p in parts),
        must_keep=any(p.must_keep for p in parts),
    )


def _has_jump(body: list[ast.stmt]) -> bool:
    """``break``/``continue`` of this loop (not of a nested loop or function)."""
    stack: list[ast.AST] = list(body)
    while stack:
        item = stack.pop()
        if isinstance(item, ast.Break | ast.Continue):
            return True
        if isinstance(item, ast.For | ast.AsyncFor | ast.While):
            stack.extend(item.orelse)
            continue
        if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            continue
        stack.extend(ast.iter_child_nodes(item))
    return False


def _pattern_names(pattern: ast.pattern) -> list[str]:
    names: list[str] = []
    for node in ast.walk(pattern):
        if isinstance(node, ast.MatchAs | ast.MatchStar) and node.name:
            names.append(node.name)
        if isinstance(node, ast.MatchMapping) and node.rest:
            names.append(node.rest)
    return names
