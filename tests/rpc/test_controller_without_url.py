"""A controller without ``url`` serves the root page ``/`` (documented, not an error).

That suits a passthrough-only controller: actions answer from any page, and
only ``render`` checks the page, with a 400 that names the url it expected.
"""

from __future__ import annotations

import httpx

from rpc import ControllerBase, RenderBase, RPCApp, passthrough
from tests.support.server import running_server


class Home(RenderBase):
    greeting: str


class Api(ControllerBase):
    async def render(self) -> Home:
        return Home(greeting="hi")

    @passthrough
    async def ping(self, n: int) -> int:
        return n + 1


def test_controller_without_url_serves_root_and_actions_from_any_page() -> None:
    assert Api.url == "/"
    app = RPCApp(controllers=[Api()])
    with running_server(app) as server:
        base = server.base_url + "/internal/api/Api"
        root = httpx.get(base + "/render", headers={"x-belay-page": "/"})
        other = httpx.get(base + "/render", headers={"x-belay-page": "/rooms/a"})
        action = httpx.post(
            base + "/ping", params={"n": 1}, json={}, headers={"x-belay-page": "/rooms/a"}
        )
    assert root.json() == {"greeting": "hi"}
    assert other.status_code == 400
    assert "'/rooms/a'" in other.text
    assert "url '/'" in other.text
    assert action.json() == {"passthrough": 2}
