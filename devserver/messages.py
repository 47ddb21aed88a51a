"""The supervisor <-> app process protocol: frozen dataclasses as JSON lines.

Supervisor to app process: :class:`Preload`, :class:`Start`, :class:`ReloadModules`,
:class:`Notify` (no reply), :class:`Shutdown`. App process to supervisor:
:class:`Ready` (a warm spare is waiting), :class:`Started` / :class:`StartFailed`
(answers ``Start``),
:class:`ReloadDone` / :class:`ReloadFailed` (answers ``ReloadModules``).
A restart is not a message: the supervisor promotes its warm spare with ``Start``
and kills the old process.
"""

from __future__ import annotations

import asyncio
from dataclasses import KW_ONLY, asdict, dataclass, fields
from typing import Any

import orjson


@dataclass(frozen=True)
class Preload:
    """Import these third-party top-level modules now, while waiting as a spare."""

    modules: tuple[str, ...]


@dataclass(frozen=True)
class Start:
    """Import the user's app and serve it on the inherited listening socket."""

    target: str
    watch_dirs: tuple[str, ...]
    codegen_out: str
    allowed_hosts: tuple[str, ...]
    bound_host: str
    _: KW_ONLY
    request_log: bool = True


@dataclass(frozen=True)
class ReloadModules:
    """These source files changed (already syntax-checked and content-compared)."""

    paths: tuple[str, ...]


@dataclass(frozen=True)
class Notify:
    """Send this JSON text to every browser connected to the notify websocket (no reply)."""

    text: str


@dataclass(frozen=True)
class Shutdown:
    """Stop serving (no graceful wait on streams) and exit."""


@dataclass(frozen=True)
class Ready:
    """A spare process has its third-party imports loaded and waits for ``Start``."""

    pid: int


@dataclass(frozen=True)
class Started:
    """The app is imported and served; ``preload`` names its third-party packages."""

    pid: int
    ms: float
    preload: tuple[str, ...]
    codegen: tuple[str, ...]
    codegen_error: str = ""


@dataclass(frozen=True)
class StartFailed:
    """Importing the app failed; ``not_found`` when the module or attribute is missing.

    ``serving``: the process stays up and answers every request with the error
    (the supervisor keeps it when nothing better serves).
    """

    error: str
    details: str
    _: KW_ONLY
    not_found: bool
    serving: bool = False


@dataclass(frozen=True)
class ReloadDone:
    """Modules reloaded in place (in this order) and the app swapped."""

    modules: tuple[str, ...]
    ms: float
    codegen: tuple[str, ...]
    codegen_error: str


@dataclass(frozen=True)
class ReloadFailed:
    """A reload did not happen or broke; ``needs_restart`` when modules are now half-run."""

    error: str
    details: str
    _: KW_ONLY
    needs_restart: bool


Message = (
    Preload
    | Start
    | ReloadModules
    | Notify
    | Shutdown
    | Ready
    | Started
    | StartFailed
    | ReloadDone
    | ReloadFailed
)

_TYPES: dict[str, type[Message]] = {
    cls.__name__: cls
    for cls in (
        Preload,
        Start,
        ReloadModules,
        Notify,
        Shutdown,
        Ready,
        Started,
        StartFailed,
        ReloadDone,
        ReloadFailed,
    )
}


class ProtocolError(Exception):
    """A line on the control channel that is not a known message."""


class ChannelClosedError(Exception):
    """The other process closed the control channel (it exited or was killed)."""


def encode_message(message: Message) -> bytes:
    """One JSON line: ``{"type": <class name>, <fields>}``."""
    return orjson.dumps({"type": type(message).__name__, **asdict(message)}) + b"\n"


def decode_message(line: bytes) -> Message:
    """The message encoded by :func:`encode_message`."""
    try:
        payload: dict[str, Any] = orjson.loads(line)
        cls = _TYPES[payload.pop("type")]
    except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise ProtocolError(f"bad control message {line[:200]!r}") from exc
    names = {field.name for field in fields(cls)}
    values: dict[str, Any] = {
        k: tuple(v) if isinstance(v, list) else v for k, v in payload.items() if k in names
    }
    try:
        return cls(**values)
    except TypeError as exc:
        raise ProtocolError(f"bad {cls.__name__} message: {exc}") from exc


class Channel:
    """Message framing over an asyncio stream pair (a socketpair end)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    async def send(self, message: Message) -> None:
        """Send one message; raise :class:`ChannelClosedError` if the peer is gone."""
        try:
            self._writer.write(encode_message(message))
            await self._writer.drain()
        except (ConnectionError, RuntimeError) as exc:
            raise ChannelClosedError(str(exc)) from exc

    async def receive(self) -> Message:
        """The next message; raise :class:`ChannelClosedError` at end of stream."""
        try:
            line = await self._reader.readline()
        except (ConnectionError, ValueError) as exc:
            raise ChannelClosedError(str(exc)) from exc
        if not line:
            raise ChannelClosedError("control channel closed")
        return decode_message(line)

    def close(self) -> None:
        """Close our end."""
        self._writer.close()
