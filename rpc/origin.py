"""Cross-site request refusal (CSRF) and CORS for listed origins."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import Headers

from rpc.errors import HTTPError
from rpcmeta import ERROR_TYPE_HEADER


class OriginPolicy:
    """Refuses action POSTs from other sites unless their origin is listed.

    Same-origin browsers and non-browser clients (no ``Origin``, no
    ``Sec-Fetch-Site: cross-site``) pass. Listed origins also get CORS headers.
    """

    def __init__(self, allowed_origins: frozenset[str]) -> None:
        self.allowed = frozenset(o.rstrip("/").lower() for o in allowed_origins)

    def check(self, headers: Headers) -> str | None:
        """The origin to echo in CORS headers (listed, cross-site), or None; 403 if refused."""
        origin = headers.get("origin")
        if origin is None:
            if headers.get("sec-fetch-site") == "cross-site":
                raise HTTPError(403, "cross-site request refused (Sec-Fetch-Site: cross-site)")
            return None
        normalized = origin.rstrip("/").lower()
        if normalized in self.allowed:
            return origin
        if _netloc(normalized) == (headers.get("host") or "").lower():
            return None
        raise HTTPError(
            403,
            f"cross-site request from origin {origin!r} refused; list it in "
            f"RPCApp(allowed_origins=[...]) to allow it",
        )

    def listed_origin(self, headers: Headers) -> str | None:
        """The request's origin if it is listed (for CORS headers on reads), else None."""
        origin = headers.get("origin")
        if origin is not None and origin.rstrip("/").lower() in self.allowed:
            return origin
        return None

    def preflight_headers(self, headers: Headers) -> list[tuple[bytes, bytes]]:
        """CORS preflight answer headers for a listed origin; 403 for anything else."""
        origin = headers.get("origin")
        if origin is None or origin.rstrip("/").lower() not in self.allowed:
            raise HTTPError(403, f"CORS preflight from origin {origin!r} refused")
        requested = headers.get("access-control-request-headers", "content-type")
        return [
            *cors_headers(origin),
            (b"access-control-allow-methods", b"GET, POST"),
            (b"access-control-allow-headers", requested.encode("latin-1")),
            (b"access-control-max-age", b"600"),
        ]


def cors_headers(origin: str | None) -> list[tuple[bytes, bytes]]:
    if origin is None:
        return []
    return [
        (b"access-control-allow-origin", origin.encode("latin-1")),
        (b"access-control-allow-credentials", b"true"),
        (b"access-control-expose-headers", ERROR_TYPE_HEADER.lower().encode("latin-1")),
        (b"vary", b"Origin"),
    ]


def _netloc(origin: str) -> str | None:
    if origin == "null":
        return "null"
    try:
        return urlsplit(origin).netloc
    except ValueError:  # e.g. an unclosed IPv6 bracket: never the request's own host
        return None
