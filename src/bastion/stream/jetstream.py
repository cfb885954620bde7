"""The stream on NATS JetStream: file storage, durable pull consumers, deduplication.

* One stream (default ``BASTION_ABUSE``) holds the subject ``<subject>`` (default
  ``bastion.abuse.events``), file storage, created on first use.
* ``publish_batch`` sends the events asynchronously (many in flight) and returns once
  JetStream has acknowledged every message, i.e. stored it. Each message carries a
  ``Nats-Msg-Id`` header (the event id, or a hash of the ids in a packed message), so a
  retried batch is stored once within the stream's duplicate window.
* ``pack`` events per message (default 1): packing amortises the per-message cost when
  producers publish large batches; a packed message is delivered, and acknowledged, as a
  whole.
* Consumers are JetStream durable pull consumers with explicit acks: processes that open
  the same durable name share its messages, and a message not acknowledged within
  ``ack_wait`` is redelivered (``max_deliver`` times at most).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Sequence
from typing import Any

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StorageType, StreamConfig

from bastion.abuse.events import Event, EventFormatError, decode_batch, encode_batch
from bastion.stream.base import Delivery, StreamError

log = logging.getLogger("bastion.stream.jetstream")

DEFAULT_STREAM = "BASTION_ABUSE"
DEFAULT_SUBJECT = "bastion.abuse.events"


class JetStreamStream:
    """An :class:`~bastion.stream.base.EventStream` on a NATS server with JetStream."""

    def __init__(
        self,
        nc: NatsClient,
        js: JetStreamContext,
        *,
        stream: str,
        subject: str,
        pack: int,
        timeout_s: float,
    ) -> None:
        self.nc = nc
        self.js = js
        self.stream = stream
        self.subject = subject
        self.pack = pack
        self.timeout_s = timeout_s

    @classmethod
    async def connect(
        cls,
        url: str = "nats://127.0.0.1:4222",
        *,
        stream: str = DEFAULT_STREAM,
        subject: str = DEFAULT_SUBJECT,
        pack: int = 1,
        duplicate_window_s: float = 120.0,
        max_age_s: float = 7 * 86400.0,
        max_in_flight: int = 8192,
        timeout_s: float = 10.0,
    ) -> JetStreamStream:
        """Connect and make sure the stream exists (created with file storage if not)."""
        if pack < 1:
            raise ValueError("pack must be >= 1")
        try:
            # Reconnect forever once connected (a server restart must not stop consumers);
            # the first connection is bounded by timeout_s.
            nc = await asyncio.wait_for(
                nats.connect(
                    url,
                    connect_timeout=min(timeout_s, 5.0),
                    reconnect_time_wait=1,
                    max_reconnect_attempts=-1,
                    error_cb=_log_error,
                    disconnected_cb=_log_disconnect,
                    reconnected_cb=_log_reconnect,
                ),
                timeout_s,
            )
        except (TimeoutError, OSError, nats.errors.Error) as exc:
            raise StreamError(f"cannot reach NATS at {url}: {exc!r}") from exc
        js = nc.jetstream(timeout=timeout_s, publish_async_max_pending=max_in_flight)
        config = StreamConfig(
            name=stream,
            subjects=[subject],
            storage=StorageType.FILE,
            duplicate_window=duplicate_window_s,
            max_age=max_age_s,
        )
        try:
            try:
                await js.stream_info(stream)
            except nats.js.errors.NotFoundError:
                await js.add_stream(config)
        except nats.errors.Error as exc:
            await nc.close()
            raise StreamError(f"JetStream stream {stream}: {exc}") from exc
        return cls(nc, js, stream=stream, subject=subject, pack=pack, timeout_s=timeout_s)

    async def publish_batch(self, events: Sequence[Event]) -> int:
        if not events:
            return 0
        futures: list[asyncio.Future[Any]] = []
        try:
            for start in range(0, len(events), self.pack):
                chunk = events[start : start + self.pack]
                if len(chunk) == 1:
                    payload, msg_id = chunk[0].encode(), chunk[0].id
                else:
                    payload = encode_batch(chunk)
                    msg_id = hashlib.sha256("\n".join(e.id for e in chunk).encode()).hexdigest()
                futures.append(
                    await self.js.publish_async(
                        self.subject,
                        payload,
                        wait_stall=self.timeout_s,
                        headers={"Nats-Msg-Id": msg_id},
                    )
                )
            await asyncio.wait_for(asyncio.gather(*futures), self.timeout_s)
        except (TimeoutError, nats.errors.Error) as exc:
            for future in futures:
                future.cancel()
            raise StreamError(f"JetStream did not store the batch: {exc!r}") from exc
        return len(events)

    async def consumer(
        self, durable: str, *, ack_wait_s: float = 30.0, max_deliver: int = 20
    ) -> JetStreamConsumer:
        config = ConsumerConfig(
            durable_name=durable,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=ack_wait_s,
            max_deliver=max_deliver,
            max_ack_pending=-1,
        )
        try:
            sub = await self.js.pull_subscribe(
                self.subject, durable=durable, stream=self.stream, config=config
            )
        except nats.errors.Error as exc:
            raise StreamError(f"JetStream consumer {durable}: {exc}") from exc
        return JetStreamConsumer(self, durable, sub)

    async def delete(self) -> None:
        """Delete the stream and everything in it (tests and benchmarks)."""
        with contextlib.suppress(nats.js.errors.NotFoundError):
            await self.js.delete_stream(self.stream)

    async def close(self) -> None:
        """Flush what was sent (acks included) and close the connection."""
        if self.nc.is_closed:
            return
        with contextlib.suppress(TimeoutError, nats.errors.Error):
            await self.nc.flush(timeout=2)
        await self.nc.close()


class JetStreamConsumer:
    """A durable pull consumer of a :class:`JetStreamStream`."""

    def __init__(
        self, stream: JetStreamStream, name: str, sub: JetStreamContext.PullSubscription
    ) -> None:
        self.stream = stream
        self.name = name
        self._sub = sub

    async def fetch(self, max_messages: int = 100, timeout_s: float = 1.0) -> list[Delivery]:
        try:
            msgs = await self._sub.fetch(max_messages, timeout=max(timeout_s, 0.01))
        except (TimeoutError, nats.errors.TimeoutError):
            return []
        except nats.errors.Error as exc:
            raise StreamError(f"JetStream fetch for {self.name}: {exc}") from exc
        out: list[Delivery] = []
        for msg in msgs:
            try:
                events = decode_batch(msg.data)
            except EventFormatError:
                await msg.term()  # nobody can process it: never redeliver
                continue
            out.append(Delivery(tuple(events), _attempt(msg), msg))
        return out

    async def ack(self, deliveries: Sequence[Delivery]) -> None:
        if not deliveries:
            return
        try:
            for delivery in deliveries:
                msg: Msg = delivery.handle
                await msg.ack()
            await self.stream.nc.flush(timeout=int(max(1, self.stream.timeout_s)))
        except nats.errors.Error as exc:
            raise StreamError(f"JetStream ack for {self.name}: {exc}") from exc

    async def close(self) -> None:
        await self._sub.unsubscribe()


def _attempt(msg: Msg) -> int:
    try:
        return int(msg.metadata.num_delivered or 1)
    except (ValueError, nats.errors.Error):  # pragma: no cover - not a JetStream message
        return 1


async def _log_error(exc: Exception) -> None:
    log.warning("NATS: %s", exc or type(exc).__name__)


async def _log_disconnect() -> None:
    log.info("NATS: disconnected")


async def _log_reconnect() -> None:
    log.warning("NATS: reconnected")
