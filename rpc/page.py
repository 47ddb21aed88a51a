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
from urllib.parse import unquote, urlsplit

from starlette.datastructures import Headers

from rpc.errors import DeclarationError, HTTPError
from rpc.query import parse_query
from rpcmeta import PAGE_HEADER

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
        names = _PARAM.findall(url)
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise DeclarationError(
                f"{declared_by or controller_id}.url names {repeated[0]!r} twice: {url!r}"
            )
        self.names = frozenset(names)
        # Matched segment by segment without a regex: several params in one segment
        # ("/{y}-{m}-{d}") made a backtracking regex take minutes on one long header.
        self._segments = [_Segment(part) for part in url.rstrip("/").split("/")]

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
        found = self._match(parts.path or "/")
        if found is None:
            raise HTTPError(
                400,
                f"page {parts.path or '/'!r} does not match {self.controller_id}'s url "
                f"{self.url!r}",
            )
        path = {name: unquote(value) for name, value in found.items()}
        return PageLocation(path=path, query=parse_query(parts.query))

    def _match(self, path: str) -> dict[str, str] | None:
        parts = (path[:-1] if path.endswith("/") else path).split("/")
        if len(parts) != len(self._segments):
            return None
        values: dict[str, str] = {}
        for segment, part in zip(self._segments, parts, strict=True):
            matched = segment.match(part)
            if matched is None:
                return None
            values.update(matched)
        return values


class _Segment:
    """One ``/``-separated part of a url: literals between ``{param}`` names."""

    def __init__(self, template: str) -> None:
        self.names = _PARAM.findall(template)
        self.literals = _PARAM.split(template)[::2]  # len(names) + 1 pieces

    def match(self, part: str) -> dict[str, str] | None:
        """Param values, or None if ``part`` does not fit.

        Each value is non-empty and the earlier ones are as long as possible, as
        a greedy regex would give, but in linear time.
        """
        if not self.names:
            return {} if part == self.literals[0] else None
        first, *between, last = self.literals
        if len(part) < len(first) + len(last) or not part.startswith(first):
            return None
        if not part.endswith(last):
            return None
        rest = part[len(first) : len(part) - len(last)]
        values: dict[str, str] = {}
        for name, literal in zip(reversed(self.names[1:]), reversed(between), strict=True):
            # the rightmost separator leaving this param non-empty
            at = rest.rfind(literal, 0, len(rest) - 1)
            if at < 0:
                return None
            values[name] = rest[at + len(literal) :]
            rest = rest[:at]
        if not rest:
            return None
        values[self.names[0]] = rest
        return values
