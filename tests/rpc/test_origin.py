"""Cross-site refusal (403) and CORS for listed origins."""

from __future__ import annotations

import httpx
import pytest

from tests.rpc.apps import build_app
from tests.rpc.asgi import call

pytestmark = pytest.mark.anyio

NOBODY = "/internal/api/BindingController/nobody"
RENDER = "/internal/api/BindingController/render"
LISTED = "https://app.example.com"


@pytest.fixture
async def http() -> httpx.AsyncClient:  # type: ignore[misc]
    app = build_app(allowed_origins=[LISTED])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        yield client


async def test_origin_cross_site_origin_is_403(http: httpx.AsyncClient) -> None:
    response = await http.post(NOBODY, headers={"origin": "https://evil.example"})
    assert response.status_code == 403
    assert "evil.example" in response.json()["detail"]
    assert "access-control-allow-origin" not in response.headers


async def test_origin_null_origin_is_403(http: httpx.AsyncClient) -> None:
    response = await http.post(NOBODY, headers={"origin": "null"})
    assert response.status_code == 403


async def test_origin_sec_fetch_site_cross_site_is_403(http: httpx.AsyncClient) -> None:
    response = await http.post(NOBODY, headers={"sec-fetch-site": "cross-site"})
    assert response.status_code == 403


async def test_origin_same_origin_passes(http: httpx.AsyncClient) -> None:
    response = await http.post(
        NOBODY, headers={"origin": "http://testserver", "sec-fetch-site": "same-origin"}
    )
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers


async def test_origin_no_origin_passes(http: httpx.AsyncClient) -> None:
    assert (await http.post(NOBODY)).status_code == 200


async def test_origin_refused_before_the_body_is_read() -> None:
    app = build_app(allowed_origins=[LISTED])
    headers = [("origin", "https://evil.example"), ("content-type", "application/json")]
    refused = await call(app, "POST", NOBODY, headers=headers, chunks=(b"not json",))
    assert refused.status == 403
    assert refused.receive_calls == 0  # the body was never read
    # The same request from a listed origin does read it (and rejects the bad JSON).
    listed = [("origin", LISTED), ("content-type", "application/json")]
    read = await call(app, "POST", NOBODY, headers=listed, chunks=(b"not json",))
    assert read.status == 400
    assert read.receive_calls >= 1


async def test_origin_listed_origin_passes_with_cors_headers(http: httpx.AsyncClient) -> None:
    response = await http.post(NOBODY, headers={"origin": LISTED, "sec-fetch-site": "cross-site"})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == LISTED
    assert response.headers["access-control-allow-credentials"] == "true"
    assert "origin" in response.headers["vary"].lower()


async def test_origin_listed_origin_gets_cors_on_errors_and_render(
    http: httpx.AsyncClient,
) -> None:
    error = await http.post("/internal/api/BindingController/items", headers={"origin": LISTED})
    assert error.status_code == 422
    assert error.headers["access-control-allow-origin"] == LISTED
    render = await http.get(RENDER, headers={"origin": LISTED})
    assert render.headers["access-control-allow-origin"] == LISTED


async def test_origin_preflight_from_listed_origin_is_answered(
    http: httpx.AsyncClient,
) -> None:
    response = await http.options(
        NOBODY,
        headers={
            "origin": LISTED,
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type, x-belay-page",
        },
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == LISTED
    assert "POST" in response.headers["access-control-allow-methods"]
    assert response.headers["access-control-allow-headers"] == "content-type, x-belay-page"


@pytest.mark.parametrize("origin", ["https://evil.example", None])
async def test_origin_preflight_from_unlisted_origin_refused(
    http: httpx.AsyncClient, origin: str | None
) -> None:
    headers = {"access-control-request-method": "POST"}
    if origin:
        headers["origin"] = origin
    response = await http.options(NOBODY, headers=headers)
    assert response.status_code == 403
    assert "access-control-allow-origin" not in response.headers


async def test_origin_render_get_is_not_refused(http: httpx.AsyncClient) -> None:
    response = await http.get(RENDER, headers={"origin": "https://evil.example"})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers


@pytest.mark.parametrize("origin", ["http://[bad", "http://[::1", "http://x]"])
async def test_origin_unparsable_origin_is_403_not_500(
    http: httpx.AsyncClient, origin: str
) -> None:
    response = await http.post(NOBODY, headers={"origin": origin})
    assert response.status_code == 403, response.text
    assert "refused" in response.json()["detail"]
