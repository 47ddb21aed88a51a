"""Controllers and actions to a description and TS: kinds, params, reload, errors, inheritance."""

from __future__ import annotations

import json

import pytest
from pydantic import BaseModel, Field

from codegen import CodegenError, render_files
from rpc import APIException, ControllerBase, RenderBase, RPCApp, passthrough, sideeffect
from rpc.description import describe_app
from rpcmeta import dump_description, load_description
from tests.codegen.fixture_app import build_app
from tests.support.interpreter import fresh_python


class State(RenderBase):
    count: int
    long_name: str = Field(alias="longName")


class Payload(BaseModel):
    n: int


class Other(RenderBase):
    other: int


class Guarded(RenderBase):
    count: int
    secret: str = Field(default="s", exclude=True)


def controllers_ts(app: RPCApp) -> str:
    return render_files(describe_app(app))["controllers.ts"].decode()


def test_parser_served_controllers_keep_app_order_and_base_controllers() -> None:
    description = describe_app(build_app())
    assert [(c.id, c.served) for c in description.controllers] == [
        ("ShopController", True),
        ("CounterController", True),
        ("BaseShop", False),
    ]
    shop = description.controllers[0]
    assert shop.bases == ("BaseShop",)
    assert shop.url == "/shop/{shop}"
    assert shop.render_model == "ShopState"
    assert [a.name for a in description.controllers[2].actions] == ["add_item", "ping"]


def test_parser_actions_kinds_params_bodies_returns() -> None:
    description = describe_app(build_app())
    shop = {a.name: a for a in description.controllers[0].actions}
    lookup = shop["lookup"]
    assert (lookup.kind, lookup.stream) == ("passthrough", False)
    assert [(p.name, p.required) for p in lookup.params] == [
        ("ids", True),
        ("color", False),
        ("limit", False),
    ]
    assert lookup.errors == ("RoomFull", "NotAllowed")
    assert lookup.returns.name == "PageAddress"
    assert shop["resumable"].stream
    # LastEventId is not a query param
    assert [p.name for p in shop["resumable"].params] == ["limit", "slow"]
    assert shop["set_title"].reload == ("title",)


def test_parser_reload_fields_use_wire_names_and_type_as_pick() -> None:
    class Aliased(ControllerBase):
        url = "/a"

        async def render(self) -> State:
            return State(count=1, longName="x")

        @sideeffect(reload=(State.long_name,))
        async def rename(self) -> None: ...

    text = controllers_ts(RPCApp(controllers=[Aliased()]))
    assert 'Promise<SideeffectResult<Pick<State, "longName">, null>>' in text


def test_parser_empty_reload_is_pick_never() -> None:
    class Silent(ControllerBase):
        url = "/s"

        async def render(self) -> State:
            return State(count=1, longName="x")

        @sideeffect(reload=())
        async def hush(self) -> None: ...

    text = controllers_ts(RPCApp(controllers=[Silent()]))
    assert "SideeffectResult<Pick<State, never>, null>" in text


def test_parser_error_classes_with_typed_bodies() -> None:
    description = describe_app(build_app())
    errors = {e.name: e for e in description.errors}
    room_full = errors["RoomFull"]
    assert (room_full.status, room_full.detail) == (409, "room is full")
    assert [(f.name, f.type.name) for f in room_full.fields] == [
        ("detail", "string"),
        ("capacity", "number"),
    ]
    # NotAllowed.reason has no default: the body may carry null
    reason = errors["NotAllowed"].fields[1]
    assert [a.name for a in reason.type.args] == ["string", "null"]


@pytest.mark.parametrize("name", ["signal", "requestBody"])
def test_parser_reserved_parameter_name_is_an_error_naming_the_action(name: str) -> None:
    namespace: dict[str, object] = {}
    exec(
        f"async def act(self, {name}: int) -> None: ...",
        {"__name__": __name__},
        namespace,
    )
    cls = type(
        "Reserved",
        (ControllerBase,),
        {
            "url": "/r",
            "render": _render_state,
            "act": passthrough(namespace["act"]),  # type: ignore[call-overload]
            "__module__": __name__,
        },
    )
    with pytest.raises(CodegenError, match=rf"Reserved\.act: parameter '{name}'"):
        render_files(describe_app(RPCApp(controllers=[cls()])))


async def _render_state(self: object) -> State:
    return State(count=0, longName="")


# createServerState's store has these members next to the controller's actions.
@pytest.mark.parametrize("name", ["subscribe", "status", "error", "close", "onChange"])
def test_parser_action_named_like_a_store_member_is_an_error(name: str) -> None:
    async def member(self: object) -> None: ...

    member.__name__ = member.__qualname__ = name
    store = type("Store", (ControllerBase,), {"url": "/s", "render": _render_state})
    setattr(store, name, passthrough(member))

    with pytest.raises(CodegenError, match=rf"\.{name}: an action cannot be named {name!r}"):
        render_files(describe_app(RPCApp(controllers=[store()])))


def test_parser_controller_and_model_name_collision_is_an_error() -> None:
    class Payload(ControllerBase):  # same TS name as the model below
        url = "/p"

        async def render(self) -> State:
            return State(count=0, longName="")

        @passthrough
        async def take(self, body: OtherPayload) -> None: ...

    with pytest.raises(CodegenError, match="would both be exported as 'Payload'"):
        render_files(describe_app(RPCApp(controllers=[Payload()])))


class OtherPayload(BaseModel):
    n: int


OtherPayload.__name__ = "Payload"


class BinderPayload(BaseModel):
    n: int


BinderPayload.__name__ = "bindTaker"


def test_parser_model_named_like_a_controller_binder_is_an_error() -> None:
    # controllers.ts defines bindTaker(client) and imports the model's name too.
    class Taker(ControllerBase):
        url = "/t"

        async def render(self) -> State:
            return State(count=0, longName="")

        @passthrough
        async def take(self, body: BinderPayload) -> None: ...

    with pytest.raises(CodegenError, match="would both be exported as 'bindTaker'"):
        render_files(describe_app(RPCApp(controllers=[Taker()])))


def test_parser_runtime_name_collision_is_an_error() -> None:
    class BelayError(APIException):
        status_code = 400

    class Clash(ControllerBase):
        url = "/c"

        async def render(self) -> State:
            return State(count=0, longName="")

        @passthrough(exception_models=[BelayError])
        async def act(self) -> None: ...

    with pytest.raises(CodegenError, match="a name the TypeScript runtime already uses"):
        render_files(describe_app(RPCApp(controllers=[Clash()])))


def test_parser_served_subclass_of_served_controller_with_other_state_omits_and_redeclares() -> (
    None
):
    class Parent(ControllerBase):
        url = "/p"

        async def render(self) -> State:
            return State(count=0, longName="")

        @sideeffect
        async def poke(self) -> None: ...

    class Kid(Parent):
        url = "/k"

        async def render(self) -> Other:  # type: ignore[override]
            return Other(other=1)

    text = controllers_ts(RPCApp(controllers=[Parent(), Kid()]))
    assert 'export interface Kid extends Omit<Parent, "poke" | "render"> {' in text
    assert (
        "  poke(\n    params?: Record<string, never>,\n    options?: ActionOptions,\n"
        "  ): Promise<SideeffectResult<Other, null>>;"
    ) in text
    assert 'poke: sideeffectEndpoint(client, "/internal/api/Kid/poke", []),' in text


def test_dump_load_round_trip_gives_identical_output() -> None:
    live = describe_app(build_app())
    text = dump_description(live)
    json.loads(text)  # plain JSON
    loaded = load_description(text)
    assert loaded == live
    assert render_files(loaded) == render_files(live)


def test_dump_from_another_process_generates_the_same_client() -> None:
    code = (
        "from rpc.description import describe_app\n"
        "from rpcmeta import dump_description\n"
        "from tests.codegen.fixture_app import build_app\n"
        "print(dump_description(describe_app(build_app())))\n"
    )
    dumped = fresh_python(code)
    assert render_files(load_description(dumped)) == render_files(describe_app(build_app()))


def test_parser_base_action_overridden_by_the_first_subclass_stays_on_the_others() -> None:
    class Shared(ControllerBase):
        @passthrough
        async def hello(self) -> int:
            return 1

        @passthrough
        async def other(self) -> int:
            return 1

    class First(Shared):
        url = "/first"

        async def render(self) -> Other:
            return Other(other=1)

        @passthrough
        async def hello(self) -> int:
            return 2

    class Second(Shared):
        url = "/second"

        async def render(self) -> Other:
            return Other(other=1)

    text = controllers_ts(RPCApp(controllers=[First(), Second()]))
    assert 'hello: passthroughEndpoint(client, "/internal/api/Second/hello", []),' in text
    base = describe_app(RPCApp(controllers=[First(), Second()])).controllers[2]
    assert (base.id, [a.name for a in base.actions]) == ("Shared", ["hello", "other"])
    # The output does not depend on which subclass the app lists first.
    reordered = describe_app(RPCApp(controllers=[Second(), First()])).controllers[2]
    assert reordered == base


def test_parser_required_optional_query_param_is_typed_without_null() -> None:
    # A null query value is left out of the URL, and the server then answers 422
    # "Field required": the only call that works passes a value.
    class Nullable(ControllerBase):
        url = "/n"

        async def render(self) -> Other:
            return Other(other=1)

        @passthrough
        async def opt(self, limit: int | None, tag: str | None = None) -> str:
            return repr(limit)

    description = describe_app(RPCApp(controllers=[Nullable()]))
    params = {p.name: (p.type, p.required) for p in description.controllers[0].actions[0].params}
    text = controllers_ts(RPCApp(controllers=[Nullable()]))
    assert "params: { limit: number; tag?: string | null }," in text
    assert params["limit"][1] is True


def test_parser_reload_of_an_excluded_field_is_left_out_of_the_pick() -> None:
    # The server never sends an excluded field, and the interface has no such key:
    # Pick<Guarded, "secret"> would not compile.
    class Vault(ControllerBase):
        url = "/v"

        async def render(self) -> Guarded:
            return Guarded(count=0)

        @sideeffect(reload=(Guarded.secret, Guarded.count))
        async def act(self) -> None: ...

    text = controllers_ts(RPCApp(controllers=[Vault()]))
    assert 'Promise<SideeffectResult<Pick<Guarded, "count">, null>>;' in text


class FramePayload(BaseModel):
    n: int


FramePayload.__name__ = "WatchedLiveFrame"


def test_parser_model_named_like_a_live_frame_type_is_an_error() -> None:
    class Watched(ControllerBase):
        url = "/w"

        async def render(self) -> State:
            return State(count=0, longName="")

        @passthrough
        async def take(self, body: FramePayload) -> None: ...

    with pytest.raises(CodegenError, match="would both be exported as 'WatchedLiveFrame'"):
        render_files(describe_app(RPCApp(controllers=[Watched()])))


def test_parser_live_frame_type_picks_each_broadcast_reload() -> None:
    class Live(ControllerBase):
        url = "/l"

        async def render(self) -> State:
            return State(count=0, longName="")

        @sideeffect(reload=(State.count,), broadcast=True)
        async def a(self) -> None: ...

        @sideeffect(reload=(State.count,), broadcast=True)
        async def same(self) -> None: ...

        @sideeffect(reload=(State.long_name,))
        async def not_broadcast(self) -> None: ...

        @sideeffect(broadcast=True)
        async def everything(self) -> None: ...

    text = render_files(describe_app(RPCApp(controllers=[Live()])))["controllers.ts"].decode()
    assert 'export type LiveLiveFrame = State | Pick<State, "count">;' in text
