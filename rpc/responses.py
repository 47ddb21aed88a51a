"""Sending JSON (and the dev-only HTML error page) straight over ASGI.

Actions answer through these two sends rather than Starlette response objects:
the hot path builds one header list and one body.
"""

from __future__ import annotations

import html
import traceback
from collections.abc import Iterable

from starlette.types import Send

# Every answer is per request (render state is per page and per user): never
# stored by a cache, never content-sniffed into something other than JSON.
NO_STORE = (b"cache-control", b"no-store")
NOSNIFF = (b"x-content-type-options", b"nosniff")
JSON_HEADERS = ((b"content-type", b"application/json"), NOSNIFF, NO_STORE)
HTML_HEADERS = ((b"content-type", b"text/html; charset=utf-8"), NOSNIFF, NO_STORE)


async def send_body(
    send: Send,
    status: int,
    body: bytes,
    *,
    headers: Iterable[tuple[bytes, bytes]] = JSON_HEADERS,
    extra: Iterable[tuple[bytes, bytes]] = (),
) -> None:
    """One complete response."""
    raw = [*headers, *extra, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def encode_headers(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]


def debug_page(
    exc: BaseException,
    *,
    method: str,
    path: str,
    headline: str = "",
    trace: str = "",
    note: str = "Belay debug mode: this page is never shown with debug=False.",
    tail_html: str = "",
) -> bytes:
    """The HTML page with the traceback, for GETs from a browser in debug mode.

    It is Belay's one debug page: ``belay dev`` serves it too, with its own
    ``headline`` (the ``file:line`` in the user's code), a ``trace`` trimmed to
    the user's frames, its ``note`` and the live-reload script as ``tail_html``
    (trusted markup; every other argument is escaped).
    """
    trace = trace or "".join(traceback.format_exception(exc))
    title = html.escape(f"{type(exc).__name__}: {exc}")
    heading = html.escape(headline) if headline else title
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{title}</title><style>body{{font-family:system-ui;margin:2rem}}"
        "pre{background:#f6f6f6;padding:1rem;overflow:auto}</style></head><body>"
        f"<h1>500 — {heading}</h1><p>{html.escape(method)} {html.escape(path)}</p>"
        f"<pre>{html.escape(trace)}</pre><p>{html.escape(note)}</p>{tail_html}</body></html>"
    ).encode()


def accepts_html(accept: str | None) -> bool:
    return accept is not None and "text/html" in accept
