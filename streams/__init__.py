"""AsyncIterator -> Server-Sent Events: framing, ids and resume, pings, disconnects, errors.

Imports nothing else of Belay's. ``__all__`` is what an application uses:
``tracked`` to give a stream item an SSE id, ``LastEventId`` to receive the id a
client resumes from, ``shutdown_trigger`` to close open streams before a
server's graceful-shutdown wait, ``Channel`` for a typed fan-out stream per key
(memory or Redis broker), and ``Reset`` to tell a client its state must be
reloaded. The machinery (``EventStream``, the registry, framing, brokers,
positions and deliveries) is imported from its submodule by ``rpc``, which
builds one ``EventStream`` per streaming request; see ``streams.response`` for
the life of one stream.
"""

from streams.channel import Channel
from streams.positions import Reset
from streams.shutdown import shutdown_trigger
from streams.tracking import LastEventId, tracked

__all__ = ["Channel", "LastEventId", "Reset", "shutdown_trigger", "tracked"]
