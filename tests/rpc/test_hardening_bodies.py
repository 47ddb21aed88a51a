"""``read_body``'s time limit, driven by a scripted ASGI ``receive``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import pytest
from starlette.datastructures import Headers

from rpc.bodies import ClientDisconnected, read_body
from rpc.errors import HTTPError

pytestmark = pytest.mark.anyio

Receive = Callable[[], Awaitable[dict[str, Any]]]


def scripted(*messages: dict[str, Any]) -> Receive:
    """Gives ``messages`` in order, then waits forever (a client that stopped sending)."""
    queue = list(messages)

    async def receive() -> dict[str, Any]:
        if queue:
            return queue.pop(0)
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    return receive


PART = {"type": "http.request", "body": b'{"a"', "more_body": True}


async def test_hardening_bodies_stalled_body_is_408_after_the_time_limit() -> None:
    with anyio.fail_after(5), pytest.raises(HTTPError) as caught:
        await read_body(Headers({}), scripted(PART), 1024, time_limit=0.05)
    assert caught.value.status_code == 408
    assert caught.value.headers == {"Connection": "close"}
    assert "0.05 seconds" in caught.value.detail


async def test_hardening_bodies_departed_client_is_no_answer_at_all() -> None:
    receive = scripted(PART, {"type": "http.disconnect"})
    with anyio.fail_after(5), pytest.raises(ClientDisconnected):
        await read_body(Headers({}), receive, 1024, time_limit=10)


async def test_hardening_bodies_body_within_the_limit_is_read_whole() -> None:
    last = {"type": "http.request", "body": b": 1}", "more_body": False}
    with anyio.fail_after(5):
        body = await read_body(Headers({}), scripted(PART, last), 1024, time_limit=10)
    assert body == b'{"a": 1}'


async def test_hardening_bodies_no_first_message_is_408_after_the_time_limit() -> None:
    with anyio.fail_after(5), pytest.raises(HTTPError) as caught:
        await read_body(Headers({}), scripted(), 1024, time_limit=0.05)
    assert caught.value.status_code == 408


async def read_once_arrived(receive: Receive, arrived: anyio.Event) -> bytes:
    """The body read_body returns; checks it stays parked in receive() until ``arrived``."""
    bodies: list[bytes] = []

    async def reader() -> None:
        bodies.append(await read_body(Headers({}), receive, 1024, time_limit=10))

    with anyio.fail_after(5):
        async with anyio.create_task_group() as group:
            group.start_soon(reader)
            await anyio.wait_all_tasks_blocked()
            assert bodies == []  # the reader is parked in receive()
            arrived.set()
    return bodies[0]


async def test_hardening_bodies_first_message_that_waits_is_read_whole() -> None:
    arrived = anyio.Event()
    whole = {"type": "http.request", "body": b'{"a": 1}', "more_body": False}

    async def receive() -> dict[str, Any]:
        await arrived.wait()
        return whole

    assert await read_once_arrived(receive, arrived) == b'{"a": 1}'


async def test_hardening_bodies_whole_first_message_past_the_limit_is_413() -> None:
    whole = {"type": "http.request", "body": b"x" * 10, "more_body": False}
    with anyio.fail_after(5), pytest.raises(HTTPError) as caught:
        await read_body(Headers({}), scripted(whole), 4, time_limit=10)
    assert caught.value.status_code == 413


async def test_hardening_bodies_data_then_empty_last_part_is_the_data() -> None:
    data = {"type": "http.request", "body": b'{"a": 1}', "more_body": True}
    last = {"type": "http.request", "body": b"", "more_body": False}
    with anyio.fail_after(5):
        body = await read_body(Headers({}), scripted(data, last), 1024, time_limit=10)
    assert body == b'{"a": 1}'


async def test_hardening_bodies_parts_past_the_limit_are_413() -> None:
    part = {"type": "http.request", "body": b"xxx", "more_body": True}
    with anyio.fail_after(5), pytest.raises(HTTPError) as caught:
        await read_body(Headers({}), scripted(part, part), 4, time_limit=10)
    assert caught.value.status_code == 413


async def test_hardening_bodies_arrived_part_then_one_that_waits_is_read_whole() -> None:
    arrived = anyio.Event()
    messages = [PART, {"type": "http.request", "body": b": 1}", "more_body": False}]

    async def receive() -> dict[str, Any]:
        if len(messages) == 1:
            await arrived.wait()
        return messages.pop(0)

    # The first part is in; the reader waits for the second.
    assert await read_once_arrived(receive, arrived) == b'{"a": 1}'


async def test_hardening_bodies_empty_parts_before_and_between_data_are_skipped() -> None:
    empty = {"type": "http.request", "body": b"", "more_body": True}
    last = {"type": "http.request", "body": b"2}", "more_body": False}
    receive = scripted(empty, PART, empty, {**PART, "body": b": "}, last)
    with anyio.fail_after(5):
        body = await read_body(Headers({}), receive, 1024, time_limit=10)
    assert body == b'{"a": 2}'
