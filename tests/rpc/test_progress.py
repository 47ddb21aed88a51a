"""Streaming sideeffects: declarations checked at RPCApp build, and their description."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from rpc import ControllerBase, DeclarationError, RenderBase, RPCApp, passthrough, sideeffect
from rpc.description import describe_app
from tests.e2e.progress_apps import build_import_app


class Page(RenderBase):
    title: str


class Opaque:
    """Not a model: pydantic has no schema for it."""


async def _render(self: Any) -> Page:
    return Page(title="")


def _serve(**methods: Any) -> RPCApp:
    controller = type("Declared", (ControllerBase,), {"render": _render, **methods})
    return RPCApp([controller()])


def test_progress_unserialisable_item_type_names_the_action_and_type() -> None:
    @sideeffect
    async def upload(self: Any) -> AsyncIterator[Opaque]:
        yield Opaque()

    expected = r"\.upload: pydantic cannot serialise the stream item type [\w.]*\.Opaque"
    with pytest.raises(DeclarationError, match=expected):
        _serve(upload=upload)


def test_progress_on_disconnect_on_a_plain_sideeffect_fails_at_build() -> None:
    @sideeffect(on_disconnect="cancel")
    async def save(self: Any) -> None:
        return None

    with pytest.raises(DeclarationError, match=r"\.save: on_disconnect= applies to streaming"):
        _serve(save=save)


def test_progress_on_disconnect_takes_finish_or_cancel() -> None:
    with pytest.raises(ValueError, match="on_disconnect must be 'finish' or 'cancel'"):
        sideeffect(on_disconnect="abort")  # type: ignore[call-overload]


def test_progress_sync_generator_sideeffect_needs_an_iterator_annotation() -> None:
    @sideeffect
    def upload(self: Any) -> AsyncIterator[Page]:  # type: ignore[misc]
        yield Page(title="")

    expected = r"\.upload is a generator; annotate it `-> Iterator"
    with pytest.raises(DeclarationError, match=expected):
        _serve(upload=upload)


def test_progress_sync_generator_passthrough_is_still_refused() -> None:
    def numbers(self: Any) -> Iterator[Page]:
        yield Page(title="")

    with pytest.raises(TypeError, match="sync generator; a streaming passthrough"):
        passthrough(numbers)


def test_progress_sync_generator_sideeffect_is_a_stream() -> None:
    @sideeffect
    def upload(self: Any) -> Iterator[Page]:
        yield Page(title="")

    spec = _serve(upload=upload).controller_specs[0].actions[0]
    assert spec.stream_item is Page


def test_progress_description_has_the_sideeffect_kind_and_the_stream_item() -> None:
    app, _ = build_import_app()
    controller = describe_app(app).controllers[0]
    actions = {a.name: a for a in controller.actions}
    load = actions["load"]
    assert (load.kind, load.stream, load.returns.name) == ("sideeffect", True, "Progress")
    assert load.errors == ("ImportRefused",)
    counted = actions["load_counted"]
    assert (counted.kind, counted.stream, counted.reload) == ("sideeffect", True, ("imported",))
    assert actions["load_sync"].stream
