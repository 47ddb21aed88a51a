"""Page location: X-Belay-Page, Referer, the controller url; mismatches are 400s."""

from __future__ import annotations

import time

import httpx
import pytest
from starlette.datastructures import Headers

from rpc import ControllerBase, DeclarationError, RPCApp
from rpc.errors import HTTPError
from rpc.page import PagePattern
from tests.rpc.apps import HomeState
from tests.rpc.conftest import API

pytestmark = pytest.mark.anyio

ROOM = f"{API}/RoomController"


async def _render(client: httpx.AsyncClient, headers: dict[str, str]) -> httpx.Response:
    return await client.get(f"{ROOM}/render", headers=headers)


@pytest.mark.parametrize(
    ("page", "room", "step"),
    [
        ("/rooms/lobby", "lobby", 1),
        ("/rooms/lobby/", "lobby", 1),
        ("/rooms/lobby?step=3", "lobby", 3),
        ("http://example.com/rooms/hall?step=2&x=y", "hall", 2),
        ("/rooms/caf%C3%A9%20bar", "café bar", 1),
    ],
)
async def test_page_header_gives_path_and_query(
    client: httpx.AsyncClient, page: str, room: str, step: int
) -> None:
    response = await _render(client, {"x-belay-page": page})
    assert response.status_code == 200, response.text
    assert (response.json()["room"], response.json()["step"]) == (room, step)


async def test_page_referer_is_the_fallback(client: httpx.AsyncClient) -> None:
    response = await _render(client, {"referer": "http://testserver/rooms/attic?step=4"})
    assert (response.json()["room"], response.json()["step"]) == ("attic", 4)


async def test_page_header_wins_over_referer(client: httpx.AsyncClient) -> None:
    response = await _render(
        client, {"x-belay-page": "/rooms/a", "referer": "http://testserver/rooms/b"}
    )
    assert response.json()["room"] == "a"


async def test_page_controller_url_when_it_has_no_params(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/BindingController/render")
    assert response.json() == {"title": "home", "page": 1}


async def test_page_render_query_comes_from_the_page_not_the_request(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(
        f"{API}/BindingController/render?page=9", headers={"x-belay-page": "/?page=3"}
    )
    assert response.json()["page"] == 3


async def test_page_url_with_params_and_no_page_is_400(client: httpx.AsyncClient) -> None:
    response = await _render(client, {})
    assert response.status_code == 400
    assert "X-Belay-Page" in response.json()["detail"]


@pytest.mark.parametrize("page", ["/rooms", "/rooms/a/b", "/other/a", "http://x/", "/"])
async def test_page_mismatch_is_400_naming_page_and_url(
    client: httpx.AsyncClient, page: str
) -> None:
    response = await _render(client, {"x-belay-page": page})
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert "/rooms/{room}" in detail
    assert "RoomController" in detail


async def test_page_mismatched_referer_is_400(client: httpx.AsyncClient) -> None:
    response = await client.get(
        f"{API}/BindingController/render", headers={"referer": "http://testserver/about"}
    )
    assert response.status_code == 400


async def test_page_query_validation_on_render_is_422(client: httpx.AsyncClient) -> None:
    response = await _render(client, {"x-belay-page": "/rooms/a?step=many"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "step"]


async def test_page_sideeffect_rerenders_for_the_page(client: httpx.AsyncClient) -> None:
    response = await client.post(
        f"{ROOM}/increment",
        params={"room": "hall"},
        json={"count": 1},
        headers={"x-belay-page": "/rooms/lobby?step=5"},
    )
    state = response.json()["sideeffect"]
    assert (state["room"], state["step"], state["count"]) == ("lobby", 5, 0)


async def test_page_sideeffect_with_invalid_page_query_is_422_before_the_action(
    client: httpx.AsyncClient,
) -> None:
    before = await _render(client, {"x-belay-page": "/rooms/guarded"})
    refused = await client.post(
        f"{ROOM}/increment",
        params={"room": "guarded"},
        json={"count": 7},
        headers={"x-belay-page": "/rooms/guarded?step=many"},
    )
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["query", "step"]
    after = await _render(client, {"x-belay-page": "/rooms/guarded"})
    assert after.json()["count"] == before.json()["count"]  # the action never ran


async def test_page_sideeffect_without_page_on_param_url_is_400(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(f"{ROOM}/increment", params={"room": "a"}, json={"count": 1})
    assert response.status_code == 400


def test_page_pattern_root_and_multi_params() -> None:
    root = PagePattern("Root", "/")
    assert root.locate(Headers({"x-belay-page": "/"})).path == {}
    assert root.locate(Headers({"x-belay-page": "/?a=1&a=2"})).query == {"a": ["1", "2"]}
    two = PagePattern("Two", "/a/{x}/b/{y}")
    assert two.names == frozenset({"x", "y"})
    assert two.locate(Headers({"x-belay-page": "/a/1/b/2"})).path == {"x": "1", "y": "2"}


def test_page_url_must_be_a_path() -> None:
    class NoSlash(ControllerBase):
        url = "rooms"

        async def render(self) -> HomeState:
            return HomeState(title="", page=0)

    with pytest.raises(TypeError, match=r"NoSlash\.url"):
        RPCApp([NoSlash()])


@pytest.mark.parametrize(
    "headers",
    [
        {"x-belay-page": "http://[bad/rooms/x"},
        {"referer": "http://[::1/rooms/x"},
        {"x-belay-page": "http://x]/rooms/x"},
    ],
)
async def test_page_unparsable_url_is_400_not_500(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    response = await _render(client, headers)
    assert response.status_code == 400, response.text
    assert "page" in response.json()["detail"]


async def test_page_unparsable_url_on_sideeffect_is_400_before_the_action(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        f"{ROOM}/increment",
        params={"room": "bad-page"},
        json={"count": 1},
        headers={"x-belay-page": "http://[bad/rooms/bad-page"},
    )
    assert response.status_code == 400, response.text
    after = await _render(client, {"x-belay-page": "/rooms/bad-page"})
    assert after.json()["count"] == 0


@pytest.mark.parametrize(
    ("url", "page", "path"),
    [
        ("/f/{name}.{ext}", "/f/archive.tar.gz", {"name": "archive.tar", "ext": "gz"}),
        ("/p/{a}-{b}-{c}", "/p/1-2-3-4", {"a": "1-2", "b": "3", "c": "4"}),
        ("/p/{a}--{b}", "/p/x---y", {"a": "x-", "b": "y"}),
        ("/p/v{a}{b}x/", "/p/v123x", {"a": "12", "b": "3"}),
        (
            "/d/{y}-{m}/{slug}",
            "/d/2026-11/hello-world/",
            {"y": "2026", "m": "11", "slug": "hello-world"},
        ),
    ],
)
def test_page_several_params_in_one_segment_match_greedily(
    url: str, page: str, path: dict[str, str]
) -> None:
    pattern = PagePattern("P", url)
    assert pattern.locate(Headers({"x-belay-page": page})).path == path


@pytest.mark.parametrize("page", ["/p/1-2", "/p/--", "/p/a-b-c/d", "/p//a-b-c", "/q/a-b-c"])
def test_page_several_params_in_one_segment_mismatch_is_400(page: str) -> None:
    with pytest.raises(HTTPError) as info:
        PagePattern("P", "/p/{a}-{b}-{c}").locate(Headers({"x-belay-page": page}))
    assert info.value.status_code == 400


HOSTILE = 100_000  # characters in one path segment


@pytest.mark.parametrize("url", ["/p/{a}-{b}-{c}", "/p/{a}.{b}.{c}.{d}"])
def test_page_matching_a_long_hostile_page_takes_linear_time(url: str) -> None:
    # A backtracking regex needs minutes for one such header (the loop blocked); the
    # linear matcher about a millisecond. 2 s is a generous bound, not a benchmark.
    pattern = PagePattern("P", url)
    separator = "-" if "-" in url else "."
    names = url.count("{")
    started = time.perf_counter()
    # all separators: earlier params as long as possible, the later ones one character
    location = pattern.locate(Headers({"x-belay-page": "/p/" + separator * HOSTILE}))
    with pytest.raises(HTTPError) as info:  # no separator at all: no match
        pattern.locate(Headers({"x-belay-page": "/p/" + "a" * HOSTILE}))
    assert time.perf_counter() - started < 2.0
    assert info.value.status_code == 400
    values = [location.path[name] for name in "abcd"[:names]]
    assert values[1:] == [separator] * (names - 1)
    assert len(values[0]) == HOSTILE - 2 * (names - 1)


def test_page_url_with_a_repeated_param_fails_at_construction() -> None:
    with pytest.raises(DeclarationError, match="twice"):
        PagePattern("P", "/p/{a}/{a}")
