"""RPCApp routing (404/405), construction checks, lifespan and other scope types."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

import anyio
import httpx
import pytest

from rpc import ControllerBase, DeclarationError, RPCApp
from tests.rpc import apps, other_apps
from tests.rpc.conftest import API

pytestmark = pytest.mark.anyio


async def test_app_unknown_controller_is_404(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{API}/NopeController/create", json={})
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert "NopeController" in response.json()["detail"]


async def test_app_unknown_action_is_404(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{API}/BindingController/nope", json={})
    assert response.status_code == 404
    assert "nope" in response.json()["detail"]


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/internal",
        "/internal/apix/BindingController/render",
        f"{API}/BindingController",
        f"{API}/BindingController/render/extra",
        f"{API}//render",
    ],
)
async def test_app_path_outside_routes_is_404(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 404
    assert set(response.json()) == {"detail"}


async def test_app_action_with_get_is_405_allow_post(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/BindingController/nobody")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert set(response.json()) == {"detail"}


async def test_app_render_with_post_is_405_allow_get(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{API}/BindingController/render", json={})
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"


async def test_app_render_answers_head(client: httpx.AsyncClient) -> None:
    response = await client.head(f"{API}/BindingController/render")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"


async def test_app_render_answers_json(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/BindingController/render")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"title": "home", "page": 1}


async def test_app_custom_prefix_and_empty_prefix() -> None:
    for prefix in ("/rpc", ""):
        app = RPCApp([apps.BindingController()], prefix=prefix)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as http:
            ok = await http.post(f"{prefix}/BindingController/nobody")
            assert ok.status_code == 200, prefix
            assert ok.json() == {"passthrough": "ok"}
            assert (await http.post(f"{API}/BindingController/nobody")).status_code == 404


@pytest.mark.parametrize("prefix", ["rpc", "/rpc/"])
def test_app_bad_prefix_fails_at_construction(prefix: str) -> None:
    with pytest.raises(ValueError, match="prefix"):
        RPCApp([], prefix=prefix)


def test_app_duplicate_controller_ids_name_both_classes() -> None:
    with pytest.raises(DeclarationError) as info:
        RPCApp([apps.BindingController(), other_apps.BindingController()])
    message = str(info.value)
    assert "tests.rpc.apps.BindingController" in message
    assert "tests.rpc.other_apps.BindingController" in message


def test_app_same_controller_twice_is_an_error() -> None:
    with pytest.raises(DeclarationError, match="BindingController"):
        RPCApp([apps.BindingController(), apps.BindingController()])


def test_app_controller_class_instead_of_instance_is_an_error() -> None:
    with pytest.raises(DeclarationError, match="instantiate"):
        RPCApp([apps.BindingController])  # type: ignore[list-item]


def test_app_controller_without_render_is_an_error() -> None:
    class NoRender(ControllerBase):
        pass

    with pytest.raises(DeclarationError, match="NoRender has no render"):
        RPCApp([NoRender()])


async def test_app_lifespan_startup_and_shutdown_complete(app: RPCApp) -> None:
    incoming = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0)

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(dict(message))

    with anyio.fail_after(5):
        await app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send)
    assert [m["type"] for m in sent] == [
        "lifespan.startup.complete",
        "lifespan.shutdown.complete",
    ]


async def test_app_websocket_is_closed(app: RPCApp) -> None:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(dict(message))

    scope = {"type": "websocket", "path": f"{API}/BindingController/render", "headers": []}
    with anyio.fail_after(5):
        await app(scope, receive, send)
    assert sent
    assert sent[0]["type"] == "websocket.close"


async def test_app_inherited_actions_served_under_each_subclass(
    client: httpx.AsyncClient,
) -> None:
    for name in ("LeftCounter", "RightCounter"):
        response = await client.post(f"{API}/{name}/whoami")
        assert response.json() == {"passthrough": name}
    assert (await client.post(f"{API}/RightCounter/extra")).json() == {"passthrough": 2}
    assert (await client.post(f"{API}/LeftCounter/extra")).status_code == 404
    assert (await client.get(f"{API}/LeftCounter/render")).json()["title"] == "LeftCounter"


def test_app_controller_specs_in_construction_order(app: RPCApp) -> None:
    ids = [spec.id for spec in app.controller_specs]
    assert ids == ["BindingController", "RoomController", "LeftCounter", "RightCounter"]
    right = app.controller_specs[3]
    assert [a.name for a in right.actions] == ["whoami", "extra"]
    assert right.bases == ("BaseCounter",)


def test_app_rpc_reexports_what_a_streaming_action_needs() -> None:
    import rpc
    import rpc.errors
    import streams

    assert rpc.tracked is streams.tracked
    assert rpc.LastEventId is streams.LastEventId
    assert rpc.DeclarationError is rpc.errors.DeclarationError
    assert {"tracked", "LastEventId", "DeclarationError"} <= set(rpc.__all__)
    assert [name for name in rpc.__all__ if not hasattr(rpc, name)] == []
