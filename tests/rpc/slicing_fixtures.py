"""render() shapes for the slicing tests; real source so inspect.getsource works.

Each ``render_*`` takes a ``Ctx`` as ``self``. ``expensive`` counts its calls so
tests can prove that dropped work does not run.
"""

# ruff: noqa: SIM108, F841

import asyncio
import bisect
import contextlib
import functools
import heapq
import math
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    computed_field,
    field_validator,
    model_serializer,
)

GREETING = "Hello"
EXPENSIVE_CALLS = [0]


def cheap(n: int) -> int:
    return n * 2


def expensive(n: int) -> int:
    EXPENSIVE_CALLS[0] += 1
    return n * 3


async def fetch(n: int) -> int:
    await asyncio.sleep(0)
    return n + 1


async def fetch_slow(n: int) -> int:
    EXPENSIVE_CALLS[0] += 1
    await asyncio.sleep(0)
    return n + 2


class Dep:
    """A Depends-like default object; the slice must keep it untouched."""

    def __init__(self, fn: Callable[[], Any]) -> None:
        self.fn = fn


def get_db() -> str:
    return "db"


def get_cache() -> str:
    return "cache"


class Page(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    value_a: str
    value_b: int = 0
    items: list[int] = []
    total: float = 0.0
    label: str = Field("", alias="theLabel")


class Ctx:
    """Stands in for the controller instance (``self``)."""

    def __init__(self) -> None:
        self.name = "ctx"
        self.loaded = 0
        self.counter = 0
        self.rows = [1, 2, 3]

    def load(self) -> None:
        self.loaded += 1

    def bump(self) -> int:
        self.counter += 1
        return self.counter


# ---- shapes that slice -------------------------------------------------------


def render_seed(self, query_id: int) -> Page:
    a = cheap(10)
    b = expensive(1000)
    return Page(value_a=f"Hello {a}", value_b=b)


def render_loop(self, n: int = 4) -> Page:
    items = []
    total = 0
    for i in range(n):
        items.append(i * i)
        total += i
    heavy = 0
    for j in range(n):
        heavy += expensive(j)
    return Page(value_a=str(total), items=items, value_b=heavy)


def render_branches(self, flag: bool = True, level: int = 2) -> Page:
    if flag:
        a = "yes"
    elif level > 1:
        a = "level"
    else:
        a = "no"
    if level > 5:
        b = expensive(level)
    else:
        b = expensive(-level)
    return Page(value_a=a, value_b=b)


def render_while(self, n: int = 5) -> Page:
    count = 0
    acc = []
    while count < n:
        acc.append(count)
        count += 1
    b = 0
    while b < 3:
        b += expensive(1)
    return Page(value_a=str(acc), value_b=b)


def render_with(self, n: int = 3) -> Page:
    with contextlib.nullcontext(n) as value:
        a = value * 2
    with contextlib.nullcontext():
        b = expensive(n)
    return Page(value_a=str(a), value_b=b)


def render_try(self, text: str = "12") -> Page:
    try:
        a = int(text)
    except ValueError:
        a = -1
    finally:
        marker = "done"
    b = expensive(3)
    return Page(value_a=f"{a}-{marker}", value_b=b)


def render_try_finally_only(self, text: str = "x") -> Page:
    try:
        b = expensive(1)
    finally:
        a = text.upper()
    return Page(value_a=a, value_b=b)


def render_nested_function(self, base: int = 3) -> Page:
    offset = 10

    def shift(v: int) -> int:
        return v + offset

    def slow() -> int:
        return expensive(base)

    return Page(value_a=str(shift(base)), value_b=slow())


def render_comprehensions(self, n: int = 5) -> Page:
    squares = [i * i for i in range(n)]
    evens = {k: v for k, v in enumerate(squares) if v % 2 == 0}
    gen_total = sum(x for x in squares if x > 1)
    costly = [expensive(i) for i in range(n)]
    return Page(value_a=str(evens), total=gen_total, value_b=sum(costly))


async def render_async(self, n: int = 1) -> Page:
    a = await fetch(n)
    b = await fetch_slow(n)
    return Page(value_a=str(a), value_b=b)


def render_unpacking(self, pair: str = "x,y") -> Page:
    left, right = pair.split(",")
    first, *rest = [1, 2, 3, 4]
    b, c = expensive(1), expensive(2)
    return Page(value_a=left + right + str(rest), value_b=b + c + first)


def render_walrus(self, words: str = "a b c") -> Page:
    if (n := len(words.split())) > 2:
        a = f"many {n}"
    else:
        a = "few"
    b = expensive(n)
    return Page(value_a=a, value_b=b)


def render_match(self, command: str = "go north") -> Page:
    match command.split():
        case ["go", direction]:
            a = f"going {direction}"
        case ["stop"]:
            a = "stopped"
        case _:
            a = "unknown"
    b = expensive(2)
    return Page(value_a=a, value_b=b)


def render_subscript_store(self, key: str = "k") -> Page:
    data = {}
    data[key] = 1
    data["other"] = 2
    heavy = {}
    heavy["x"] = expensive(4)
    return Page(value_a=str(sorted(data.items())), value_b=heavy["x"])


def render_method_mutation(self, n: int = 3) -> Page:
    kept = []
    dropped = []
    for i in range(n):
        kept.append(i)
    for j in range(n):
        dropped.append(expensive(j))
    kept.extend([9])
    dropped.sort()
    return Page(value_a=str(kept), value_b=len(dropped))


def render_globals(self) -> Page:
    b = expensive(5)
    return Page(value_a=f"{GREETING} {math.floor(2.5)}", value_b=b)


def render_alias(self, text: str = "t") -> Page:
    b = expensive(1)
    return Page(value_a="a", theLabel=text.upper(), value_b=b)


def render_defaults(self, n: int = 5, m: int = 7, *, k: int = 9, unused: int = 1) -> Page:
    return Page(value_a=str(n + k), value_b=expensive(m))


def render_depends(self, db: str = Dep(get_db), cache: str = Dep(get_cache)) -> Page:
    b = expensive(len(cache))
    return Page(value_a=str(db), value_b=b)


def render_self_reads(self, suffix: str = "!") -> Page:
    a = self.name + suffix
    b = expensive(len(self.rows))
    return Page(value_a=a, value_b=b)


def render_self_barrier(self) -> Page:
    self.load()
    b = self.bump()
    a = f"{self.loaded}-{self.counter}"
    return Page(value_a=a, value_b=b)


def render_self_attribute_store(self) -> Page:
    self.counter = 41
    self.counter += 1
    return Page(value_a=str(self.counter), value_b=expensive(0))


def render_return_effects(self) -> Page:
    base = self.counter
    return Page(value_b=self.bump(), value_a=f"{base}/{self.counter}")


def render_lambda(self, n: int = 4) -> Page:
    scale = 3
    key = lambda v: -v * scale  # noqa: E731
    ordered = sorted(range(n), key=key)
    costly = sorted(range(n), key=lambda v: expensive(v))
    return Page(value_a=str(ordered), value_b=len(costly))


def render_for_else(self, n: int = 3) -> Page:
    found = "none"
    for i in range(n):
        if i == 10:
            found = "ten"
            break
    else:
        found = "finished"
    heavy = 0
    for j in range(n):
        heavy += expensive(j)
        if heavy > 100:
            break
    return Page(value_a=found, value_b=heavy)


def render_nested_loops(self, n: int = 3) -> Page:
    pairs = []
    for i in range(n):
        for j in range(i):
            if j == 1:
                continue
            pairs.append((i, j))
    return Page(value_a=str(pairs), value_b=expensive(1))


def render_imports(self, n: int = 16) -> Page:
    import json

    b = expensive(n)
    return Page(value_a=json.dumps({"root": math.isqrt(n)}), value_b=b)


def render_kill_then_reuse(self, n: int = 2) -> Page:
    a = expensive(n)
    a = cheap(n)
    b = a + 1
    return Page(value_a=str(a), value_b=b)


def render_assert_raise(self, n: int = 2) -> Page:
    if n < 0:
        raise ValueError("negative")
    b = expensive(n)
    return Page(value_a=str(n), value_b=b)


def render_dict_loop_aliases(self, n: int = 3) -> Page:
    grid = [[0] * n for _ in range(n)]
    row = grid[0]
    row.append(7)
    return Page(value_a=str(grid), value_b=expensive(1))


def render_shared_loop(self, n: int = 3) -> Page:
    kept = []
    dropped = []
    for i in range(n):
        kept.append(i)
        dropped.append(expensive(i))  # may change i, which `kept` holds: kept
    return Page(value_a=str(kept), value_b=len(dropped))


def render_traceback(self, n: int = 0) -> Page:
    ratio = 10 // n
    return Page(value_a=str(ratio))


def fill(target: list[int]) -> int:
    target.append(5)
    return len(target)


def render_local_alias(self) -> Page:
    lst = []
    alias = lst
    alias.append(1)
    b = expensive(1)
    return Page(value_a=str(lst), value_b=b)


def render_escape_to_self(self) -> Page:
    lst = []
    self.rows = lst
    lst.append(5)
    b = expensive(1)
    return Page(value_a=str(self.rows), value_b=b)


def render_nested_container(self) -> Page:
    inner = []
    outer = [inner]
    inner.append(1)
    b = expensive(1)
    return Page(value_a=str(outer), value_b=b)


def render_handler_sees_dropped_error(self, text: str = "x") -> Page:
    try:
        b = int(text)
        a = "parsed"
    except ValueError:
        a = "error"
    return Page(value_a=a)


def render_suppressed_error(self, d: int = 0) -> Page:
    a = "before"
    with contextlib.suppress(ZeroDivisionError):
        b = 1 // d
        a = "after"
    return Page(value_a=a)


def render_closure_reads_later(self) -> Page:
    def get() -> str:
        return x

    x = "late"
    b = expensive(2)
    return Page(value_a=get(), value_b=b)


def render_loop_carried(self, n: int = 4) -> Page:
    prev = -1
    a = "none"
    for i in range(n):
        a = str(prev)
        prev = i
    return Page(value_a=a, value_b=expensive(n))


def render_return_walrus(self) -> Page:
    return Page(value_b=(k := cheap(2)), value_a=str(k))


def render_argument_mutation(self) -> Page:
    lst = []
    count = fill(lst)
    b = expensive(count)
    return Page(value_a=str(lst), value_b=b)


def render_iterator_consumed(self, n: int = 5) -> Page:
    it = iter(range(n))
    skipped = next(it)
    gen = (i * 2 for i in range(n))
    for head in gen:  # noqa: B007
        break
    rest = list(it)
    return Page(value_a=f"{rest} {list(gen)}", value_b=expensive(skipped + head))


def make_closure_render() -> tuple[Callable[..., Page], Callable[[str], None]]:
    prefix = "P"
    factor = 2

    def render(self, n: int = 3) -> Page:
        a = prefix + str(n * factor)
        b = expensive(n)
        return Page(value_a=a, value_b=b)

    def set_prefix(value: str) -> None:
        nonlocal prefix
        prefix = value

    return render, set_prefix


class Base:
    def describe(self) -> str:
        return "base"


class Controller(Base, Ctx):
    def render(self, n: int = 1) -> Page:
        a = super().describe() + str(n)
        b = expensive(n)
        return Page(value_a=a, value_b=b)


# ---- shapes that must fall back ----------------------------------------------


def fb_several_returns(self, flag: bool = True) -> Page:
    if flag:
        return Page(value_a="x")
    return Page(value_a="y")


def fb_return_in_loop(self) -> Page:
    for _ in range(3):
        return Page(value_a="x")
    return Page(value_a="y")


def fb_returns_variable(self) -> Page:
    page = Page(value_a="x")
    return page


def fb_positional(self) -> Page:
    return Page(**{"value_a": "x"})


def fb_global(self) -> Page:
    global GREETING
    return Page(value_a=GREETING)


def fb_locals(self) -> Page:
    a = "x"
    return Page(value_a=locals()["a"])


def fb_eval(self) -> Page:
    return Page(value_a=eval("'x'"))


def fb_generator(self) -> Page:
    yield 1
    return Page(value_a="x")


def fb_del(self) -> Page:
    a = "x"
    b = a
    del a
    return Page(value_a=b)


def fb_private(self) -> Page:
    return Page(value_a=self.__secret)


def _identity(fn: Callable[..., Any]) -> Callable[..., Any]:
    return fn


@_identity
def fb_decorated(self) -> Page:
    return Page(value_a="x")


def _wrapping(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)

    return wrapper


@_wrapping
def fb_wrapped(self) -> Page:
    return Page(value_a="x")


class Other(BaseModel):
    value_a: str


def fb_other_model(self) -> Page:
    return Other(value_a="x")  # type: ignore[return-value]


def fb_local_model(self) -> Page:
    Model = Page
    return Model(value_a="x")


def make_nonlocal_render() -> Callable[..., Page]:
    count = 0

    def render(self) -> Page:
        nonlocal count
        count += 1
        return Page(value_a=str(count))

    return render


class Validated(BaseModel):
    value_a: str
    value_b: int = 0

    @field_validator("value_a")
    @classmethod
    def _strip(cls, v: str) -> str:
        return v.strip()


class Computed(BaseModel):
    value_a: str

    @computed_field  # type: ignore[prop-decorator]
    @property
    def upper(self) -> str:
        return self.value_a.upper()


class Serialized(BaseModel):
    value_a: str

    @model_serializer
    def _dump(self) -> dict[str, Any]:
        return {"value_a": self.value_a * 2}


def _needs_info(v: str, info: ValidationInfo) -> str:
    return v + str(info.data.get("value_b"))


class InfoField(BaseModel):
    value_b: int = 0
    value_a: Annotated[str, AfterValidator(_needs_info)]


class Choices(BaseModel):
    value_a: str = Field(validation_alias=AliasChoices("value_a", "a"))


class Extra(BaseModel):
    model_config = ConfigDict(extra="allow")
    value_a: str


def fb_validated(self) -> Validated:
    return Validated(value_a=" x ", value_b=expensive(1))


def fb_computed(self) -> Computed:
    return Computed(value_a="x")


def fb_serialized(self) -> Serialized:
    return Serialized(value_a="x")


def fb_info(self) -> InfoField:
    return InfoField(value_a="x", value_b=2)


def fb_choices(self) -> Choices:
    return Choices(value_a="x")


def fb_extra(self) -> Extra:
    return Extra(value_a="x", surprise=1)


# Changes the slice must see although no statement stores into a local by name.


def countdown(n: int) -> Any:
    return iter(range(n))


def render_unpacking_consumes(self) -> Page:
    it = countdown(4)
    x, _y, *_ = it
    more = countdown(2)
    p, _q = more
    return Page(value_a=f"{list(it)} {list(more)}", value_b=x + p)


def render_membership_consumes(self) -> Page:
    it = countdown(5)
    found = 2 in it
    return Page(value_a=str(list(it)), value_b=int(found))


def render_star_display_consumes(self) -> Page:
    it = countdown(5)
    everything = [*it]
    return Page(value_a=str(list(it)), value_b=len(everything))


def render_comprehension_inner_iter(self) -> Page:
    it = countdown(6)
    pairs = [(a, b) for a in range(1) for b in it if b < 2]
    return Page(value_a=str(list(it)), value_b=len(pairs))


def render_closure_changes_local(self) -> Page:
    heap = [3, 1]

    def push(v: int) -> int:
        heapq.heappush(heap, v)
        return v

    pushed = push(5)
    return Page(value_a=str(sorted(heap)), value_b=pushed)


def render_default_argument_alias(self) -> Page:
    rows: list[int] = []
    insert = lambda v, into=rows: bisect.insort(into, v)  # noqa: E731
    done = insert(4)
    return Page(value_a=str(rows), value_b=0 if done is None else 1)


def render_item_passed_to_call(self) -> Page:
    groups = {"k": [5, 1]}
    top = heapq.heappop(groups["k"])
    return Page(value_a=str(groups), value_b=top)


def render_param_mutated(self, queue: Any = None) -> Page:
    top = heapq.heappop(queue)
    return Page(value_a=str(queue), value_b=top)


def render_handed_inside_display(self) -> Page:
    it = countdown(4)
    biggest = max(*[it])
    rows: list[int] = []
    pushed = heapq.heappush(*(rows, 3))
    return Page(value_a=f"{list(it)} {rows}", value_b=biggest if pushed is None else 0)


def render_default_argument_in_display(self) -> Page:
    rows: list[int] = []
    insert = lambda v, into=rows: heapq.heappush(*[into, v])  # noqa: E731
    done = insert(4)
    return Page(value_a=str(rows), value_b=0 if done is None else 1)
