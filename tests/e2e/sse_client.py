"""A minimal raw HTTP/1.1 SSE client for the streams e2e tests.

httpx costs milliseconds per connection; with 1,000 streams that dominates a
test. This client writes one POST, parses the status line and headers, undoes
chunked transfer encoding, and splits the body into SSE frames.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from tests.e2e.stream_apps import PREFIX
from tests.support.sse import Frame, split_frames


def action_request(action: str, query: str = "", *, last_event_id: str | None = None) -> bytes:
    target = f"{PREFIX}/{action}" + (f"?{query}" if query else "")
    extra = f"last-event-id: {last_event_id}\r\n" if last_event_id is not None else ""
    head = f"POST {target} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: 0\r\n{extra}\r\n"
    return head.encode()


@dataclass
class SSEConnection:
    """One stream: ``frames`` holds every complete frame read so far (field -> value)."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    frames: list[Frame] = field(default_factory=list)
    complete: bool = False  # the terminating zero-length chunk arrived
    _body: bytes = b""

    async def read_head(self) -> None:
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split()[1])
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                self.headers[name.strip().lower()] = value.strip()

    async def read_chunk(self) -> bool:
        """Read one HTTP chunk and parse the frames it completes; False at the end."""
        size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
        data = await self.reader.readexactly(size + 2)
        if size == 0:
            self.complete = True
            return False
        frames, self._body = split_frames(self._body + data[:-2])
        self.frames.extend(frames)
        return True

    async def read_frames(self, count: int) -> None:
        """Read until at least ``count`` frames (or the end) have arrived."""
        while len(self.frames) < count and await self.read_chunk():
            pass

    async def read_to_end(self) -> None:
        while await self.read_chunk():
            pass

    def close(self) -> None:
        self.writer.close()

    @property
    def data_frames(self) -> list[Frame]:
        return [f for f in self.frames if "data" in f and "event" not in f]


async def open_stream(
    port: int, action: str, query: str = "", *, last_event_id: str | None = None
) -> SSEConnection:
    """Connect, send the action request and read the response head."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(action_request(action, query, last_event_id=last_event_id))
    connection = SSEConnection(reader, writer)
    try:
        await connection.read_head()
    except BaseException:
        writer.close()
        raise
    return connection
