"""The event stream's interface: publish batches durably, consume with durable pull
consumers, acknowledge what was processed.

Delivery is at least once: a delivery that is not acknowledged within the consumer's
``ack_wait`` is delivered again (to this or another process sharing the durable consumer).
Consumers make their effects idempotent by event id. Publishing is idempotent by event id
too, within the engine's duplicate window: a retried ``publish_batch`` stores nothing twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bastion.abuse.events import Event


class StreamError(RuntimeError):
    """The stream engine refused or could not be reached."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """One stored message handed to a consumer: its events (several when packed) and how
    many times it has been delivered (``> 1``: a redelivery)."""

    events: tuple[Event, ...]
    attempt: int
    #: The engine's handle, given back to :meth:`Consumer.ack`.
    handle: Any

    @property
    def redelivered(self) -> bool:
        return self.attempt > 1


class Consumer(Protocol):
    """A durable pull consumer: its name is its position in the stream, shared by every
    process that opens it."""

    name: str

    async def fetch(self, max_messages: int = 100, timeout_s: float = 1.0) -> list[Delivery]:
        """Up to ``max_messages`` deliveries, waiting at most ``timeout_s`` for the first."""
        ...

    async def ack(self, deliveries: Sequence[Delivery]) -> None:
        """Mark ``deliveries`` processed: they are never delivered again."""
        ...

    async def close(self) -> None: ...


class EventStream(Protocol):
    """Where events are published and consumed."""

    async def publish_batch(self, events: Sequence[Event]) -> int:
        """Store ``events`` durably; returns how many were stored (duplicates included)
        once the engine has confirmed all of them. Raises :class:`StreamError`."""
        ...

    async def consumer(
        self, durable: str, *, ack_wait_s: float = 30.0, max_deliver: int = 20
    ) -> Consumer:
        """The durable consumer ``durable`` (created on first use)."""
        ...

    async def close(self) -> None: ...
