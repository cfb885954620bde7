"""The model registry in the database: versions, rollout, status history, shadow tallies,
score histograms and feedback (tables of migration 0006).

Every rollout operation runs in one write transaction that locks the kind's rollout row,
applies :class:`bastion.modelops.RolloutState`'s transition, updates the versions'
statuses, appends status events (each with the whole state after it) and an audit row.
Workers poll :meth:`ModelRegistry.revision` and reload when it moves.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bastion.modelops.artifacts import ArtifactInfo, inspect_artifact
from bastion.modelops.rollout import MODEL_KINDS, Change, RolloutError, RolloutState
from bastion.modelops.routing import in_canary
from bastion.modelops.shadow import TallyKey, disagreement_report
from bastion.store.audit import record_audit
from bastion.store.db import Database
from bastion.store.modelops_models import (
    ModelArtifact,
    ModelFeedback,
    ModelRollout,
    ModelScoreMinute,
    ModelShadowStat,
    ModelStatusEvent,
    ModelVersion,
)

#: Most rows one listing returns.
MAX_PAGE = 500


class RegistryError(LookupError):
    """An unknown model version or kind; the message names it."""


@dataclass(frozen=True)
class MinuteRow:
    """One worker's histograms of one minute for one (version, zone)."""

    minute: datetime
    version: str
    zone: str
    requests: int
    blocked: int
    hist: dict[str, list[int]]


def _now() -> datetime:
    return datetime.now(UTC)


def _insert(session: Session, table: Any) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def version_json(row: ModelVersion, *, full: bool = False) -> dict[str, Any]:
    """The API's JSON of one registered version (``full`` adds metrics and card)."""
    out: dict[str, Any] = {
        "version": row.version,
        "kind": row.kind,
        "status": row.status,
        "sha256": row.sha256,
        "size": row.size,
        "featurizer": row.featurizer,
        "pipeline": row.pipeline,
        "data_fingerprint": row.data_fingerprint,
        "registered_at": row.registered_at.isoformat(),
        "registered_by": row.registered_by,
        "source": row.source,
        "note": row.note,
    }
    if full:
        out["metrics"] = row.metrics
        out["card"] = row.card
    return out


def event_json(row: ModelStatusEvent) -> dict[str, Any]:
    """The API's JSON of one status event."""
    return {
        "id": row.id,
        "kind": row.kind,
        "version": row.version,
        "from": row.from_status,
        "to": row.to_status,
        "at": row.at.isoformat(),
        "actor": row.actor,
        "reason": row.reason,
        "revision": row.revision,
    }


class ModelRegistry:
    """Registry operations over one :class:`Database`."""

    def __init__(self, database: Database) -> None:
        self.database = database

    # -- versions ---------------------------------------------------------------------

    def register(
        self, data: bytes, *, source: str, actor: str, note: str = "", at: datetime | None = None
    ) -> tuple[dict[str, Any], bool]:
        """Validate and store a model file as a ``candidate``; (its JSON, whether new).

        Registering the same bytes again changes nothing. Raises
        :class:`bastion.modelops.ArtifactError` for a file this build cannot serve.
        """
        info: ArtifactInfo = inspect_artifact(data)
        at = at or _now()
        with self.database.session(write=True) as session:
            existing = session.get(ModelVersion, info.version)
            if existing is not None:
                return version_json(existing, full=True), False
            row = ModelVersion(
                version=info.version,
                kind=info.kind,
                sha256=info.sha256,
                size=info.size,
                featurizer=info.featurizer,
                pipeline=info.pipeline,
                data_fingerprint=info.data_fingerprint,
                metrics=info.metrics,
                card=info.card,
                status="candidate",
                registered_at=at,
                registered_by=actor,
                source=source[:1024],
                note=note,
            )
            session.add(row)
            session.flush()  # the artifact's foreign key needs the version row first
            session.add(ModelArtifact(version=info.version, data=data))
            session.add(
                ModelStatusEvent(
                    kind=info.kind,
                    version=info.version,
                    from_status=None,
                    to_status="candidate",
                    at=at,
                    actor=actor,
                    reason="registered",
                    revision=0,
                    state={},
                )
            )
            record_audit(
                session,
                actor=actor,
                action="model.register",
                target=f"model:{info.version}",
                detail={"kind": info.kind, "sha256": info.sha256, "source": source[:200]},
                at=at,
            )
            session.flush()
            return version_json(row, full=True), True

    def list_versions(
        self, kind: str | None = None, status: str | None = None
    ) -> list[dict[str, Any]]:
        """Registered versions, newest first."""
        stmt = select(ModelVersion).order_by(ModelVersion.registered_at.desc()).limit(MAX_PAGE)
        if kind is not None:
            stmt = stmt.where(ModelVersion.kind == kind)
        if status is not None:
            stmt = stmt.where(ModelVersion.status == status)
        with self.database.session() as session:
            return [version_json(r) for r in session.scalars(stmt)]

    def get(self, version: str) -> dict[str, Any]:
        """One version with metrics and card; raises :class:`RegistryError` when unknown."""
        with self.database.session() as session:
            row = session.get(ModelVersion, version)
            if row is None:
                raise RegistryError(f"no registered model version {version!r}")
            return version_json(row, full=True)

    def artifact(self, version: str) -> bytes:
        """The stored bytes of ``version``."""
        with self.database.session() as session:
            row = session.get(ModelArtifact, version)
            if row is None:
                raise RegistryError(f"no registered model version {version!r}")
            return bytes(row.data)

    # -- rollout ----------------------------------------------------------------------

    def revision(self, kind: str) -> int:
        """The kind's rollout revision (0 before any rollout): what workers poll."""
        with self.database.session() as session:
            value = session.scalar(select(ModelRollout.revision).where(ModelRollout.kind == kind))
            return int(value or 0)

    def rollout(self, kind: str) -> RolloutState:
        """The kind's current rollout state."""
        _check_kind(kind)
        with self.database.session() as session:
            row = session.get(ModelRollout, kind)
            return RolloutState(kind) if row is None else RolloutState.from_json(row.state)

    def _ensure_rollout(self, kind: str) -> None:
        with self.database.session() as session:
            if session.get(ModelRollout, kind) is not None:
                return
        try:
            with self.database.session(write=True) as session:
                stmt = _insert(session, ModelRollout).values(
                    kind=kind, revision=0, state=RolloutState(kind).to_json(), updated_at=_now()
                )
                session.execute(stmt.on_conflict_do_nothing(index_elements=["kind"]))
        except IntegrityError:  # pragma: no cover - a concurrent first insert
            pass

    def transition(
        self,
        operation: str,
        version: str | None,
        *,
        actor: str,
        kind: str | None = None,
        reason: str = "",
        percent: float | None = None,
        key: str = "zone",
        at: datetime | None = None,
    ) -> RolloutState:
        """Apply ``operation`` (``shadow``, ``canary``, ``promote``, ``rollback``,
        ``stop-shadow``, ``retire``) and record it; raises :class:`RolloutError` or
        :class:`RegistryError` naming the problem."""
        at = at or _now()
        if version is not None:
            kind = self.get(version)["kind"]
        if kind is None:
            raise RolloutError(f"{operation} needs a model version or a kind")
        _check_kind(kind)
        self._ensure_rollout(kind)
        with self.database.session(write=True) as session:
            roll = session.scalars(
                select(ModelRollout).where(ModelRollout.kind == kind).with_for_update()
            ).one()
            state = RolloutState.from_json(roll.state)
            row = session.get(ModelVersion, version) if version is not None else None
            status = row.status if row is not None else ""
            new, changes = _apply(state, operation, version, status, percent, key)
            for v, old, to in changes:
                target = session.get(ModelVersion, v)
                if target is None:  # pragma: no cover - states only name registered versions
                    raise RegistryError(f"no registered model version {v!r}")
                target.status = to
                session.add(
                    ModelStatusEvent(
                        kind=kind,
                        version=v,
                        from_status=old,
                        to_status=to,
                        at=at,
                        actor=actor,
                        reason=reason or operation,
                        revision=new.revision,
                        state=new.to_json(),
                    )
                )
            roll.state, roll.revision, roll.updated_at = new.to_json(), new.revision, at
            record_audit(
                session,
                actor=actor,
                action=f"model.{operation}",
                target=f"model:{version or kind}",
                detail={
                    "kind": kind,
                    "revision": new.revision,
                    "changes": [list(c) for c in changes],
                    "reason": reason,
                    **({"percent": percent, "key": key} if operation == "canary" else {}),
                },
                at=at,
            )
            return new

    def history(
        self, *, version: str | None = None, kind: str | None = None, limit: int = 200
    ) -> list[dict[str, Any]]:
        """Status events, newest first."""
        stmt = select(ModelStatusEvent).order_by(ModelStatusEvent.id.desc())
        if version is not None:
            stmt = stmt.where(ModelStatusEvent.version == version)
        if kind is not None:
            stmt = stmt.where(ModelStatusEvent.kind == kind)
        with self.database.session() as session:
            rows = session.scalars(stmt.limit(max(1, min(limit, MAX_PAGE))))
            return [event_json(r) for r in rows]

    def live_at(self, kind: str, at: datetime, zone: str | None = None) -> dict[str, Any]:
        """Which version(s) acted at ``at`` (for ``zone`` when given).

        One lookup: the last rollout event at or before ``at`` carries the whole state.
        With a canary keyed by zone the zone's hash decides; keyed by client address both
        versions served the zone, with their shares.
        """
        _check_kind(kind)
        with self.database.session() as session:
            row = session.scalars(
                select(ModelStatusEvent)
                .where(
                    ModelStatusEvent.kind == kind,
                    ModelStatusEvent.at <= at,
                    ModelStatusEvent.revision > 0,
                )
                .order_by(ModelStatusEvent.at.desc(), ModelStatusEvent.id.desc())
                .limit(1)
            ).first()
        out: dict[str, Any] = {"kind": kind, "at": at.isoformat(), "zone": zone}
        if row is None:
            return {**out, "live": [], "active": None, "revision": 0}
        state = RolloutState.from_json(row.state)
        out.update(active=state.active, revision=state.revision, since=row.at.isoformat())
        live: list[dict[str, Any]] = []
        if state.canary is None:
            if state.active is not None:
                live.append({"version": state.active, "role": "active", "share": 1.0})
        elif zone is not None and state.canary_key == "zone":
            hit = in_canary(zone, state.canary_percent)
            version, role = (state.canary, "canary") if hit else (state.active, "active")
            live.append({"version": version, "role": role, "share": 1.0})
        else:
            share = state.canary_percent / 100
            live.append({"version": state.active, "role": "active", "share": round(1 - share, 6)})
            live.append({"version": state.canary, "role": "canary", "share": round(share, 6)})
        if state.shadow is not None:
            live.append({"version": state.shadow, "role": "shadow", "share": 0.0})
        out["live"] = live
        out["canary"] = (
            {"version": state.canary, "percent": state.canary_percent, "key": state.canary_key}
            if state.canary
            else None
        )
        return out

    # -- shadow -----------------------------------------------------------------------

    def add_shadow(
        self, candidate: str, baseline: str, cells: Mapping[TallyKey, list[int]]
    ) -> None:
        """Add a worker's shadow tally to the stored sums."""
        if not cells:
            return
        with self.database.session(write=True) as session:
            for (vector, a, c), (n, s, sa) in sorted(cells.items()):
                stmt = _insert(session, ModelShadowStat).values(
                    candidate=candidate,
                    baseline=baseline,
                    vector=vector,
                    active_class=a,
                    candidate_class=c,
                    requests=n,
                    sum_delta=s,
                    sum_abs_delta=sa,
                )
                ex = stmt.excluded
                session.execute(
                    stmt.on_conflict_do_update(
                        index_elements=[
                            "candidate",
                            "baseline",
                            "vector",
                            "active_class",
                            "candidate_class",
                        ],
                        set_={
                            "requests": ModelShadowStat.requests + ex.requests,
                            "sum_delta": ModelShadowStat.sum_delta + ex.sum_delta,
                            "sum_abs_delta": ModelShadowStat.sum_abs_delta + ex.sum_abs_delta,
                        },
                    )
                )

    def shadow_report(self, candidate: str, baseline: str | None = None) -> dict[str, Any]:
        """Disagreement of ``candidate`` with the active model(s) it was compared with."""
        stmt = select(ModelShadowStat).where(ModelShadowStat.candidate == candidate)
        if baseline is not None:
            stmt = stmt.where(ModelShadowStat.baseline == baseline)
        cells: dict[TallyKey, list[int]] = {}
        baselines: set[str] = set()
        with self.database.session() as session:
            for r in session.scalars(stmt):
                baselines.add(r.baseline)
                key = (r.vector, r.active_class, r.candidate_class)
                cell = cells.setdefault(key, [0, 0, 0])
                cell[0] += r.requests
                cell[1] += r.sum_delta
                cell[2] += r.sum_abs_delta
        return {
            "candidate": candidate,
            "baselines": sorted(baselines),
            "vectors": disagreement_report(cells),
        }

    # -- score histograms -------------------------------------------------------------

    def add_minutes(self, worker: str, rows: Iterable[MinuteRow]) -> int:
        """Store a worker's finished minutes (a minute flushed twice is added to)."""
        n = 0
        with self.database.session(write=True) as session:
            for r in rows:
                existing = session.get(ModelScoreMinute, (r.minute, r.version, r.zone, worker))
                if existing is None:
                    session.add(
                        ModelScoreMinute(
                            minute=r.minute,
                            version=r.version,
                            zone=r.zone,
                            worker=worker,
                            requests=r.requests,
                            blocked=r.blocked,
                            hist=r.hist,
                        )
                    )
                else:
                    existing.requests += r.requests
                    existing.blocked += r.blocked
                    existing.hist = {
                        v: [a + b for a, b in zip(existing.hist.get(v, [0] * 100), c, strict=True)]
                        for v, c in r.hist.items()
                    }
                n += 1
        return n

    def minutes(
        self, since: datetime, until: datetime, versions: Iterable[str] | None = None
    ) -> list[MinuteRow]:
        """Histogram rows in ``[since, until)`` summed over workers."""
        stmt = select(ModelScoreMinute).where(
            ModelScoreMinute.minute >= since, ModelScoreMinute.minute < until
        )
        if versions is not None:
            stmt = stmt.where(ModelScoreMinute.version.in_(sorted(set(versions))))
        merged: dict[tuple[datetime, str, str], MinuteRow] = {}
        with self.database.session() as session:
            for r in session.scalars(stmt):
                key = (r.minute, r.version, r.zone)
                cur = merged.get(key)
                if cur is None:
                    merged[key] = MinuteRow(
                        r.minute, r.version, r.zone, r.requests, r.blocked, dict(r.hist)
                    )
                else:
                    hist = {
                        v: [a + b for a, b in zip(cur.hist.get(v, [0] * 100), c, strict=True)]
                        for v, c in r.hist.items()
                    }
                    merged[key] = MinuteRow(
                        r.minute,
                        r.version,
                        r.zone,
                        cur.requests + r.requests,
                        cur.blocked + r.blocked,
                        hist,
                    )
        return sorted(merged.values(), key=lambda m: (m.minute, m.version, m.zone))

    def first_minute(self, version: str) -> datetime | None:
        """The first minute ``version`` scored traffic."""
        with self.database.session() as session:
            value: datetime | None = session.scalar(
                select(func.min(ModelScoreMinute.minute)).where(ModelScoreMinute.version == version)
            )
            return value

    # -- feedback ---------------------------------------------------------------------

    def add_feedback(
        self,
        *,
        zone: str,
        label: str,
        request: dict[str, Any],
        actor: str,
        vector: str | None = None,
        model_version: str | None = None,
        scores: dict[str, Any] | None = None,
        note: str = "",
        at: datetime | None = None,
    ) -> int:
        """Store one mark; returns its id (audited as ``model.feedback``)."""
        at = at or _now()
        with self.database.session(write=True) as session:
            row = ModelFeedback(
                created_at=at,
                created_by=actor,
                zone=zone,
                label=label,
                vector=vector,
                model_version=model_version,
                request=request,
                scores=scores,
                note=note,
            )
            session.add(row)
            session.flush()
            record_audit(
                session,
                actor=actor,
                action="model.feedback",
                target=f"feedback:{row.id}",
                detail={"zone": zone, "label": label, "vector": vector},
                at=at,
            )
            return int(row.id)

    def feedback(self, *, zone: str | None = None, limit: int = MAX_PAGE) -> list[dict[str, Any]]:
        """Marks, newest first."""
        stmt = select(ModelFeedback).order_by(ModelFeedback.id.desc())
        if zone is not None:
            stmt = stmt.where(ModelFeedback.zone == zone)
        with self.database.session() as session:
            return [
                {
                    "id": r.id,
                    "created_at": r.created_at.isoformat(),
                    "created_by": r.created_by,
                    "zone": r.zone,
                    "label": r.label,
                    "vector": r.vector,
                    "model_version": r.model_version,
                    "request": r.request,
                    "scores": r.scores,
                    "note": r.note,
                }
                for r in session.scalars(stmt.limit(max(1, min(limit, 100_000))))
            ]


def _check_kind(kind: str) -> None:
    if kind not in MODEL_KINDS:
        raise RegistryError(f"unknown model kind {kind!r}; known: {', '.join(MODEL_KINDS)}")


def _apply(
    state: RolloutState,
    operation: str,
    version: str | None,
    status: str,
    percent: float | None,
    key: str,
) -> tuple[RolloutState, list[Change]]:
    if operation == "rollback":
        return state.rollback()
    if operation == "stop-shadow":
        return state.stop_shadow()
    if version is None:
        raise RolloutError(f"{operation} needs a model version")
    if operation == "shadow":
        return state.start_shadow(version, status)
    if operation == "canary":
        if percent is None:
            raise RolloutError("canary needs a percentage")
        return state.start_canary(version, status, percent, key)
    if operation == "promote":
        return state.promote(version, status)
    if operation == "retire":
        return state.retire(version, status)
    raise RolloutError(
        f"unknown operation {operation!r}; known: shadow, canary, promote, rollback, "
        "stop-shadow, retire"
    )
