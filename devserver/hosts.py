"""Which ``Host`` and ``Origin`` headers the dev server answers (DNS-rebinding defence).

A page on another site can make the browser resolve its own domain name to
127.0.0.1 and then talk to the dev server "same-origin": the request arrives
with that foreign name in ``Host``. So the dev server answers only names that
are known to mean this machine or were allowed explicitly, as Vite and
webpack-dev-server do. IP literals cannot be rebound by DNS, so when the dev
server binds every interface (``0.0.0.0``, ``::``) any IP literal is fine too.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
WILDCARD_HOSTS = ("0.0.0.0", "::", "")


def host_name(header: str) -> str:
    """The lower-case name in a ``Host`` value: no port, no IPv6 brackets ("" if malformed)."""
    value = header.strip().lower()
    if value.startswith("["):
        name, bracket, _ = value[1:].partition("]")
        return name if bracket else ""
    if value.count(":") > 1:  # a bare IPv6 address (not valid in Host, but unambiguous)
        return value
    return value.partition(":")[0].rstrip(".")


def is_ip_literal(name: str) -> bool:
    """True for an IPv4 or IPv6 address."""
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def is_loopback_host(host: str) -> bool:
    """True when binding ``host`` keeps the server on this machine."""
    name = host_name(host) if host.startswith("[") else host.lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class HostPolicy:
    """The names this dev server answers to.

    ``allowed`` holds extra names from ``--allowed-host``, each optionally with a
    port (ignored); a leading dot (``.example.test``) allows the domain and
    every subdomain of it.
    """

    bound: str
    allowed: tuple[str, ...] = ()

    @classmethod
    def build(cls, bound: str, allowed: Iterable[str] = ()) -> HostPolicy:
        """The policy for a server bound to ``bound`` plus ``allowed`` names."""
        names = []
        for value in allowed:
            dot = value.strip().startswith(".")
            name = host_name(value.strip().lstrip("."))
            if name:
                names.append("." + name if dot else name)
        return cls(bound=bound.lower().strip("[]"), allowed=tuple(names))

    def allows_name(self, name: str) -> bool:
        """True when the (port-less, lower-case) ``name`` means this dev server."""
        if not name:
            return False
        if name in LOOPBACK_NAMES or name.endswith(".localhost") or name == self.bound:
            return True
        if self.bound in WILDCARD_HOSTS and is_ip_literal(name):
            return True
        for allowed in self.allowed:
            if allowed.startswith("."):
                if name == allowed[1:] or name.endswith(allowed):
                    return True
            elif name == allowed:
                return True
        return False

    def allows_host(self, header: str | None) -> bool:
        """Check a ``Host`` header; a request without one is not from a browser."""
        return header is None or self.allows_name(host_name(header))

    def allows_origin(self, origin: str | None, host: str | None) -> bool:
        """Check a websocket ``Origin``: absent (no browser), the page's own, or an allowed name."""
        if origin is None:
            return True
        try:
            parts = urlsplit(origin)
        except ValueError:
            return False
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return False  # "null" (sandboxed iframes, file://) and other schemes
        if host is not None and parts.netloc.lower() == host.strip().lower():
            return True
        return self.allows_name(host_name(parts.netloc))
