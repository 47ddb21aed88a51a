"""An ``AppDescription`` as JSON text and back, byte for byte.

The description is the seam between the process that imports the app and
whatever reads it: ``load_description(dump_description(d)) == d``.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from typing import Any

from rpcmeta.facts import AppDescription, DescriptionError


def dump_description(app: AppDescription) -> str:
    """The description as JSON text (sorted keys, so equal descriptions give equal text)."""
    return json.dumps(dataclasses.asdict(app), indent=1, sort_keys=True)


def load_description(text: str) -> AppDescription:
    """Rebuild the description from ``dump_description`` output.

    Raises ``DescriptionError`` for text that is not such a dump.
    """
    try:
        loaded: AppDescription = _load(AppDescription, json.loads(text))
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        raise DescriptionError(
            f"not a Belay app description ({type(exc).__name__}: {exc})"
        ) from exc
    return loaded


def _load(annotation: Any, raw: Any) -> Any:
    origin = typing.get_origin(annotation)
    if dataclasses.is_dataclass(annotation) and isinstance(annotation, type):
        hints = typing.get_type_hints(annotation)
        fields = dataclasses.fields(annotation)
        return annotation(**{f.name: _load(hints[f.name], raw[f.name]) for f in fields})
    if origin is tuple:
        item = typing.get_args(annotation)[0]
        return tuple(_load(item, value) for value in raw)
    if origin is types.UnionType or origin is typing.Union:
        if raw is None:
            return None
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
        classes = [a for a in options if dataclasses.is_dataclass(a)]
        if isinstance(raw, dict) and classes:
            return _load(classes[0], raw)
        if isinstance(raw, list):
            tuples = [a for a in options if typing.get_origin(a) is tuple]
            return _load(tuples[0], raw)
        return raw
    return raw  # scalars and JSON Schemas (plain dicts) are already what they should be
