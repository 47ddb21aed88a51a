"""Opening many idle SSE streams on raw sockets, for the stream benchmarks."""

from __future__ import annotations

import asyncio


async def open_idle(
    port: int, request: bytes, gate: asyncio.Semaphore, *, marker: bytes
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Send ``request`` to 127.0.0.1:``port``; return once ``marker`` (its first event) arrived.

    ``gate`` bounds how many connections are being opened at once.
    """
    async with gate:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(request)
        received = b""
        while marker not in received:
            chunk = await reader.read(4096)
            if not chunk:
                raise RuntimeError("stream closed before its first event")
            received += chunk
        return reader, writer
