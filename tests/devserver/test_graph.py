"""ImportGraph: dependents and reload order from module sources (no disk)."""

from __future__ import annotations

from devserver.graph import ImportGraph, ModuleSource, imported_names


def graph(sources: dict[str, str], packages: frozenset[str] = frozenset()) -> ImportGraph:
    return ImportGraph.from_sources(
        [
            ModuleSource(name, text.encode(), is_package=name in packages)
            for name, text in sources.items()
        ]
    )


SHOP = {
    "shop": "",
    "shop.base": "VALUE = 1\n",
    "shop.child": "from shop.base import VALUE\n",
    "shop.app": "from . import child\nimport json\n",
    "shop.other": "import os\n",
}


def test_graph_reload_order_is_dependencies_first() -> None:
    order = graph(SHOP, frozenset({"shop"})).reload_order(["shop.base"])
    assert order == ["shop.base", "shop.child", "shop.app"]


def test_graph_dependents_are_transitive_and_nothing_more() -> None:
    shop = graph(SHOP, frozenset({"shop"}))
    assert shop.dependents(["shop.child"]) == {"shop.child", "shop.app"}
    assert shop.dependents(["shop.other"]) == {"shop.other"}
    assert shop.reload_order(["shop.app"]) == ["shop.app"]
    assert shop.reload_order(["not.loaded"]) == []


def test_graph_order_with_several_changes_and_a_diamond() -> None:
    sources = {
        "p.base": "",
        "p.left": "from p import base\n",
        "p.right": "import p.base\n",
        "p.top": "from p.left import x\nfrom p.right import y\n",
    }
    order = graph(sources).reload_order(["p.right", "p.base"])
    assert order.index("p.base") < order.index("p.left") < order.index("p.top")
    assert order.index("p.base") < order.index("p.right") < order.index("p.top")
    assert sorted(order) == ["p.base", "p.left", "p.right", "p.top"]


def test_graph_cycle_is_ordered_deterministically() -> None:
    sources = {"c.a": "from c import b\n", "c.b": "from c import a\n", "c.top": "import c.a\n"}
    first = graph(sources).reload_order(["c.b"])
    assert first == graph(sources).reload_order(["c.b"])
    assert set(first) == {"c.a", "c.b", "c.top"}
    assert first[-1] == "c.top"


def test_imported_names_resolves_relative_imports() -> None:
    module = ModuleSource(
        "shop.api.views",
        b"from . import forms\nfrom ..models import User\nfrom .. import db as d\n"
        b"def f():\n    import shop.lazy\n",
        is_package=False,
    )
    names = imported_names(module)
    assert {"shop.api", "shop.api.forms", "shop.models", "shop.models.User", "shop.db"} <= names
    assert "shop.lazy" in names


def test_imported_names_of_a_package_init() -> None:
    module = ModuleSource("shop", b"from .app import app\n", is_package=True)
    assert "shop.app" in imported_names(module)
