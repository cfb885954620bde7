"""One worker's side of model operations: hot swap, shadow scoring, score histograms, drift.

* **Hot swap.** :meth:`ModelRuntime.poll_once` reads the registry's rollout revision (one
  indexed row) every ``model_poll_s``; when it moved, the worker loads the versions the new
  state names from the registry's artifacts (on a thread, so the event loop keeps
  serving), builds a :class:`RoutePlan` and swaps it into the :class:`ScoringService` in one
  assignment. A call already scoring keeps the plan it started with.
* **Shadow.** An observer of the scoring service scores each batch the active model judged
  again with the shadow model and adds the comparison to a :class:`ShadowTally`.
* **Histograms.** The same observer counts scores per minute, model version and zone (plus
  requests and blocks); finished minutes and shadow tallies are flushed to the database.
* **Drift.** :class:`DriftWatch` (every minute, on every worker; effects are idempotent)
  reads the recent minutes of all workers, feeds a :class:`DriftDetector` per version and
  zone against the version's reference (its first ``drift_reference_minutes`` of traffic),
  sets Prometheus gauges, writes alerts to the outbox (one per episode: unique keys) and
  rolls back a canary whose drift alarm fires or whose block rate exceeds the active
  model's by more than ``canary_max_block_rate_increase``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from prometheus_client import Gauge
from sqlalchemy.dialects import postgresql, sqlite

from bastion.analytics.record import JudgedBatch
from bastion.modelops.drift import NBINS, DriftConfig, DriftDetector, DriftEvent
from bastion.modelops.rollout import RolloutError, RolloutState
from bastion.modelops.routing import RoutePlan, zone_of
from bastion.modelops.shadow import VECTORS, ShadowTally
from bastion.service.scoring import ScoringService
from bastion.store.content_models import OutboxMessage
from bastion.store.db import Database
from bastion.store.modelops import MinuteRow, ModelRegistry
from bastion.waf.model import Model, ModelWeights, version_of
from bastion.waf.scorer import Scorer

log = logging.getLogger("bastion.service.models")

MODEL_REVISION = Gauge(
    "bastion_model_rollout_revision",
    "Rollout revision each worker serves (all workers equal once a swap has spread).",
    ["pid"],
    multiprocess_mode="all",
)
DRIFT_PSI = Gauge(
    "bastion_model_drift_psi",
    "PSI of the last drift window against the reference, per model version, zone, vector.",
    ["model_version", "zone", "vector"],
    multiprocess_mode="max",
)
DRIFT_KS = Gauge(
    "bastion_model_drift_ks",
    "KS distance of the last drift window against the reference.",
    ["model_version", "zone", "vector"],
    multiprocess_mode="max",
)
#: The stream name of all zones together.
ALL_ZONES = "*"


def scorer_from_bytes(data: bytes, cache_size: int = 16384) -> Scorer:
    """A scorer for a model file's bytes (the pipeline fingerprint is checked on load)."""
    return Scorer(Model(ModelWeights.from_bytes(data), version_of(data)), cache_size=cache_size)


@dataclass
class _Minute:
    requests: int = 0
    blocked: int = 0
    hist: np.ndarray[Any, np.dtype[np.int64]] = field(
        default_factory=lambda: np.zeros((len(VECTORS), NBINS), np.int64)
    )


class ModelRuntime:
    """Polls the registry, swaps models, runs the shadow and counts scores (one worker)."""

    def __init__(
        self,
        database: Database,
        scoring: ScoringService,
        *,
        shadow_sample: float = 1.0,
        cache_size: int = 16384,
        histograms: bool = True,
    ) -> None:
        self.registry = ModelRegistry(database)
        self.scoring = scoring
        self.revision = -1
        self.worker = f"{os.getpid()}-{secrets.token_hex(4)}"
        self.shadow_sample = shadow_sample
        self.cache_size = cache_size
        self.histograms = histograms
        self._scorers: dict[str, Scorer] = {scoring.version: scoring.scorer}
        self._minutes: dict[tuple[int, str, str], _Minute] = {}
        self._tally = ShadowTally()
        self._tally_pair: tuple[str, str] | None = None
        self._lock = threading.Lock()
        self._shadow_budget = 0.0
        self._pending_shadow: list[tuple[tuple[str, str] | None, dict[Any, list[int]]]] = []
        scoring.add_observer(self.observe)

    # -- hot swap ---------------------------------------------------------------------

    def _scorer(self, version: str) -> Scorer:
        got = self._scorers.get(version)
        if got is None:
            got = scorer_from_bytes(self.registry.artifact(version), self.cache_size)
            self._scorers[version] = got
        return got

    def poll_once(self) -> bool:
        """Swap to the registry's current plan when its revision moved; whether it did."""
        revision = self.registry.revision("waf")
        if revision == self.revision:
            return False
        state = self.registry.rollout("waf")
        plan = self.build_plan(state)
        self.scoring.swap(plan)
        self.revision = state.revision
        MODEL_REVISION.labels(str(os.getpid())).set(state.revision)
        keep = {plan.active.version, *(s.version for s in (plan.canary, plan.shadow) if s)}
        keep |= set(state.previous[-1:])
        self._scorers = {v: s for v, s in self._scorers.items() if v in keep}
        log.info(
            "models: revision %d, active %s, canary %s (%.2f%% by %s), shadow %s",
            state.revision,
            plan.active.version,
            plan.canary.version if plan.canary else None,
            plan.canary_percent,
            plan.canary_key,
            plan.shadow.version if plan.shadow else None,
        )
        return True

    def build_plan(self, state: RolloutState) -> RoutePlan[Scorer]:
        """The plan ``state`` describes (before anything is promoted: the configured model)."""
        active = self._scorer(state.active) if state.active else self.scoring.plan.active
        return RoutePlan(
            active,
            revision=state.revision,
            canary=self._scorer(state.canary) if state.canary else None,
            canary_percent=state.canary_percent,
            canary_key=state.canary_key,
            shadow=self._scorer(state.shadow) if state.shadow else None,
        )

    # -- observer ---------------------------------------------------------------------

    def observe(self, batch: JudgedBatch) -> None:
        """Count the batch's scores and run the shadow model on it."""
        if self.histograms:
            minute = int(batch.at // 60)
            with self._lock:
                for request, verdict in zip(batch.requests, batch.verdicts, strict=True):
                    key = (minute, batch.model_version, zone_of(request.header("host")))
                    cell = self._minutes.get(key)
                    if cell is None:
                        cell = self._minutes[key] = _Minute()
                    r = verdict.result
                    h = cell.hist
                    h[0, r.score - 1] += 1
                    h[1, r.sqli - 1] += 1
                    h[2, r.xss - 1] += 1
                    h[3, r.rce - 1] += 1
                    cell.requests += 1
                    cell.blocked += verdict.decision.action == "block"
        plan = self.scoring.plan
        shadow = plan.shadow
        if shadow is None or batch.model_version != plan.active.version:
            return
        self._shadow_budget += self.shadow_sample * len(batch.requests)
        if self._shadow_budget < len(batch.requests):
            return
        self._shadow_budget -= len(batch.requests)
        results = shadow.score_batch(list(batch.requests))
        with self._lock:
            pair = (shadow.version, plan.active.version)
            if self._tally_pair not in (None, pair):
                self._flush_shadow_locked()
            self._tally_pair = pair
            self._tally.add_batch([v.result for v in batch.verdicts], results)

    # -- flushing ---------------------------------------------------------------------

    def _flush_shadow_locked(self) -> tuple[tuple[str, str] | None, dict[Any, list[int]]]:
        pair, cells = self._tally_pair, self._tally.drain()
        self._tally_pair = None
        self._pending_shadow.append((pair, cells))
        return pair, cells

    def flush(self, *, everything: bool = False, now: float | None = None) -> int:
        """Write finished minutes (all with ``everything``) and shadow tallies; rows written."""
        current = int((now if now is not None else time.time()) // 60)
        with self._lock:
            done = [k for k in self._minutes if everything or k[0] < current]
            cells = [(k, self._minutes.pop(k)) for k in done]
            if self._tally_pair is not None:
                self._flush_shadow_locked()
            pending, self._pending_shadow = self._pending_shadow, []
        rows = [
            MinuteRow(
                datetime.fromtimestamp(m * 60, UTC),
                version,
                zone,
                c.requests,
                c.blocked,
                {v: c.hist[i].tolist() for i, v in enumerate(VECTORS)},
            )
            for (m, version, zone), c in cells
        ]
        if rows:
            self.registry.add_minutes(self.worker, rows)
        for pair, tally in pending:
            if pair is not None and tally:
                self.registry.add_shadow(pair[0], pair[1], tally)
        return len(rows)

    async def run_forever(self, poll_s: float, flush_s: float) -> None:
        """Poll every ``poll_s`` and flush every ``flush_s`` seconds until cancelled."""
        next_flush = time.monotonic() + flush_s
        try:
            while True:
                try:
                    await asyncio.to_thread(self.poll_once)
                    if time.monotonic() >= next_flush:
                        next_flush = time.monotonic() + flush_s
                        await asyncio.to_thread(self.flush)
                except Exception:
                    log.exception("model runtime poll failed")
                await asyncio.sleep(poll_s)
        finally:
            try:
                await asyncio.to_thread(self.flush, everything=True)
            except Exception:
                log.exception("model runtime final flush failed")


@dataclass(frozen=True)
class WatchLimits:
    """When :class:`DriftWatch` acts."""

    drift: DriftConfig = field(default_factory=DriftConfig)
    reference_minutes: int = 60
    canary_max_block_rate_increase: float = 0.02
    canary_min_requests: int = 1000
    auto_rollback: bool = True


class DriftWatch:
    """Drift and canary health from the stored minutes of all workers (see module doc)."""

    def __init__(
        self,
        database: Database,
        limits: WatchLimits,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.database = database
        self.registry = ModelRegistry(database)
        self.limits = limits
        self.clock = clock
        self.detector = DriftDetector(limits.drift)
        self._references: set[str] = set()
        self._last_minute: datetime | None = None

    def _reference(self, version: str, zone: str, stream: str) -> bool:
        """Set ``stream``'s reference from the version's first minutes, once enough exist."""
        if stream in self._references:
            return True
        first = self.registry.first_minute(version)
        if first is None:
            return False
        end = first + timedelta(minutes=self.limits.reference_minutes)
        if end > self.clock():
            return False
        counts = np.zeros((len(VECTORS), NBINS), np.int64)
        for row in self.registry.minutes(first, end, [version]):
            if zone == ALL_ZONES or row.zone == zone:
                counts += np.asarray([row.hist[v] for v in VECTORS], np.int64)
        self.detector.set_reference(stream, counts)
        self._references.add(stream)
        return True

    def run_once(self) -> list[DriftEvent]:
        """Evaluate every finished minute since the last call; act on the alarms."""
        now = self.clock().replace(second=0, microsecond=0)
        start = self._last_minute or now - timedelta(minutes=1)
        events: list[DriftEvent] = []
        minute = start
        while minute < now:
            events += self._minute(minute)
            minute += timedelta(minutes=1)
        self._last_minute = now
        return events

    def _minute(self, minute: datetime) -> list[DriftEvent]:
        rows = self.registry.minutes(minute, minute + timedelta(minutes=1))
        batch: dict[str, Any] = {}
        blocked: dict[str, list[int]] = {}
        for row in rows:
            counts = np.asarray([row.hist[v] for v in VECTORS], np.int64)
            for zone in (row.zone, ALL_ZONES):
                stream = f"{row.version}|{zone}"
                if not self._reference(row.version, zone, stream):
                    continue
                batch[stream] = batch.get(stream, 0) + counts
            b = blocked.setdefault(row.version, [0, 0])
            b[0] += row.blocked
            b[1] += row.requests
        events = self.detector.observe(int(minute.timestamp() // 60), batch)
        self._gauges()
        for event in events:
            self._alert(event)
        self._check_canary(events, blocked)
        return events

    def _gauges(self) -> None:
        reading = self.detector.last
        if reading is None:
            return
        for s, stream in enumerate(reading.streams):
            version, zone = stream.split("|", 1)
            for v, vector in enumerate(VECTORS):
                DRIFT_PSI.labels(version, zone, vector).set(float(reading.psi[s, v]))
                DRIFT_KS.labels(version, zone, vector).set(float(reading.ks[s, v]))

    def _alert(self, event: DriftEvent) -> None:
        version, zone = event.stream.split("|", 1)
        payload = {
            "type": f"model_drift_{event.kind}",
            "model_version": version,
            "zone": zone,
            "vector": event.vector,
            "minute": datetime.fromtimestamp(event.minute * 60, UTC).isoformat(),
            "ks": event.ks,
            "psi": event.psi,
            "ks_threshold": event.ks_threshold,
            "psi_threshold": event.psi_threshold,
            "samples": event.samples,
        }
        key = f"model-drift:{event.kind}:{version}:{zone}:{event.vector}:{event.minute}"
        enqueue_alert(self.database, key, None if zone == ALL_ZONES else zone, payload)
        log.warning("model drift %s: %s", event.kind, payload)

    def _check_canary(self, events: list[DriftEvent], blocked: dict[str, list[int]]) -> None:
        state = self.registry.rollout("waf")
        if state.canary is None or state.active is None or not self.limits.auto_rollback:
            return
        reason = None
        drifted = [
            e for e in events if e.kind == "raised" and e.stream.startswith(f"{state.canary}|")
        ]
        if drifted:
            reason = f"drift alarm on {drifted[0].stream.split('|')[1]} ({drifted[0].vector})"
        canary_b, active_b = blocked.get(state.canary), blocked.get(state.active)
        if (
            reason is None
            and canary_b
            and active_b
            and canary_b[1] >= self.limits.canary_min_requests
        ):
            c_rate = canary_b[0] / canary_b[1]
            a_rate = active_b[0] / max(active_b[1], 1)
            if c_rate - a_rate > self.limits.canary_max_block_rate_increase:
                reason = f"block rate {c_rate:.4f} vs active {a_rate:.4f}"
        if reason is None:
            return
        try:
            self.registry.transition(
                "rollback", None, kind="waf", actor="drift-monitor", reason=f"auto: {reason}"
            )
        except RolloutError:  # another worker rolled it back first
            return
        enqueue_alert(
            self.database,
            f"model-canary-rollback:{state.canary}:{state.revision}",
            None,
            {"type": "model_canary_rolled_back", "model_version": state.canary, "reason": reason},
        )
        log.warning("canary %s rolled back: %s", state.canary, reason)

    async def run_forever(self, interval_s: float = 60.0) -> None:
        """Evaluate every ``interval_s`` seconds until cancelled."""
        while True:
            try:
                await asyncio.to_thread(self.run_once)
            except Exception:
                log.exception("drift watch failed")
            await asyncio.sleep(interval_s)


def enqueue_alert(database: Database, key: str, zone: str | None, payload: dict[str, Any]) -> None:
    """Put a ``model_alert`` into the outbox once per ``key`` (other workers' copies drop)."""
    now = datetime.now(UTC)
    with database.session(write=True) as session:
        dialect = session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = insert(OutboxMessage).values(
            kind="model_alert",
            key=key[:512],
            zone=zone,
            payload=payload,
            created_at=now,
            attempts=0,
            next_attempt_at=now,
        )
        session.execute(stmt.on_conflict_do_nothing(index_elements=["key"]))
