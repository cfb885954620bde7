"""The abuse desk's consumer: stream -> reports -> cases in the database -> ack.

One :class:`AbuseWorker` per process pulls batches from a durable consumer, turns report
events into :class:`~bastion.abuse.reports.Report` objects, looks up the reporters'
reputations, runs the pure :class:`~bastion.abuse.pipeline.Processor` (canonicalize,
resolve the zone, key the case, route) and stores the batch with
:func:`bastion.store.abuse.apply_batch` in one transaction. Only then does it acknowledge
the batch: a crash in between redelivers it, and the unique keys of the database make the
second application a no-op. An event that can never be processed (not a report, invalid)
is logged and acknowledged; a database failure acknowledges nothing (retried later).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from pydantic import ValidationError

from bastion.abuse.cases import DEFAULT_WINDOW, SlaClocks
from bastion.abuse.events import REPORT
from bastion.abuse.memory import ApplyResult
from bastion.abuse.pipeline import Processed, Processor
from bastion.abuse.reports import Report
from bastion.abuse.reputation import UNKNOWN, FloodDetector
from bastion.abuse.zones import ZoneDirectory
from bastion.config import Settings
from bastion.store.abuse import apply_batch, load_zones, reputations
from bastion.store.db import Database
from bastion.stream.base import Consumer, Delivery, EventStream

log = logging.getLogger("bastion.service.abuse_worker")


@dataclass
class WorkerStats:
    batches: int = 0
    events: int = 0
    new_reports: int = 0
    duplicates: int = 0
    skipped: int = 0
    new_cases: int = 0


class AbuseWorker:
    """Consumes report events into cases (see the module docstring)."""

    def __init__(
        self,
        database: Database,
        stream: EventStream,
        *,
        durable: str = "abuse-desk",
        window: timedelta = DEFAULT_WINDOW,
        batch: int = 200,
        ack_wait_s: float = 30.0,
        zone_refresh_s: float = 30.0,
        flood: FloodDetector | None = None,
        clocks: SlaClocks | None = None,
    ) -> None:
        self.database = database
        self.stream = stream
        self.durable = durable
        self.window = window
        self.batch = batch
        self.ack_wait_s = ack_wait_s
        self.zone_refresh_s = zone_refresh_s
        self.flood = flood if flood is not None else FloodDetector()
        self.clocks = clocks
        self.stats = WorkerStats()
        self._consumer: Consumer | None = None
        self._processor: Processor | None = None
        self._zones_at = -float("inf")

    async def consumer(self) -> Consumer:
        if self._consumer is None:
            self._consumer = await self.stream.consumer(self.durable, ack_wait_s=self.ack_wait_s)
        return self._consumer

    def _current_processor(self) -> Processor:
        now = time.monotonic()
        if self._processor is None or now - self._zones_at >= self.zone_refresh_s:
            with self.database.session() as session:
                zones: ZoneDirectory = load_zones(session)
            self._processor = Processor(
                zones, window=self.window, flood=self.flood, clocks=self.clocks
            )
            self._zones_at = now
        return self._processor

    def reload_zones(self) -> None:
        """Read the zones again at the next batch."""
        self._zones_at = -float("inf")

    def process(self, deliveries: Sequence[Delivery]) -> ApplyResult:
        """Store the reports of ``deliveries`` (blocking: runs on a worker thread)."""
        reports: list[Report] = []
        for delivery in deliveries:
            for event in delivery.events:
                self.stats.events += 1
                if event.kind != REPORT:
                    self.stats.skipped += 1
                    log.warning("abuse consumer: skipped event %s of kind %r", event.id, event.kind)
                    continue
                try:
                    reports.append(Report.model_validate(event.data))
                except ValidationError as exc:
                    self.stats.skipped += 1
                    log.warning("abuse consumer: invalid report event %s: %s", event.id, exc)
        if not reports:
            return ApplyResult(0, 0, 0, 0, 0)
        processor = self._current_processor()
        keys = [r.reporter_key for r in reports]
        with self.database.session() as session:
            known = reputations(session, set(keys))
        processed: list[Processed] = [
            processor.process(r, known.get(key, UNKNOWN))
            for r, key in zip(reports, keys, strict=True)
        ]
        result = apply_batch(self.database, processed, window=self.window)
        self.stats.new_reports += result.new_reports
        self.stats.duplicates += result.duplicate_reports
        self.stats.new_cases += result.new_cases
        return result

    async def run_once(self, timeout_s: float = 1.0) -> ApplyResult | None:
        """Fetch one batch, store it, acknowledge it; ``None`` when nothing came."""
        consumer = await self.consumer()
        deliveries = await consumer.fetch(self.batch, timeout_s=timeout_s)
        if not deliveries:
            return None
        result = await asyncio.to_thread(self.process, deliveries)
        await consumer.ack(deliveries)
        self.stats.batches += 1
        return result

    async def run_forever(self, idle_timeout_s: float = 1.0) -> None:
        """Consume until cancelled; failures are logged and retried after a pause (the
        unacknowledged batch comes back after ``ack_wait``)."""
        pause = 0.5
        while True:
            try:
                await self.run_once(idle_timeout_s)
                pause = 0.5
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("abuse consumer failed; retrying in %.1fs", pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, 30.0)


def clocks_of(settings: Settings) -> SlaClocks:
    """The SLA clocks ``settings`` configure (jurisdiction, per-zone ones, extra hours)."""
    return SlaClocks(
        settings.abuse_jurisdiction,
        zones=settings.abuse_zone_jurisdictions,
        hours=settings.abuse_sla_hours,
    )
