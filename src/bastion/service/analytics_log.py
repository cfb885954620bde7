"""The request log: scored requests sampled, queued and written to the analytics store
in batches by one background thread per worker.

Scoring only puts a reference to each judged batch on a bounded queue (never waits:
when the queue is full the batch is dropped and counted). The writer thread turns
batches into rows (zone from the Host header, explanation for attack-class requests
that were not explained), writes them in batches, and runs the per-minute rollups and
retention on a timer. Closing flushes what is queued.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager

from bastion.analytics.queries import ATTACK_CLASSES
from bastion.analytics.record import (
    CaptureOptions,
    ColumnBatch,
    Explainer,
    JudgedBatch,
    explanation_json,
)
from bastion.analytics.sampler import Sampler
from bastion.analytics.zones import ZoneIndex
from bastion.service import metrics
from bastion.store.analytics import AnalyticsStore

log = logging.getLogger("bastion.analytics")

#: Attack-class requests re-scored with explanations per second, per worker (the rest are
#: explained on demand when one is opened: ``GET .../requests/{id}``).
EXPLAIN_RATE = 50.0
#: Judged batches turned into rows between two pauses of the writer.
CHUNK = 256


Queued = tuple[JudgedBatch, list[bool] | None]


class QueuedObserver:
    """A scoring observer that only samples and queues judged batches; a background thread
    of the subclass takes them from the queue (:meth:`_drain`)."""

    def __init__(self, sampler: Sampler | None, queue_size: int, batch_size: int) -> None:
        self.sampler = sampler or Sampler(1.0)
        self.queue_size = queue_size
        self.batch_size = batch_size
        # A deque, not a queue.Queue: appending wakes nobody (the writer sleeps until its
        # flush deadline), so a scored request costs no thread switch.
        self._buffer: deque[Queued] = deque()
        self._wake = threading.Event()
        self.dropped = 0

    def __call__(self, batch: JudgedBatch) -> None:
        """Queue a judged batch (the sampled part of it); drop and count when full."""
        sampler = self.sampler
        keep: list[bool] | None = None
        if not sampler.keeps_all:
            if sampler.keeps_none:
                return
            keep = [sampler.keep(r) for r in batch.requests]
            if not any(keep):
                return
        buffer = self._buffer
        if len(buffer) >= self.queue_size:
            n = len(batch.requests) if keep is None else sum(keep)
            self._drop(n, "queue_full")
            return
        buffer.append((batch, keep))
        if len(buffer) == self.batch_size:
            self._wake.set()

    def _drop(self, n: int, reason: str) -> None:
        self.dropped += n
        metrics.ANALYTICS_DROPPED.labels(reason).inc(n)

    def _drain(self) -> list[Queued]:
        items = []
        popleft = self._buffer.popleft
        while True:
            try:
                items.append(popleft())
            except IndexError:
                return items


def queued_count(items: Sequence[Queued]) -> int:
    """How many requests queued items hold (the sampled ones)."""
    return sum(len(b.requests) if k is None else sum(k) for b, k in items)


class RequestLog(QueuedObserver):
    """A :class:`~bastion.service.scoring.ScoringService` observer writing to ``store``."""

    def __init__(
        self,
        store: AnalyticsStore,
        *,
        zones: Callable[[], Iterable[str]] = tuple,
        sampler: Sampler | None = None,
        options: CaptureOptions | None = None,
        queue_size: int = 10_000,
        batch_size: int = 5_000,
        flush_interval_s: float = 1.0,
        zone_refresh_s: float = 30.0,
        rollup_interval_s: float = 10.0,
        retention_days: float | None = None,
        clock: Callable[[], float] = time.time,
        maintenance_lock: Callable[[], AbstractContextManager[bool]] | None = None,
    ) -> None:
        super().__init__(sampler, queue_size, batch_size)
        self.store = store
        #: Held around rollups so that one process at a time rolls up (rollups would count
        #: twice otherwise); yields False when another process holds it (skip this turn).
        self.maintenance_lock = maintenance_lock or _process_lock
        self.options = options or CaptureOptions()
        self.flush_interval_s = flush_interval_s
        self.rollup_interval_s = rollup_interval_s
        self.retention_days = retention_days
        self.zone_refresh_s = zone_refresh_s
        self._zones_source = zones
        self._zones = ZoneIndex()
        self._zones_at = -1e18
        self._clock = clock
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._flushed = threading.Condition()
        self._pending_marks = 0
        self._done_marks = 0
        self.written = 0
        self._explain_tokens = EXPLAIN_RATE
        self._explain_at = time.monotonic()
        #: Pause between chunks of row building (0: none).
        self.yield_s = 0.0005

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Start the writer thread (idempotent)."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="bastion-analytics-writer", daemon=True
            )
            self._thread.start()

    def flush(self, timeout_s: float = 10.0) -> bool:
        """Wait until everything queued before this call is written; False on timeout."""
        if self._thread is None:
            self._write(self._drain())
            return True
        with self._flushed:
            self._pending_marks += 1
            target = self._pending_marks
        self._wake.set()
        with self._flushed:
            return self._flushed.wait_for(lambda: self._done_marks >= target, timeout_s)

    def close(self, timeout_s: float = 10.0) -> None:
        """Write what is queued, stop the thread, close the store."""
        if self._thread is not None:
            self.flush(timeout_s)
            self._stopping.set()
            self._wake.set()
            self._thread.join(timeout_s)
            self._thread = None
        else:
            self._write(self._drain())
        self.store.close()

    # -- the writer thread ----------------------------------------------------------------

    def _run(self) -> None:
        next_rollup = time.monotonic() + self.rollup_interval_s
        while True:
            self._wake.wait(self.flush_interval_s)
            self._wake.clear()
            with self._flushed:
                marks = self._pending_marks
            items = self._drain()
            if items:
                metrics.ANALYTICS_QUEUED.inc(queued_count(items))
                self._write(items)
            with self._flushed:
                self._done_marks = max(self._done_marks, marks)
                self._flushed.notify_all()
            if self._stopping.is_set():
                return
            now = time.monotonic()
            if now >= next_rollup:
                next_rollup = now + self.rollup_interval_s
                self.maintain()

    def _zone_index(self) -> ZoneIndex:
        now = time.monotonic()
        if now - self._zones_at >= self.zone_refresh_s:
            self._zones_at = now
            try:
                names = frozenset(self._zones_source())
            except Exception:  # the database may be briefly unreachable: keep the old index
                log.exception("analytics: cannot load the zones")
            else:
                if names != self._zones.zones:
                    self._zones = ZoneIndex(names)
        return self._zones

    def columns(self, items: Sequence[Queued]) -> ColumnBatch:
        """Rows for queued batches (zones resolved, attack-class requests explained)."""
        zones = self._zone_index()
        out = ColumnBatch()
        offsets: list[int] = []
        for start in range(0, len(items), CHUNK):
            if start and self.yield_s:
                # Let the event loop have the GIL: a long stretch of Python work here
                # would hold every request of the worker up to the switch interval.
                time.sleep(self.yield_s)
            offsets += out.add_many(items[start : start + CHUNK], zones, self.options)
        now = time.monotonic()
        self._explain_tokens = min(
            EXPLAIN_RATE, self._explain_tokens + (now - self._explain_at) * EXPLAIN_RATE
        )
        self._explain_at = now
        self._explain_tokens -= self._explain(items, offsets, out, int(self._explain_tokens))
        return out

    @staticmethod
    def _explain(
        items: Sequence[Queued],
        offsets: list[int],
        out: ColumnBatch,
        budget: int,
    ) -> int:
        """Explanations for attack-class rows scored without one (at most ``budget``), from
        the scorer that scored them; returns how many were explained."""
        cls, expl = out.columns["cls"], out.columns["explanation"]
        ends = [*offsets[1:], len(out)]
        groups: dict[int, tuple[Explainer, list[int]]] = {}
        budget = max(0, budget)
        spent = budget
        for (batch, _), first, end in zip(items, offsets, ends, strict=True):
            scorer = batch.scorer
            if scorer is None:
                continue
            for row in range(first, end):
                if cls[row] in ATTACK_CLASSES and not expl[row] and budget > 0:
                    groups.setdefault(id(scorer), (scorer, []))[1].append(row)
                    budget -= 1
        for scorer, rows in groups.values():
            try:
                results = scorer.score_batch([out.requests[r] for r in rows], explain=True)
            except Exception:
                log.exception("analytics: explaining logged requests failed")
                continue
            for row, result in zip(rows, results, strict=True):
                expl[row] = explanation_json(result)
        return spent - budget

    def _write(self, items: Sequence[Queued]) -> None:
        if not items:
            return
        started = time.perf_counter()
        try:
            rows = self.columns(items)
            if len(rows):
                self.store.insert_columns(rows.columns)
        except Exception:
            n = queued_count(items)
            self._drop(n, "write_error")
            log.exception("analytics: writing %d logged requests failed", n)
            return
        self.written += len(rows)
        metrics.ANALYTICS_WRITTEN.inc(len(rows))
        metrics.ANALYTICS_BATCH_LATENCY.observe(time.perf_counter() - started)

    def maintain(self) -> None:
        """Roll up finished minutes and apply retention (the writer does this on a timer)."""
        now_ms = int(self._clock() * 1000)
        try:
            with self.maintenance_lock() as mine:
                if not mine:
                    return
                self.store.rollup(now_ms)
                if self.retention_days is not None:
                    self.store.apply_retention(now_ms, self.retention_days)
        except Exception:
            log.exception("analytics: rollup or retention failed")


_LOCAL = threading.Lock()


@contextmanager
def _process_lock() -> Iterator[bool]:
    """One rollup at a time within this process (enough for a single process)."""
    with _LOCAL:
        yield True
