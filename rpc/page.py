"""Where the browser is: the page a render or sideeffect renders for.

The page comes from ``X-Belay-Page`` (a path with optional query, or a full
URL), else ``Referer``, else the controller's own ``url``. Its path is matched
against the controller's ``url`` template for path parameters; its query string
gives query parameters.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

from starlette.datastructures import Headers

from rpc.binding import DeclarationError
from rpc.errors import HTTPError

PAGE_HEADER = "x-belay-page"
_PARAM = re.compile(r"{([A-Za-z_][A-Za-z0-9_]*)}")


@dataclass(frozen=True)
class PageLocation:
    """A page's path parameters and query values, as strings."""

    path: Mapping[str, str]
    query: Mapping[str, list[str]]


class PagePattern:
    """A controller ``url`` such as ``/rooms/{room}``, compiled once."""

    def __init__(self, controller_id: str, url: object, *, declared_by: str = "") -> None:
        if not isinstance(url, str) or not url.startswith("/"):
            raise DeclarationError(
                f"{declared_by or controller_id}.url must be a path starting with '/', got {url!r}"
            )
        self.controller_id = controller_id
        self.url = url
        self.names = frozenset(_PARAM.findall(url))
        pattern, last = "", 0
        for match in _PARAM.finditer(url):
            pattern += re.escape(url[last : match.start()]) + f"(?P<{match.group(1)}>[^/]+)"
            last = match.end()
        pattern += re.escape(url[last:])
        self._regex = re.compile(f"^{_strip_slash(pattern)}/?$")

    def locate(self, headers: Headers) -> PageLocation:
        """Path and query values for this request's page, or a 400 naming the problem."""
        raw = headers.get(PAGE_HEADER) or headers.get("referer")
        if not raw:
            if self.names:
                raise HTTPError(
                    400,
                    f"{self.controller_id}'s page {self.url!r} has path parameters; "
                    f"send the page location in the X-Belay-Page header",
                )
            return PageLocation(path={}, query={})
        try:
            parts = urlsplit(raw)
        except ValueError:  # e.g. an unclosed IPv6 bracket: "http://[bad/x"
            raise HTTPError(400, f"page {raw!r} is not a valid path or URL") from None
        match = self._regex.match(parts.path or "/")
        if match is None:
            raise HTTPError(
                400,
                f"page {parts.path or '/'!r} does not match {self.controller_id}'s url "
                f"{self.url!r}",
            )
        path = {name: unquote(value) for name, value in match.groupdict().items()}
        return PageLocation(path=path, query=parse_qs(parts.query, keep_blank_values=True))


def _strip_slash(pattern: str) -> str:
    return pattern[:-2] if pattern.endswith("\\/") else pattern.rstrip("/")
