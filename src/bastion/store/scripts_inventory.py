"""The script monitor's storage: inventory upserts, the fetch queue, versions, alerts and
policies, on SQLite and PostgreSQL.

Every write happens in one transaction per call, with ``INSERT ... ON CONFLICT`` so that
concurrent workers ingesting reports about the same resource neither fail nor double
count: the resource row is the lock, and the first insert of a key is what raises a
``new_script`` alert (its ``report_count`` is then exactly what this call added). An alert
row and its outbox message are written together; both are unique on the alert's key.
All SQL is built with SQLAlchemy expressions (bound parameters only).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bastion.scripts.monitor.alerts import (
    AlertSpec,
    observation_alerts,
    outbox_payload,
    version_alerts,
)
from bastion.scripts.monitor.inventory import (
    ACTIVE_MIN_REPORTS,
    INACTIVE_AFTER,
    RECENT_PAGES,
    ItemStatus,
    Observation,
    ResourceKind,
    status,
)
from bastion.scripts.monitor.policy import AllowPolicy
from bastion.scripts.result import ScriptResult
from bastion.store.audit import record_audit
from bastion.store.content_models import OutboxMessage
from bastion.store.db import Database
from bastion.store.scripts_models import (
    CspAlert,
    CspHost,
    CspPage,
    CspPolicy,
    CspResource,
    CspScriptVersion,
)

#: Outbox kind of alert messages: delivered by the notification sender (webhook).
ALERT_OUTBOX_KIND = "notification"


def url_hash(url: str) -> str:
    """The unique key of a URL (SHA-256, hex)."""
    return hashlib.sha256(url.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class IngestResult:
    """What one batch of observations changed."""

    observations: int
    new_resources: int
    #: Observations of new resources refused because the zone's inventory is full.
    dropped: int
    alerts: tuple[AlertSpec, ...] = ()


@dataclass(frozen=True)
class FetchJob:
    """A script a worker should fetch now (its lease ends at ``fetch_due_at``)."""

    resource_id: int
    zone: str
    url: str
    fetch_url: str
    attempts: int


@dataclass(frozen=True)
class KnownVerdict:
    """A verdict stored for a body (any zone), reusable without classifying again."""

    ast_hash: str
    result: ScriptResult


@dataclass
class _Agg:
    kind: ResourceKind
    url: str
    host: str
    count: int
    first: datetime
    last: datetime
    fetch_url: str | None
    pages: dict[str, datetime] = field(default_factory=dict)


@dataclass(frozen=True)
class _Room:
    """New URLs of a batch that do not fit in the zone's inventory."""

    refused: frozenset[str]


def _aggregate(observations: Iterable[Observation]) -> list[_Agg]:
    groups: dict[tuple[str, str], _Agg] = {}
    for obs in observations:
        agg = groups.get((obs.kind, obs.url))
        if agg is None:
            agg = groups[(obs.kind, obs.url)] = _Agg(
                obs.kind, obs.url, obs.host, 0, obs.seen_at, obs.seen_at, obs.fetch_url
            )
        agg.count += 1
        agg.first = min(agg.first, obs.seen_at)
        if obs.seen_at >= agg.last:
            agg.last = obs.seen_at
            agg.fetch_url = obs.fetch_url or agg.fetch_url
        if obs.page_url is not None:
            agg.pages[obs.page_url] = max(agg.pages.get(obs.page_url, obs.seen_at), obs.seen_at)
    # A fixed order of row locks: concurrent batches never deadlock on PostgreSQL.
    return sorted(groups.values(), key=lambda a: (a.kind, url_hash(a.url)))


def _insert(session: Session, table: Any) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def _greatest(session: Session, a: Any, b: Any) -> ColumnElement[Any]:
    if session.get_bind().dialect.name == "postgresql":
        return func.greatest(a, b)
    return func.max(a, b)


def _least(session: Session, a: Any, b: Any) -> ColumnElement[Any]:
    if session.get_bind().dialect.name == "postgresql":
        return func.least(a, b)
    return func.min(a, b)


class ScriptInventory:
    """The monitor's tables in one :class:`~bastion.store.db.Database`."""

    def __init__(
        self,
        database: Database,
        *,
        max_resources_per_zone: int = 10_000,
        refetch_after: timedelta = timedelta(hours=24),
        fetch_lease: timedelta = timedelta(minutes=2),
        max_fetch_attempts: int = 6,
    ) -> None:
        self.database = database
        self.max_resources_per_zone = max_resources_per_zone
        self.refetch_after = refetch_after
        self.fetch_lease = fetch_lease
        self.max_fetch_attempts = max_fetch_attempts

    # -- ingest ---------------------------------------------------------------------------

    def ingest(self, zone: str, observations: Sequence[Observation]) -> IngestResult:
        """Count ``observations`` (already normalized by the pure core) into ``zone``'s
        inventory; new scripts are queued for fetching. Returns what changed."""
        groups = _aggregate(observations)
        if not groups:
            return IngestResult(len(observations), 0, 0)
        alerts: list[AlertSpec] = []
        new_resources = dropped = 0
        with self.database.session(write=True) as session:
            room = self._room(session, zone, groups)
            for agg in groups:
                if room is not None and agg.url in room.refused:
                    dropped += agg.count
                    continue
                resource_id, count = self._upsert_resource(session, zone, agg)
                is_new = count == agg.count
                new_resources += is_new
                self._upsert_pages(session, resource_id, agg.pages)
                new_host = self._note_host(session, zone, agg.host, agg.first)
                obs = Observation(
                    agg.kind, agg.url, agg.host, _latest(agg.pages), agg.last, agg.fetch_url
                )
                for spec in observation_alerts(zone, obs, new_item=is_new, new_host=new_host):
                    if self._record_alert(session, spec, resource_id, agg.last):
                        alerts.append(spec)
        return IngestResult(len(observations), new_resources, dropped, tuple(alerts))

    def _room(self, session: Session, zone: str, groups: list[_Agg]) -> _Room | None:
        """Which new URLs do not fit in the zone's inventory (``None``: all fit)."""
        hashes = [url_hash(a.url) for a in groups]
        existing = set(
            session.execute(
                select(CspResource.kind, CspResource.url_hash).where(
                    CspResource.zone == zone, CspResource.url_hash.in_(hashes)
                )
            ).all()
        )
        new = [a for a, h in zip(groups, hashes, strict=True) if (a.kind, h) not in existing]
        if not new:
            return None
        total = session.scalar(
            select(func.count()).select_from(CspResource).where(CspResource.zone == zone)
        )
        free = max(0, self.max_resources_per_zone - int(total or 0))
        if len(new) <= free:
            return None
        # The most reported new resources are the likeliest to be real: they go in first.
        new.sort(key=lambda a: (-a.count, a.kind, url_hash(a.url)))
        return _Room(frozenset(a.url for a in new[free:]))

    def _upsert_resource(self, session: Session, zone: str, agg: _Agg) -> tuple[int, int]:
        script = agg.kind == "script"
        stmt = _insert(session, CspResource).values(
            zone=zone,
            kind=agg.kind,
            url=agg.url,
            url_hash=url_hash(agg.url),
            host=agg.host,
            first_seen_at=agg.first,
            last_seen_at=agg.last,
            report_count=agg.count,
            fetch_url=agg.fetch_url if script else None,
            fetch_state="pending" if script else None,
            fetch_due_at=agg.last if script else None,
            fetch_attempts=0,
        )
        table = CspResource.__table__
        excluded = stmt.excluded
        stmt = stmt.on_conflict_do_update(
            index_elements=["zone", "kind", "url_hash"],
            set_={
                "report_count": table.c.report_count + excluded.report_count,
                "first_seen_at": _least(session, table.c.first_seen_at, excluded.first_seen_at),
                "last_seen_at": _greatest(session, table.c.last_seen_at, excluded.last_seen_at),
                "fetch_url": func.coalesce(excluded.fetch_url, table.c.fetch_url),
            },
        ).returning(table.c.id, table.c.report_count)
        row = session.execute(stmt).one()
        return int(row[0]), int(row[1])

    def _upsert_pages(self, session: Session, resource_id: int, pages: dict[str, datetime]) -> None:
        if not pages:
            return
        table = CspPage.__table__
        # The newest pages only: older ones would be trimmed right away.
        newest = sorted(pages.items(), key=lambda kv: kv[1], reverse=True)[:RECENT_PAGES]
        for page, seen in newest:
            stmt = _insert(session, CspPage).values(
                resource_id=resource_id, url=page, url_hash=url_hash(page), last_seen_at=seen
            )
            stmt = stmt.on_conflict_do_update(
                index_elements=["resource_id", "url_hash"],
                set_={
                    "last_seen_at": _greatest(
                        session, table.c.last_seen_at, stmt.excluded.last_seen_at
                    )
                },
            )
            session.execute(stmt)
        keep = (
            select(CspPage.id)
            .where(CspPage.resource_id == resource_id)
            .order_by(CspPage.last_seen_at.desc(), CspPage.id.desc())
            .limit(RECENT_PAGES)
        )
        session.execute(
            delete(CspPage).where(CspPage.resource_id == resource_id, CspPage.id.not_in(keep))
        )

    def _note_host(self, session: Session, zone: str, host: str, seen: datetime) -> bool:
        stmt = (
            _insert(session, CspHost)
            .values(zone=zone, host=host, first_seen_at=seen)
            .on_conflict_do_nothing(index_elements=["zone", "host"])
            .returning(CspHost.__table__.c.id)
        )
        return session.execute(stmt).first() is not None

    def _record_alert(
        self, session: Session, spec: AlertSpec, resource_id: int | None, at: datetime
    ) -> bool:
        """Insert the alert and its outbox message; ``False`` when the key already exists."""
        stmt = (
            _insert(session, CspAlert)
            .values(
                zone=spec.zone,
                kind=spec.kind,
                severity=spec.severity,
                key=spec.key,
                url=spec.url,
                resource_id=resource_id,
                detail=spec.detail,
                created_at=at,
            )
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(CspAlert.__table__.c.id)
        )
        row = session.execute(stmt).first()
        if row is None:
            return False
        message = (
            _insert(session, OutboxMessage)
            .values(
                kind=ALERT_OUTBOX_KIND,
                key=spec.key,
                zone=spec.zone,
                payload=outbox_payload(spec, int(row[0]), at.isoformat()),
                created_at=at,
                attempts=0,
                next_attempt_at=at,
            )
            .on_conflict_do_nothing(index_elements=["key"])
        )
        session.execute(message)
        return True

    # -- the fetch queue ------------------------------------------------------------------

    def claim_due(self, now: datetime, limit: int = 10) -> list[FetchJob]:
        """Lease up to ``limit`` scripts due for a fetch (active ones only)."""
        with self.database.session(write=True) as session:
            rows = session.scalars(
                select(CspResource)
                .where(
                    CspResource.kind == "script",
                    CspResource.fetch_due_at <= now,
                    CspResource.last_seen_at > now - INACTIVE_AFTER,
                )
                .order_by(CspResource.fetch_due_at, CspResource.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            ).all()
            jobs = []
            for row in rows:
                row.fetch_state = "fetching"
                row.fetch_due_at = now + self.fetch_lease
                row.fetch_attempts += 1
                jobs.append(
                    FetchJob(
                        row.id, row.zone, row.url, row.fetch_url or row.url, row.fetch_attempts
                    )
                )
            return jobs

    def known_verdict(self, content_hash: str, model: str) -> KnownVerdict | None:
        """A verdict the same model gave this body before (in any zone), if any."""
        with self.database.session() as session:
            row = session.scalars(
                select(CspScriptVersion)
                .where(
                    CspScriptVersion.content_hash == content_hash, CspScriptVersion.model == model
                )
                .limit(1)
            ).first()
        if row is None:
            return None
        return KnownVerdict(row.ast_hash, _result_of(row))

    def record_version(
        self,
        job: FetchJob,
        content_hash: str,
        size: int,
        result: ScriptResult,
        model: str,
        now: datetime,
    ) -> list[AlertSpec]:
        """Store a fetched body's version and verdict; returns the alerts raised."""
        alerts: list[AlertSpec] = []
        with self.database.session(write=True) as session:
            resource = session.get(CspResource, job.resource_id, with_for_update=True)
            if resource is None:  # deleted meanwhile
                return []
            version = session.scalars(
                select(CspScriptVersion).where(
                    CspScriptVersion.resource_id == job.resource_id,
                    CspScriptVersion.content_hash == content_hash,
                )
            ).first()
            if version is None:
                earlier = set(
                    session.scalars(
                        select(CspScriptVersion.ast_hash).where(
                            CspScriptVersion.resource_id == job.resource_id
                        )
                    ).all()
                )
                version = CspScriptVersion(
                    resource_id=job.resource_id,
                    content_hash=content_hash,
                    ast_hash=result.ast_hash,
                    size=size,
                    verdict=result.cls,
                    js_integrity=result.js_integrity,
                    magecart=result.magecart,
                    cryptomining=result.cryptomining,
                    malware=result.malware,
                    model=model,
                    first_seen_at=now,
                    last_seen_at=now,
                )
                session.add(version)
                session.flush()
                specs = version_alerts(
                    job.zone, job.url, content_hash, result, earlier_ast_hashes=earlier
                )
                for spec in specs:
                    spec.detail["version_id"] = version.id
                    if self._record_alert(session, spec, job.resource_id, now):
                        alerts.append(spec)
            else:
                version.last_seen_at = now
            resource.current_version_id = version.id
            resource.fetch_state = "fetched"
            resource.fetched_at = now
            resource.fetch_error = None
            resource.fetch_attempts = 0
            resource.fetch_due_at = now + self.refetch_after
        return alerts

    def record_failure(self, job: FetchJob, error: str, now: datetime) -> None:
        """A failed fetch: retried with exponential backoff, then only at the refetch time."""
        delay = min(timedelta(minutes=1) * 2 ** max(0, job.attempts - 1), self.refetch_after)
        if job.attempts >= self.max_fetch_attempts:
            delay = self.refetch_after
        with self.database.session(write=True) as session:
            session.execute(
                update(CspResource)
                .where(CspResource.id == job.resource_id)
                .values(
                    fetch_state="failed",
                    fetch_error=error[:2000],
                    fetch_due_at=now + delay,
                    fetch_attempts=0 if job.attempts >= self.max_fetch_attempts else job.attempts,
                )
            )

    # -- reading --------------------------------------------------------------------------

    def list_resources(
        self,
        zone: str,
        now: datetime,
        *,
        kind: ResourceKind | None = None,
        state: ItemStatus | None = None,
        host: str | None = None,
        after_id: int = 0,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """The zone's inventory, oldest id first, with each item's status, pages and
        current version."""
        query = select(CspResource).where(CspResource.zone == zone, CspResource.id > after_id)
        if kind is not None:
            query = query.where(CspResource.kind == kind)
        if host is not None:
            query = query.where(CspResource.host == host)
        if state is not None:
            query = query.where(_status_clause(state, now))
        query = query.order_by(CspResource.id).limit(limit)
        with self.database.session() as session:
            rows = session.scalars(query).all()
            ids = [r.id for r in rows]
            pages = _pages_of(session, ids)
            versions = _current_versions(session, [r.current_version_id for r in rows])
            counted = session.execute(
                select(CspScriptVersion.resource_id, func.count())
                .where(CspScriptVersion.resource_id.in_(ids))
                .group_by(CspScriptVersion.resource_id)
            ).all()
            counts: dict[int, int] = {int(rid): int(n) for rid, n in counted}
        return [
            _resource_json(r, now, pages.get(r.id, []), versions, counts.get(r.id, 0)) for r in rows
        ]

    def get_resource(self, zone: str, resource_id: int, now: datetime) -> dict[str, Any] | None:
        """One item with every version (newest first); ``None`` if not in ``zone``."""
        with self.database.session() as session:
            row = session.get(CspResource, resource_id)
            if row is None or row.zone != zone:
                return None
            pages = _pages_of(session, [row.id])
            all_versions = session.scalars(
                select(CspScriptVersion)
                .where(CspScriptVersion.resource_id == row.id)
                .order_by(CspScriptVersion.first_seen_at.desc(), CspScriptVersion.id.desc())
            ).all()
        by_id = {v.id: v for v in all_versions}
        out = _resource_json(row, now, pages.get(row.id, []), by_id, len(all_versions))
        out["versions"] = [_version_json(v) for v in all_versions]
        return out

    def list_alerts(
        self, zone: str, *, kind: str | None = None, after_id: int = 0, limit: int = 100
    ) -> list[dict[str, Any]]:
        """The zone's alerts, oldest first, after ``after_id``."""
        query = select(CspAlert).where(CspAlert.zone == zone, CspAlert.id > after_id)
        if kind is not None:
            query = query.where(CspAlert.kind == kind)
        with self.database.session() as session:
            rows = session.scalars(query.order_by(CspAlert.id).limit(limit)).all()
        return [
            {
                "id": a.id,
                "kind": a.kind,
                "severity": a.severity,
                "url": a.url,
                "resource_id": a.resource_id,
                "detail": a.detail,
                "created_at": a.created_at.isoformat(),
            }
            for a in rows
        ]

    def script_urls(self, zone: str, now: datetime) -> tuple[list[str], list[str]]:
        """URLs of the zone's scripts and connections that are not inactive."""
        with self.database.session() as session:
            rows = session.execute(
                select(CspResource.kind, CspResource.url).where(
                    CspResource.zone == zone, CspResource.last_seen_at > now - INACTIVE_AFTER
                )
            ).all()
        scripts = [url for kind, url in rows if kind == "script"]
        return scripts, [url for kind, url in rows if kind == "connection"]

    # -- policies -------------------------------------------------------------------------

    def get_policy(self, zone: str) -> tuple[AllowPolicy, datetime | None, str | None] | None:
        """The zone's stored policy, when it was set and by whom; ``None`` if never set."""
        with self.database.session() as session:
            row = session.get(CspPolicy, zone)
        if row is None:
            return None
        return AllowPolicy.from_json(row.policy), row.updated_at, row.updated_by

    def put_policy(self, zone: str, policy: AllowPolicy, actor: str, now: datetime) -> None:
        """Store (or replace) the zone's policy, with an audit row (``csp_policy.put``)."""
        with self.database.session(write=True) as session:
            record_audit(
                session,
                actor=actor[:64],
                action="csp_policy.put",
                target=zone,
                detail=policy.to_json(),
                at=now,
            )
            stmt = _insert(session, CspPolicy).values(
                zone=zone, policy=policy.to_json(), updated_at=now, updated_by=actor[:64]
            )
            stmt = stmt.on_conflict_do_update(
                index_elements=["zone"],
                set_={
                    "policy": stmt.excluded.policy,
                    "updated_at": stmt.excluded.updated_at,
                    "updated_by": stmt.excluded.updated_by,
                },
            )
            session.execute(stmt)


def _latest(pages: dict[str, datetime]) -> str | None:
    return max(pages, key=lambda p: pages[p]) if pages else None


def _status_clause(state: ItemStatus, now: datetime) -> ColumnElement[bool]:
    cutoff = now - INACTIVE_AFTER
    if state == "inactive":
        return CspResource.last_seen_at <= cutoff
    frequent = CspResource.report_count >= ACTIVE_MIN_REPORTS
    recent = CspResource.last_seen_at > cutoff
    return and_(recent, frequent if state == "active" else ~frequent)


def _pages_of(session: Session, ids: list[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    if not ids:
        return out
    rows = session.execute(
        select(CspPage.resource_id, CspPage.url)
        .where(CspPage.resource_id.in_(ids))
        .order_by(CspPage.resource_id, CspPage.last_seen_at.desc(), CspPage.id.desc())
    ).all()
    for resource_id, url in rows:
        out.setdefault(resource_id, []).append(url)
    return out


def _current_versions(session: Session, ids: list[int | None]) -> dict[int, CspScriptVersion]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    rows = session.scalars(select(CspScriptVersion).where(CspScriptVersion.id.in_(wanted))).all()
    return {v.id: v for v in rows}


def _result_of(v: CspScriptVersion) -> ScriptResult:
    return ScriptResult(
        js_integrity=v.js_integrity,
        magecart=v.magecart,
        cryptomining=v.cryptomining,
        malware=v.malware,
        cls=v.verdict,  # type: ignore[arg-type]
        ast_hash=v.ast_hash,
    )


def _version_json(v: CspScriptVersion) -> dict[str, Any]:
    return {
        "id": v.id,
        "content_hash": v.content_hash,
        "ast_hash": v.ast_hash,
        "size": v.size,
        "class": v.verdict,
        "scores": _result_of(v).scores(),
        "model": v.model,
        "first_seen": v.first_seen_at.isoformat(),
        "last_seen": v.last_seen_at.isoformat(),
    }


def _resource_json(
    r: CspResource,
    now: datetime,
    pages: list[str],
    versions: dict[int, CspScriptVersion],
    version_count: int,
) -> dict[str, Any]:
    current = versions.get(r.current_version_id) if r.current_version_id is not None else None
    out: dict[str, Any] = {
        "id": r.id,
        "kind": r.kind,
        "url": r.url,
        "host": r.host,
        "first_seen": r.first_seen_at.isoformat(),
        "last_seen": r.last_seen_at.isoformat(),
        "report_count": r.report_count,
        "status": status(r.report_count, r.last_seen_at, now),
        "pages": pages,
    }
    if r.kind == "script":
        out["fetch"] = {
            "state": r.fetch_state,
            "fetched_at": r.fetched_at.isoformat() if r.fetched_at else None,
            "error": r.fetch_error,
        }
        out["version_count"] = version_count
        out["current_version"] = _version_json(current) if current is not None else None
    return out
