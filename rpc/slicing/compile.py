"""Compiling a sliced render() into a function that runs in render()'s own namespace.

The sliced ``def`` is compiled inside a factory function whose parameters are
render()'s free variables, so the inner code refers to them as closure cells;
the function is then built around render()'s *own* cells and its live
``__globals__`` dict. Line numbers are those of the user's file.
"""

from __future__ import annotations
import __future__

import ast
import inspect
import types
from collections.abc import Callable
from typing import Any

from rpc.slicing.source import FunctionNode, SliceRefusal

FINISH_NAME = "_belay_reload_fields_"
_FACTORY_NAME = "_belay_slice_factory_"
_FUTURE_FLAGS = 0
for _feature in __future__.all_feature_names:
    _FUTURE_FLAGS |= getattr(__future__, _feature).compiler_flag


def build_function(
    render: types.FunctionType,
    node: FunctionNode,
    body: list[ast.stmt],
    *,
    kept_params: frozenset[str],
    filename: str,
    finisher: Callable[..., Any] | None = None,
) -> types.FunctionType:
    """A function with ``node``'s name and ``body`` taking only ``kept_params``."""
    args = _filtered_arguments(node.args, kept_params)
    inner = _clone_def(node, args, body)
    freevars = [*render.__code__.co_freevars, FINISH_NAME]
    code = _compile_inner(inner, freevars, filename, render.__code__.co_flags & _FUTURE_FLAGS)
    cells = {
        name: cell
        for name, cell in zip(render.__code__.co_freevars, render.__closure__ or (), strict=True)
    }
    cells[FINISH_NAME] = types.CellType(finisher)
    closure = tuple(cells[name] for name in code.co_freevars) or None
    code = code.replace(co_qualname=render.__qualname__)
    signature = _filtered_signature(render, kept_params, args)
    defaults = tuple(
        p.default for p in signature.parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is not p.empty
    )  # fmt: skip
    function = types.FunctionType(
        code, render.__globals__, render.__name__, defaults or None, closure
    )
    function.__kwdefaults__ = {
        p.name: p.default for p in signature.parameters.values()
        if p.kind is p.KEYWORD_ONLY and p.default is not p.empty
    } or None  # fmt: skip
    function.__qualname__ = render.__qualname__
    function.__module__ = render.__module__
    function.__doc__ = render.__doc__
    annotations = {k: v for k, v in render.__annotations__.items() if k in signature.parameters}
    function.__annotations__ = {**annotations, "return": dict[str, Any]}
    function.__signature__ = signature  # type: ignore[attr-defined]
    return function


def _filtered_arguments(args: ast.arguments, kept: frozenset[str]) -> ast.arguments:
    positional = [*args.posonlyargs, *args.args]
    first = positional[0].arg if positional else None

    def keep(a: ast.arg) -> bool:
        return a.arg in kept or a.arg == first

    def bare(a: ast.arg) -> ast.arg:
        return ast.copy_location(ast.arg(arg=a.arg), a)

    kwonly = [bare(a) for a in args.kwonlyargs if keep(a)]
    return ast.arguments(
        posonlyargs=[bare(a) for a in args.posonlyargs if keep(a)],
        args=[bare(a) for a in args.args if keep(a)],
        vararg=bare(args.vararg) if args.vararg and keep(args.vararg) else None,
        kwonlyargs=kwonly,
        kw_defaults=[None] * len(kwonly),
        kwarg=bare(args.kwarg) if args.kwarg and keep(args.kwarg) else None,
        defaults=[],
    )


def _clone_def(node: FunctionNode, args: ast.arguments, body: list[ast.stmt]) -> FunctionNode:
    kind = type(node)
    clone = kind(name=node.name, args=args, body=body, decorator_list=[], returns=None)
    return ast.copy_location(clone, node)


def _compile_inner(
    inner: FunctionNode, freevars: list[str], filename: str, flags: int
) -> types.CodeType:
    factory_args = ast.arguments(
        posonlyargs=[], args=[ast.arg(arg=n) for n in freevars], kwonlyargs=[],
        kw_defaults=[], defaults=[],
    )  # fmt: skip
    result = ast.Name(id=inner.name, ctx=ast.Load())
    returned = ast.Return(value=result)
    factory = ast.FunctionDef(
        name=_FACTORY_NAME, args=factory_args, body=[inner, returned], decorator_list=[]
    )
    helpers: list[ast.AST] = [factory, returned, result, *factory_args.args]
    for helper in helpers:
        ast.copy_location(helper, inner)
    module = ast.fix_missing_locations(ast.Module(body=[factory], type_ignores=[]))
    try:
        module_code = compile(module, filename, "exec", flags=flags, dont_inherit=True)
    except (SyntaxError, ValueError) as error:
        raise SliceRefusal(f"the sliced render() does not compile: {error}") from None
    factory_code = _nested_code(module_code, _FACTORY_NAME)
    return _nested_code(factory_code, inner.name)


def _nested_code(code: types.CodeType, name: str) -> types.CodeType:
    for const in code.co_consts:
        if isinstance(const, types.CodeType) and const.co_name == name:
            return const
    raise SliceRefusal(f"compiled code for {name} not found")


def _filtered_signature(
    render: types.FunctionType, kept: frozenset[str], args: ast.arguments
) -> inspect.Signature:
    names = {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)}
    names |= {a.arg for a in (args.vararg, args.kwarg) if a is not None}
    original = inspect.signature(render)
    parameters = [p for p in original.parameters.values() if p.name in names]
    return original.replace(parameters=parameters, return_annotation=dict[str, Any])
