"""Fuzzed requests over a real hypercorn on 127.0.0.1: every one is answered (or closed)
promptly, none with a 5xx or a traceback.

The seeds are fixed, so a failure reproduces. Raw sockets carry the malformed
requests (bodies shorter than their Content-Length, truncated chunked bodies,
``Expect: 100-continue`` without a body, latin-1 bytes); httpx carries
well-formed requests with odd values.
"""

from __future__ import annotations

import logging
import random
import string
from collections import Counter

import anyio
import httpx
import pytest

from tests.e2e.hardening_apps import build_hardening_app
from tests.support.fuzz import FuzzAnswer, FuzzRequest, FuzzRequests, exchange
from tests.support.server import running_server

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

RAW_COUNT = 1500
HTTPX_COUNT = 500
CONCURRENCY = 32
BODY_TIMEOUT = 1.0
WATCHDOG = 15.0  # per request: 15x the body timeout, the longest wait the server may take
KEEPALIVE_EXPIRY = 2.0  # seconds; under hypercorn's keep_alive_timeout (5 s)


def assert_clean(label: str, status: int, text: bytes) -> None:
    assert status < 500, (label, status, text[:300])
    assert b"Traceback" not in text, (label, text[:300])


async def test_hardening_fuzz_raw_requests_are_all_answered(
    caplog: pytest.LogCaptureFixture,
) -> None:
    source = FuzzRequests(seed=16)
    requests = [source.draw() for _ in range(RAW_COUNT)]
    statuses: Counter[int] = Counter()
    hung: list[str] = []
    limit = anyio.Semaphore(CONCURRENCY)
    caplog.set_level(logging.ERROR)

    with running_server(build_hardening_app(body_timeout=BODY_TIMEOUT)) as server:

        async def send(request: FuzzRequest) -> None:
            async with limit:
                with anyio.move_on_after(WATCHDOG) as watchdog:
                    answer: FuzzAnswer = await exchange(
                        server.port, request.data, head=request.head
                    )
                if watchdog.cancelled_caught:
                    hung.append(request.label)
                    return
                statuses[answer.status] += 1
                assert_clean(request.label, answer.status, answer.head + answer.body)
                if request.stalls and answer.status == 0:
                    hung.append(f"closed without an answer: {request.label}")

        with anyio.fail_after(300):
            async with anyio.create_task_group() as tasks:
                for request in requests:
                    tasks.start_soon(send, request)
    assert not hung, hung[:10]
    assert sum(statuses.values()) == RAW_COUNT
    # The run reaches the handlers, not only the router: successes, stalled bodies,
    # validation and content-type refusals all occur.
    assert {200, 408, 415, 422} <= set(statuses), statuses
    belay_errors = [r for r in caplog.records if r.name.startswith("belay.")]
    assert not belay_errors, [r.getMessage() for r in belay_errors[:5]]


def odd_text(rng: random.Random) -> str:
    kind = rng.randrange(6)
    if kind == 0:
        return "".join(rng.choice(string.printable) for _ in range(rng.randrange(40)))
    if kind == 1:
        return "".join(chr(rng.randrange(0x20, 0x2FFF)) for _ in range(rng.randrange(40)))
    if kind == 2:
        return rng.choice(["9" * 20, "-" + "9" * 19, "1e400", "nan", "-inf", "0", "1.5", "  7 "])
    if kind == 3:
        return "x" * rng.choice((1000, 5000))
    if kind == 4:
        return rng.choice(["\x00", "\u2028", "\ud7ff", "calm", "true", "2024-01-01"])
    return str(rng.randrange(-(2**70), 2**70))


async def test_hardening_fuzz_odd_well_formed_requests_never_fail() -> None:
    rng = random.Random(1616)
    names = ["steps", "count", "ratio", "tags", "ident", "day", "mood", "flag", "board", "text"]
    routes = ["render", "lookup", "add", "steps", "resume", "quiet"]
    statuses: Counter[int] = Counter()
    limit = anyio.Semaphore(CONCURRENCY)
    with running_server(build_hardening_app(body_timeout=BODY_TIMEOUT)) as server:
        # Idle connections expire on the client before hypercorn's 5 s keep-alive
        # timeout closes them, so none is reused just as the server drops it.
        limits = httpx.Limits(keepalive_expiry=KEEPALIVE_EXPIRY)
        async with httpx.AsyncClient(
            base_url=server.base_url, timeout=WATCHDOG, limits=limits
        ) as http:

            async def send(number: int) -> None:
                route = rng.choice(routes)
                pairs: list[tuple[str, str | int | float | bool | None]] = [
                    (rng.choice(names), odd_text(rng)) for _ in range(rng.randrange(4))
                ]
                params = httpx.QueryParams(pairs)
                visible = "".join(c for c in odd_text(rng) if " " <= c <= "~")
                header = rng.choice(["x-belay-page", "referer", "last-event-id", "origin"])
                headers = {header: ("/boards/" + visible).strip()}
                body = {"text": odd_text(rng)} if rng.random() < 0.7 else [odd_text(rng)]
                async with limit:
                    with anyio.fail_after(WATCHDOG):
                        if route == "render":
                            response = await http.get(
                                f"/internal/api/BoardController/{route}",
                                params=params,
                                headers=headers,
                            )
                        else:
                            response = await http.post(
                                f"/internal/api/BoardController/{route}",
                                params=params,
                                headers=headers,
                                json=body,
                            )
                statuses[response.status_code] += 1
                assert_clean(
                    f"#{number} {route} {params!r:.200}", response.status_code, response.content
                )

            async with anyio.create_task_group() as tasks:
                for number in range(HTTPX_COUNT):
                    tasks.start_soon(send, number)
    assert sum(statuses.values()) == HTTPX_COUNT
    assert {200, 422} <= set(statuses), statuses
