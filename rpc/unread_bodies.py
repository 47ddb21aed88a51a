"""``Connection: close`` on an answer sent before the request body was read to its end.

Many refusals come before the body is read: a cross-site origin (403), an
unknown route (404), a wrong method (405), a declared size or type refused
(413, 415). HTTP/1.1 cannot find the next request on a connection whose body
was left unread, so the server closes it after such an answer (hypercorn does
so when the body had not fully arrived yet, without saying it). A client that
was not told would send its next request on that connection and get no answer
at all. Saying ``Connection: close`` (RFC 9112, section 9.6) makes a client
open a fresh connection instead.
"""

from __future__ import annotations

from starlette.types import Message, Receive, Scope, Send


def guard_unread_body(scope: Scope, receive: Receive, send: Send) -> tuple[Receive, Send]:
    """``receive`` and ``send`` for one HTTP request, wrapped only if it has a body."""
    if not _has_body(scope):
        return receive, send
    guard = UnreadBodyGuard(receive, send)
    return guard.receive, guard.send


class UnreadBodyGuard:
    """Wraps ``receive`` and ``send`` of one HTTP request that has a body."""

    __slots__ = ("_body_done", "_receive", "_send")

    def __init__(self, receive: Receive, send: Send) -> None:
        self._receive = receive
        self._send = send
        self._body_done = False

    async def receive(self) -> Message:
        """The next ASGI message; notes when the body's last part has been read."""
        message = await self._receive()
        if message["type"] == "http.request" and not message.get("more_body", False):
            self._body_done = True
        return message

    async def send(self, message: Message) -> None:
        """Send ``message``; a response started before the body's end says it closes."""
        if message["type"] == "http.response.start" and not self._body_done:
            headers = list(message.get("headers", []))
            if not any(name.lower() == b"connection" for name, _ in headers):
                headers.append((b"connection", b"close"))
            message = {**message, "headers": headers}
        await self._send(message)


def _has_body(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"transfer-encoding":
            return True
        if name == b"content-length" and value.strip() != b"0":
            return True
    return False
