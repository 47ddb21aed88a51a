"""Decorator-time and construction-time checks of action declarations."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from rpc import ControllerBase, DeclarationError, RPCApp, passthrough, sideeffect
from rpc.controller import FieldRef
from tests.rpc.apps import HomeState, Item, RoomState


async def _render(self: Any) -> HomeState:
    return HomeState(title="", page=0)


def _serve(**methods: Any) -> RPCApp:
    controller = type("Declared", (ControllerBase,), {"render": _render, **methods})
    return RPCApp([controller()])


def test_actions_sync_generator_fails_at_decoration() -> None:
    def numbers(self: Any) -> Iterator[int]:
        yield 1

    with pytest.raises(TypeError, match="sync generator"):
        passthrough(numbers)


def test_actions_async_iterator_annotation_on_plain_sideeffect_fails_at_construction() -> None:
    @sideeffect
    async def numbers(self: Any) -> AsyncIterator[Item]:
        raise NotImplementedError

    with pytest.raises(DeclarationError, match=r"\.numbers is annotated AsyncIterator but is not"):
        _serve(numbers=numbers)


def test_actions_async_generator_without_annotation_fails_at_construction() -> None:
    @passthrough
    async def numbers(self: Any) -> list[Item]:  # type: ignore[misc]
        yield Item(name="a", qty=1)

    with pytest.raises(DeclarationError, match="async generator; annotate it"):
        _serve(numbers=numbers)


def test_actions_async_iterator_on_plain_coroutine_fails_at_construction() -> None:
    @passthrough
    async def numbers(self: Any) -> AsyncIterator[Item]:
        raise NotImplementedError

    with pytest.raises(DeclarationError, match="not an `async def` generator"):
        _serve(numbers=numbers)


def test_actions_streaming_passthrough_is_a_stream_spec() -> None:
    @passthrough
    async def numbers(self: Any) -> AsyncIterator[Item]:
        yield Item(name="a", qty=1)

    app = _serve(numbers=numbers)
    [action] = app.controller_specs[0].actions
    assert action.is_stream
    assert action.stream_item is Item


def test_actions_action_named_render_is_an_error() -> None:
    @passthrough
    async def render(self: Any) -> HomeState:
        return HomeState(title="", page=0)

    controller = type("RenderAction", (ControllerBase,), {"render": render})
    with pytest.raises(DeclarationError, match="cannot be named 'render'"):
        RPCApp([controller()])


def test_actions_unknown_reload_name_fails_at_construction() -> None:
    @sideeffect(reload=("title", "nope"))
    async def act(self: Any) -> None: ...

    with pytest.raises(DeclarationError, match=r"\['nope'\].*HomeState"):
        _serve(act=act)


def test_actions_misspelt_model_field_fails_at_import() -> None:
    with pytest.raises(AttributeError, match="nonexistent"):
        RoomState.nonexistent  # noqa: B018


def test_actions_field_ref_of_another_model_fails_at_construction() -> None:
    @sideeffect(reload=(RoomState.count,))
    async def act(self: Any) -> None: ...

    with pytest.raises(DeclarationError, match=r"RoomState\.count is not a field"):
        _serve(act=act)


def test_actions_field_refs_name_their_fields() -> None:
    assert RoomState.count == FieldRef(RoomState, "count")  # type: ignore[comparison-overlap]
    assert str(RoomState.last_user) == "RoomState.last_user"


@pytest.mark.parametrize("bad", [[1], [Item]])
def test_actions_reload_takes_only_fields(bad: list[Any]) -> None:
    with pytest.raises(TypeError, match="reload="):
        sideeffect(reload=bad)


def test_actions_experimental_reload_needs_reload_fields() -> None:
    with pytest.raises(TypeError, match="needs reload"):
        sideeffect(experimental_render_reload=True)


def test_actions_exception_models_must_be_api_exceptions() -> None:
    with pytest.raises(TypeError, match="exception_models"):
        passthrough(exception_models=[ValueError])  # type: ignore[list-item]


def test_actions_ping_interval_must_be_positive() -> None:
    with pytest.raises(ValueError, match="ping_interval"):
        passthrough(ping_interval=0)


def test_actions_undecorated_override_is_not_an_action() -> None:
    class Base(ControllerBase):
        render = _render

        @passthrough
        async def act(self) -> int:
            return 1

    class Child(Base):
        async def act(self) -> int:
            return 2

    app = RPCApp([Child()])
    assert app.controller_specs[0].actions == ()


def test_actions_reload_fields_keep_declared_order() -> None:
    class Multi(BaseModel):
        pass

    @sideeffect(reload=("step", "room", "viewer", "count"))
    async def act(self: Any, room: str) -> None: ...

    async def render(self: Any) -> RoomState:
        raise NotImplementedError

    controller = type("Ordered", (ControllerBase,), {"render": render, "act": act})
    [spec] = RPCApp([controller()]).controller_specs
    assert spec.actions[0].reload_fields == ("step", "room", "viewer", "count")


def test_actions_reload_fields_stable_across_hash_seeds() -> None:
    """Codegen reads reload_fields: its order must not depend on PYTHONHASHSEED."""
    code = (
        "from tests.rpc.apps import app;"
        "s=[c for c in app.controller_specs if c.id=='RoomController'][0];"
        "print([a.reload_fields for a in s.actions if a.name=='named'][0])"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={"PYTHONHASHSEED": str(seed), "PATH": ""},
            cwd=Path(__file__).resolve().parents[2],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout
        for seed in (1, 2, 3, 4)
    }
    assert outputs == {"('count', 'last_user')\n"}
