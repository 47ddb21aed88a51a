"""Reading SSE frames from an httpx streaming response."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx


async def frames(response: httpx.Response) -> AsyncIterator[dict[str, str]]:
    """Each complete frame of ``response`` as {field: value} (comments as ``":"``)."""
    buffer = b""
    async for chunk in response.aiter_bytes():
        buffer += chunk
        *whole, buffer = buffer.split(b"\n\n")
        for block in whole:
            frame: dict[str, str] = {}
            for line in block.decode().split("\n"):
                name, _, value = line.partition(":")
                frame[name or ":"] = value.removeprefix(" ")
            yield frame
