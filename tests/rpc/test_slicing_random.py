"""Differential test: random render() programs, slice vs full render, field by field."""

from __future__ import annotations

import importlib.util
import random
import sys
from pathlib import Path
from typing import Any

import pytest

from rpc.slicing import slice_render

PROGRAMS = 120
HEADER = """
import contextlib
from pydantic import BaseModel

class Page(BaseModel):
    a: str
    b: str
    c: str

class Ctx:
    def __init__(self):
        self.attr = 0
        self.log = []
    def bump(self):
        self.attr += 1
        return self.attr

def cheap(x):
    return x * 2 + 1

def fill(lst):
    lst.append(len(lst))
    return len(lst)

def put(target, value):
    target.append(value)
    return len(target)
"""


class _Generator:
    """Builds one random render() from a small grammar of risky shapes."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.loops = 0

    def var(self) -> str:
        return self.rng.choice(["v0", "v1", "v2", "v3"])

    def lst(self) -> str:
        return self.rng.choice(["L0", "L1", "alias"])

    def expr(self) -> str:
        v, w = self.var(), self.var()
        return self.rng.choice(
            [str(self.rng.randint(0, 5)), f"{v} + {w}", f"cheap({v})", f"len({self.lst()})",
             f"fill({self.lst()})", f"self.attr + {v}", f"{v} // ({w} % 2)", "self.bump()",
             f"({v} if {w} > 2 else {self.rng.randint(0, 3)})", f"sum({self.lst()})",
             f"next(it, {v})", f"(t := cheap({v}))"]
        )  # fmt: skip

    def simple(self) -> str:
        v, lst = self.var(), self.lst()
        return self.rng.choice(
            [f"{v} = {self.expr()}", f"{v} += {self.expr()}", f"{lst}.append({self.expr()})",
             f"{lst} = [{self.var()}]", f"alias = {self.rng.choice(['L0', 'L1'])}",
             f"self.attr = {self.expr()}", "self.bump()", f"self.log.append({v})",
             f"{v}, {self.var()} = {self.expr()}, {self.expr()}", f"it = iter({lst})",
             f"{lst}[0:0] = [{v}]", f"nested = [{lst}]", f"{v} = len(nested[0])",
             f"{lst} += [{v}]", "elem = nested[0]", f"elem.append({v})", f"{v} = get()",
             f"{v} = f()", f"{v} = sum(x for x in {lst} if (t := x) > 0)",
             f"g = (y * 2 for y in {lst})", f"{v} = next(g, 0)", "log = self.log",
             f"log.append({v})", f"{v} = len(self.log)", f"d['k'].append({v})",
             f"d = {{'k': {lst}}}", f"{v} = [len(z) for z in (L0, L1)][0]",
             f"{v} = put(d['k'], {v})", f"{v} = int({v} in it)", f"{v} = len([*it])",
             f"{v} = push({v})", f"{v} = put(*[{lst}, {v}])", f"{v}, *_ = [*g, 0]"]
        )  # fmt: skip

    def block(self, depth: int, indent: str) -> list[str]:
        lines: list[str] = []
        for _ in range(self.rng.randint(1, 3)):
            kind = self.rng.random()
            if depth >= 2 or kind < 0.55:
                lines.append(indent + self.simple())
            elif kind < 0.65:
                lines.append(f"{indent}if {self.var()} > {self.rng.randint(0, 4)}:")
                lines += self.block(depth + 1, indent + "    ")
                lines.append(f"{indent}else:")
                lines += self.block(depth + 1, indent + "    ")
            elif kind < 0.75:
                lines.append(f"{indent}for i in range({self.var()} % 3):")
                lines += self.block(depth + 1, indent + "    ")
                if self.rng.random() < 0.3:
                    lines.append(f"{indent}    if i == 1:")
                    lines.append(f"{indent}        {self.rng.choice(['break', 'continue'])}")
            elif kind < 0.8:
                lines.append(f"{indent}match {self.var()} % 3:")
                lines.append(f"{indent}    case 1:")
                lines += self.block(depth + 1, indent + "        ")
                lines.append(f"{indent}    case other:")
                lines += self.block(depth + 1, indent + "        ")
            elif kind < 0.85:
                self.loops += 1
                counter = f"w{self.loops}"  # one counter per loop: nested loops never reset it
                lines.append(f"{indent}{counter} = 0")
                lines.append(f"{indent}while {self.var()} % 4 and {counter} < 3:")
                lines.append(f"{indent}    {counter} += 1")
                lines += self.block(depth + 1, indent + "    ")
            elif kind < 0.9:
                lines.append(f"{indent}try:")
                lines += self.block(depth + 1, indent + "    ")
                lines.append(f"{indent}except ZeroDivisionError:")
                lines += self.block(depth + 1, indent + "    ")
            else:
                lines.append(f"{indent}with contextlib.suppress(ZeroDivisionError):")
                lines += self.block(depth + 1, indent + "    ")
        return lines

    def program(self, index: int) -> str:
        body = ["v0 = v1 = v2 = v3 = t = 1", "L0 = []", "L1 = [1]", "alias = L0"]
        body += ["nested = [L1]", "it = iter(L0)", "elem = L1", "g = iter(L1)", "d = {'k': L0}"]
        body += ["def get():", "    return v0 + len(L1)", "f = lambda: len(L0) + v1"]
        body += ["push = lambda x, into=L1: put(into, x)"]
        body += self.block(0, "")
        body.append("return Page(a=str(v0) + str(L0), b=str(v1) + str(alias) + str(d), "
                    "c=str(v2 + t) + str(self.attr) + str(nested) + str(self.log))")  # fmt: skip
        lines = [f"def render_{index}(self):"] + ["    " + line for line in body]
        return "\n".join(lines) + "\n"


def _load(tmp_path: Path, source: str) -> Any:
    path = tmp_path / "random_renders.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("random_renders", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["random_renders"] = module
    spec.loader.exec_module(module)
    return module


def _outcome(function: Any, module: Any) -> tuple[str, Any]:
    ctx = module.Ctx()
    try:
        return "ok", (function(ctx), ctx.attr)
    except Exception as error:  # any error is an outcome to compare
        return "error", type(error).__name__


@pytest.fixture
def module(tmp_path: Path) -> Any:
    rng = random.Random(20261121)
    generator = _Generator(rng)
    source = HEADER + "\n\n".join(generator.program(i) for i in range(PROGRAMS))
    try:
        yield _load(tmp_path, source)
    finally:
        sys.modules.pop("random_renders", None)


def test_random_renders_slice_like_full_render(module: Any) -> None:
    sliced_count = 0
    for index in range(PROGRAMS):
        render = getattr(module, f"render_{index}")
        full_kind, full_value = _outcome(render, module)
        if full_kind == "error":
            continue  # errors raised only by dropped code need not be reproduced
        for field in ("a", "b", "c"):
            result = slice_render(render, (field,), model=module.Page)
            assert result.function is not None, (index, result.reason)
            kind, value = _outcome(result.function, module)
            expected = full_value[0].model_dump(mode="json", include={field})
            assert kind == "ok", (index, field, value)
            assert value[0] == expected, (index, field)
            sliced_count += 1
    assert sliced_count > PROGRAMS
