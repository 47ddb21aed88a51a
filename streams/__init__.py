"""AsyncIterator -> Server-Sent Events: framing, ids and resume, pings, disconnects, errors.

Imports nothing else of Belay's; ``rpc`` builds one ``EventStream`` per streaming
request. See ``EventStream`` for the life of one stream.
"""

from streams.framing import (
    END_DATA,
    END_FRAME,
    EVENT_END,
    EVENT_ERROR,
    PING_COMMENT,
    PING_FRAME,
    frame_comment,
    frame_data,
    frame_error,
    frame_event,
)
from streams.logtext import escape_control, log_exception
from streams.registry import StreamLease, StreamRegistry
from streams.response import EventStream
from streams.settings import ErrorPayload, StreamSettings
from streams.shutdown import shutdown_trigger, wait_for_signal
from streams.tracking import (
    LastEventId,
    TrackedItem,
    is_last_event_id,
    read_last_event_id,
    tracked,
)

__all__ = [
    "END_DATA",
    "END_FRAME",
    "EVENT_END",
    "EVENT_ERROR",
    "PING_COMMENT",
    "PING_FRAME",
    "ErrorPayload",
    "EventStream",
    "LastEventId",
    "StreamLease",
    "StreamRegistry",
    "StreamSettings",
    "TrackedItem",
    "escape_control",
    "frame_comment",
    "frame_data",
    "frame_error",
    "frame_event",
    "is_last_event_id",
    "log_exception",
    "read_last_event_id",
    "shutdown_trigger",
    "tracked",
    "wait_for_signal",
]
