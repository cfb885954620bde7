"""Event streams: one small interface, an embedded engine and NATS JetStream.

``open_stream(url)`` picks the engine from a URL:

* ``embedded:///path/to/events.db`` (or a plain path): the embedded SQLite log, durable on
  one machine, shared by the processes that open the same file; ``embedded://`` is in memory;
* ``nats://host:4222``: NATS JetStream (durable pull consumers across machines).
"""

from __future__ import annotations

from bastion.stream.base import Consumer, Delivery, EventStream, StreamError
from bastion.stream.embedded import EmbeddedConsumer, EmbeddedStream

__all__ = [
    "Consumer",
    "Delivery",
    "EmbeddedConsumer",
    "EmbeddedStream",
    "EventStream",
    "StreamError",
    "open_stream",
]


async def open_stream(url: str, **options: object) -> EventStream:
    """The stream ``url`` names (see the module docstring); ``options`` go to JetStream."""
    if url.startswith(("nats://", "tls://")):
        from bastion.stream.jetstream import JetStreamStream

        return await JetStreamStream.connect(url, **options)  # type: ignore[arg-type]
    if url.startswith("embedded:"):
        path = url[len("embedded:") :].removeprefix("//")
        return EmbeddedStream(path or None)
    if "://" in url:
        raise ValueError(f"unknown stream URL {url!r}: use embedded:///path or nats://host:port")
    return EmbeddedStream(url or None)
