"""AsyncIterator -> Server-Sent Events: framing, ids and resume, pings, disconnects, errors.

Imports nothing else of Belay's. ``__all__`` is what an application uses:
``tracked`` to give a stream item an SSE id, ``LastEventId`` to receive the id a
client resumes from, ``Channel`` (with ``Reset``) for fan-out that survives
reloads, restarts and many workers, and ``shutdown_trigger`` to close open
streams before a server's graceful-shutdown wait. The machinery
(``EventStream``, the registry, framing, brokers, positions) is imported from
its submodule by ``rpc``, which builds one ``EventStream`` per streaming
request; see ``streams.response`` for the life of one stream.
"""

from streams.channel import Channel, ChannelNotBoundError
from streams.positions import Reset
from streams.shutdown import shutdown_trigger
from streams.tracking import LastEventId, tracked

__all__ = ["Channel", "ChannelNotBoundError", "LastEventId", "Reset", "shutdown_trigger", "tracked"]
