"""Streaming sideeffects: declarations checked at RPCApp build, and their description."""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from rpc import ControllerBase, DeclarationError, RenderBase, RPCApp, passthrough, sideeffect
from rpc.description import describe_app
from rpc.progress import (
    ResponseWatch,
    close_then_announce,
    iterate_in_thread,
    state_event,
    with_final_state,
)
from rpcmeta import dump_description, load_description
from streams.tracking import NamedEvent
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
    rows = actions["import_rows"]
    assert (rows.kind, rows.stream, rows.returns.name) == ("sideeffect", True, "Progress")
    assert rows.errors == ("ImportRefused",)
    counted = actions["import_counted"]
    assert (counted.kind, counted.stream, counted.reload) == ("sideeffect", True, ("imported",))
    assert actions["import_sync"].stream


class Boom(Exception):
    pass


async def _count(n: int, *, fail: bool = False) -> AsyncIterator[int]:
    for i in range(n):
        yield i
    if fail:
        raise Boom("after the items")


@dataclass
class Renders:
    """A render that counts its calls."""

    calls: int = 0
    fail: bool = False

    async def render(self) -> Any:
        self.calls += 1
        if self.fail:
            raise RuntimeError("render broke")
        return {"count": self.calls}


async def _collect(source: AsyncIterator[object]) -> tuple[list[object], BaseException | None]:
    seen: list[object] = []
    try:
        async for item in source:
            seen.append(item)
    except Exception as exc:
        return seen, exc
    return seen, None


@pytest.mark.anyio
async def test_progress_items_then_the_state_event() -> None:
    renders, watch = Renders(), ResponseWatch()
    seen, error = await _collect(with_final_state(_count(2), renders.render, watch=watch))
    assert watch.ran
    assert error is None
    assert seen[:2] == [0, 1]
    assert seen[2] == NamedEvent("state", b'{"sideeffect":{"count":1},"passthrough":null}')


@pytest.mark.anyio
async def test_progress_failure_after_an_item_yields_the_state_then_raises() -> None:
    renders = Renders()
    wrapped = with_final_state(_count(1, fail=True), renders.render, watch=ResponseWatch())
    seen, error = await _collect(wrapped)
    assert isinstance(error, Boom)
    assert seen == [0, state_event({"count": 1})]


@pytest.mark.anyio
async def test_progress_failure_before_anything_was_sent_renders_nothing() -> None:
    renders = Renders()
    seen, error = await _collect(
        with_final_state(_count(0, fail=True), renders.render, watch=ResponseWatch())
    )
    assert isinstance(error, Boom)
    assert (seen, renders.calls) == ([], 0)


@pytest.mark.anyio
async def test_progress_render_failure_after_a_failure_keeps_the_first_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    renders = Renders(fail=True)
    seen, error = await _collect(
        with_final_state(_count(1, fail=True), renders.render, watch=ResponseWatch())
    )
    assert isinstance(error, Boom)
    assert seen == [0]
    assert "re-render after a failed streaming sideeffect raised" in caplog.text


@pytest.mark.anyio
async def test_progress_sync_generator_steps_in_worker_threads_and_closes() -> None:
    steps: list[int] = []
    closed: list[int] = []

    def numbers() -> Iterator[int]:
        try:
            for n in range(5):
                steps.append(threading.get_ident())
                yield n
        finally:
            closed.append(threading.get_ident())

    stepped = iterate_in_thread(numbers())
    first = [await stepped.__anext__(), await stepped.__anext__()]
    await stepped.aclose()  # type: ignore[attr-defined]
    assert first == [0, 1]
    loop_thread = threading.get_ident()
    assert steps
    assert loop_thread not in steps
    assert len(closed) == 1
    assert closed[0] != loop_thread


@pytest.mark.anyio
async def test_progress_announce_runs_after_the_cleanup_and_only_if_the_action_ran() -> None:
    order: list[str] = []

    async def close() -> None:
        order.append("cleanup")

    async def announce() -> None:
        order.append("announce")

    watch = ResponseWatch()
    await close_then_announce(close, announce, watch)
    assert order == ["cleanup"]  # refused before the action ran: nothing changed
    watch.ran = True
    await close_then_announce(close, announce, watch)
    assert order == ["cleanup", "cleanup", "announce"]


def test_progress_description_says_what_a_disconnect_does() -> None:
    app, _ = build_import_app()
    actions = {a.name: a for a in describe_app(app).controllers[0].actions}
    assert actions["held"].on_disconnect == "finish"  # the default
    assert actions["held_cancel"].on_disconnect == "cancel"
    assert actions["report"].on_disconnect is None  # not a streaming sideeffect


def test_progress_description_without_on_disconnect_still_loads() -> None:
    """A description dumped before ``on_disconnect`` existed loads, with the default."""
    app, _ = build_import_app()
    raw = json.loads(dump_description(describe_app(app)))
    for controller in raw["controllers"]:
        for action in controller["actions"]:
            del action["on_disconnect"]
    loaded = load_description(json.dumps(raw))
    assert all(a.on_disconnect is None for a in loaded.controllers[0].actions)
