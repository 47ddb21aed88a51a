"""Reading ``render()`` back as an AST whose positions match the user's file."""

from __future__ import annotations

import ast
import inspect
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef

_INTROSPECTION_CALLS = frozenset({"locals", "vars", "eval", "exec", "globals", "breakpoint"})
_FRAME_ATTRIBUTES = frozenset({"_getframe", "currentframe", "f_locals", "f_back", "f_globals"})


class SliceRefusal(Exception):
    """Slicing is not provably safe here; ``reason`` says why, in one line."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class RenderSource:
    """The parsed ``def`` of ``render()`` with the file it came from."""

    node: FunctionNode
    filename: str


def load_render_source(render: Callable[..., Any]) -> RenderSource:
    """Parse ``render``'s source; line and column numbers match its file."""
    if not isinstance(render, types.FunctionType):
        raise SliceRefusal("render() is not a plain function")
    if hasattr(render, "__wrapped__"):
        raise SliceRefusal("render() is wrapped by a decorator")
    try:
        lines, first_line = inspect.getsourcelines(render)
        filename = inspect.getsourcefile(render) or render.__code__.co_filename
    except (OSError, TypeError):
        raise SliceRefusal(
            "the source of render() is not available (defined in a REPL or by exec?)"
        ) from None
    # Parse the indented method inside an `if` block so columns stay exact.
    text = "if 1:\n" + "".join(lines) if lines and lines[0][:1] in " \t" else "".join(lines)
    try:
        tree = ast.parse(text)
    except SyntaxError:
        raise SliceRefusal("the source of render() could not be parsed") from None
    node = tree.body[0]
    if isinstance(node, ast.If):
        node = node.body[0]
    if not isinstance(node, FunctionNode) or node.name != render.__code__.co_name:
        raise SliceRefusal("the source of render() is not a plain `def` statement")
    if node.decorator_list:
        raise SliceRefusal("render() has decorators, which may change what it does")
    offset = first_line - (2 if text.startswith("if 1:\n") else 1)
    ast.increment_lineno(tree, offset)
    check_supported(node)
    return RenderSource(node=node, filename=filename)


def check_supported(node: FunctionNode) -> None:
    """Refuse constructs whose effects data-flow analysis cannot see."""
    for child in ast.walk(node):
        reason = _unsupported(child)
        if reason is not None:
            raise SliceRefusal(reason)
    returns = list(own_scope_nodes(node.body, ast.Return))
    yields = list(own_scope_nodes(node.body, (ast.Yield, ast.YieldFrom)))
    if yields:
        raise SliceRefusal("render() is a generator (it uses yield)")
    if not returns:
        raise SliceRefusal("render() has no return statement")
    if len(returns) > 1:
        raise SliceRefusal("render() has several return statements")
    if node.body[-1] is not returns[0]:
        raise SliceRefusal("render() returns early: its return is not its last statement")


def _unsupported(child: ast.AST) -> str | None:
    if isinstance(child, ast.Global | ast.Nonlocal):
        return "render() uses global/nonlocal"
    if isinstance(child, ast.Delete):
        return "render() uses del"
    called = child.func if isinstance(child, ast.Call) else None
    if isinstance(called, ast.Name) and called.id in _INTROSPECTION_CALLS:
        return f"render() calls {called.id}(), which can read or change any local"
    if isinstance(child, ast.Attribute) and child.attr in _FRAME_ATTRIBUTES:
        return f"render() inspects frames (.{child.attr})"
    name = _identifier(child)
    if name is not None and name.startswith("__") and not name.endswith("__"):
        return f"render() uses the private name {name}, which Python mangles"
    return None


def _identifier(child: ast.AST) -> str | None:
    if isinstance(child, ast.Name):
        return child.id
    if isinstance(child, ast.Attribute):
        return child.attr
    if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return child.name
    if isinstance(child, ast.arg):
        return child.arg
    return None


_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


def own_scope_nodes(
    body: list[ast.stmt], kind: type[ast.AST] | tuple[type[ast.AST], ...]
) -> list[ast.AST]:
    """Nodes of ``kind`` in ``body`` that are not inside a nested function or class."""
    found: list[ast.AST] = []
    stack: list[ast.AST] = list(reversed(body))
    while stack:
        item = stack.pop()
        if isinstance(item, kind):
            found.append(item)
        if isinstance(item, _SCOPES):
            continue
        stack.extend(reversed(list(ast.iter_child_nodes(item))))
    return found
