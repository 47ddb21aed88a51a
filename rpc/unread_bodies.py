"""``Connection: close`` on an answer sent before the request body was read to its end.

Many refusals come before the body is read: a cross-site origin (403), an
unknown route (404), a wrong method (405), a declared size or type refused
(413, 415). HTTP/1.1 cannot find the next request on a connection whose body
was left unread, so the server closes it after such an answer (hypercorn does
so when the body had not fully arrived yet, without saying it). A client that
was not told would send its next request on that connection and get no answer
at all. Saying ``Connection: close`` (RFC 9112, section 9.6) makes a client
open a fresh connection instead.

Only an action reads a request body, so the rule is applied where the answer
is decided rather than by watching every request's ``receive``: routes that
never read a body answer through ``unread_body_send``, and an action's
refusals raised before its body's end carry the header (``close_unread``).
The usual action, answered after its body was read, pays nothing for it.
"""

from __future__ import annotations

from starlette.types import Message, Scope, Send

from rpc.errors import HTTPError


def has_body(scope: Scope) -> bool:
    """True if the request says a body follows its head (a length other than 0, or chunks)."""
    for name, value in scope.get("headers", []):
        if name == b"transfer-encoding":
            return True
        if name == b"content-length" and value.strip() != b"0":
            return True
    return False


def unread_body_send(scope: Scope, send: Send) -> Send:
    """``send`` for an answer given without reading the request's body.

    Unchanged for a request without a body; else its response start says
    ``Connection: close``.
    """
    if not has_body(scope):
        return send

    async def closing_send(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            if not any(name.lower() == b"connection" for name, _ in headers):
                headers.append((b"connection", b"close"))
            message = {**message, "headers": headers}
        await send(message)

    return closing_send


def close_unread(exc: HTTPError, scope: Scope) -> None:
    """Make ``exc``, raised before the request body was read to its end, say ``Connection: close``.

    Unchanged when the request has no body or the error already names a
    ``Connection``.
    """
    if has_body(scope) and not any(name.lower() == "connection" for name in exc.headers):
        exc.headers = {**exc.headers, "Connection": "close"}
