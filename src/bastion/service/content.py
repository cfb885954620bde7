"""Content scanning in the service: hash, match, and record blocks, evidence and messages.

On a match, :meth:`ContentService.scan` writes in ONE transaction: the block (created,
kept or reopened), the evidence row, a ``report`` outbox row and the zone's daily digest
``notification`` (and audit rows): a process kill loses all of it or none.

At most one digest per zone per UTC day is enforced when enqueuing: the outbox key
``notification:<zone>:<day>`` is unique; new blocks join the zone's undelivered digest,
or, once today's was sent, tomorrow's (due at 00:00 UTC).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bastion.auth.principal import InvalidZoneError, Principal, normalize_zone
from bastion.content import (
    ContentError,
    ContentHashes,
    CsvDirectoryStore,
    DecodeLimits,
    EmptyContent,
    Match,
    Matcher,
    ScanResult,
    TooLarge,
    hash_content,
)
from bastion.service.content_cache import HashCache
from bastion.store.audit import record_audit
from bastion.store.content_models import (
    ContentAppeal,
    ContentBlock,
    ContentEvidence,
    OutboxMessage,
)
from bastion.store.db import Database

_RETRIES: Final = 3


class ContentInputError(ValueError):
    """A bad ``url`` or ``zone``."""


class BlockNotFound(LookupError):
    """No block with that id (or not one the caller may see)."""


class BlockStateError(ValueError):
    """The block is in a state that does not allow the transition."""

    def __init__(self, block_id: int, state: str, wanted: str) -> None:
        super().__init__(f"block {block_id} is '{state}'; {wanted}")
        self.state = state


def url_path(url: str) -> str:
    """The path the edge check matches: an absolute URL's path, or ``url`` itself."""
    if not url or len(url) > 2048:
        raise ContentInputError("url must be 1-2048 characters")
    parts = urlsplit(url)
    path = parts.path or "/"
    if not path.startswith("/"):
        raise ContentInputError(f"url {url!r} is neither absolute nor a path starting with '/'")
    return path


def zone_name(zone: str) -> str:
    try:
        return normalize_zone(zone)
    except InvalidZoneError as exc:
        raise ContentInputError(str(exc)) from None


def _day(at: datetime) -> str:
    return at.astimezone(UTC).date().isoformat()


def block_json(block: ContentBlock) -> dict[str, Any]:
    return {
        "id": block.id,
        "zone": block.zone,
        "url": block.url,
        "sha256": block.sha256,
        "state": block.state,
        "bank": block.bank,
        "distance": block.distance,
        "entries": block.entry_ids,
        "created_at": block.created_at.isoformat(),
        "updated_at": block.updated_at.isoformat(),
    }


def enqueue_digest(session: Session, zone: str, items: list[dict[str, Any]], now: datetime) -> None:
    """Add ``items`` to ``zone``'s next digest (see the module docstring)."""
    pending = session.scalars(
        select(OutboxMessage)
        .where(
            OutboxMessage.kind == "notification",
            OutboxMessage.zone == zone,
            OutboxMessage.delivered_at.is_(None),
        )
        .order_by(OutboxMessage.id)
        .limit(1)
    ).first()
    if pending is not None:
        pending.payload = {**pending.payload, "blocks": [*pending.payload["blocks"], *items]}
        return
    day = now.astimezone(UTC).date()
    due = now
    if session.scalars(
        select(OutboxMessage.id).where(OutboxMessage.key == f"notification:{zone}:{day}")
    ).first():
        day = day + timedelta(days=1)
        due = datetime(day.year, day.month, day.day, tzinfo=UTC)
    session.add(
        OutboxMessage(
            kind="notification",
            key=f"notification:{zone}:{day.isoformat()}",
            zone=zone,
            payload={"zone": zone, "day": day.isoformat(), "blocks": items},
            created_at=now,
            attempts=0,
            next_attempt_at=due,
        )
    )


@dataclass(frozen=True)
class ScanOutcome:
    """One scan: the hashes and matches, the block (if any) and whether the cache hit."""

    result: ScanResult
    sha256: str
    cached: bool
    block: dict[str, Any] | None

    def to_json(self) -> dict[str, Any]:
        r = self.result
        pdq = r.hashes.get("pdq")
        md5 = r.hashes.get("md5")
        image = r.image
        return {
            "sha256": self.sha256,
            "md5": md5.value if md5 else None,
            "pdq": pdq.value if pdq else None,
            "quality": pdq.quality if pdq else None,
            "image": None
            if image is None
            else {"width": image.width, "height": image.height, "format": image.format},
            "errors": {n: {"code": e.code, "message": str(e)} for n, e in r.errors.items()},
            "matched": r.matched,
            "matches": [m.to_json() for m in r.matches],
            "suppressed": [m.to_json() for m in r.suppressed],
            "low_quality": list(r.low_quality),
            "block": self.block,
            "cached": self.cached,
        }


class BankSource:
    """The matcher built from a bank directory, rebuilt when its files change."""

    def __init__(self, banks_dir: Path, refresh_s: float) -> None:
        self.banks_dir = banks_dir
        self.refresh_s = refresh_s
        self._lock = threading.Lock()
        self._stamp = self._fingerprint()
        self._matcher = Matcher(CsvDirectoryStore(banks_dir).load_all())
        self._checked = time.monotonic()

    def _fingerprint(self) -> tuple[tuple[str, int, int], ...]:
        if not self.banks_dir.is_dir():
            return ()
        return tuple(
            sorted(
                (p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in self.banks_dir.iterdir()
            )
        )

    @property
    def matcher(self) -> Matcher:
        """The current matcher (reloaded at most every ``refresh_s`` seconds)."""
        if time.monotonic() - self._checked >= self.refresh_s and self._lock.acquire(
            blocking=False
        ):
            try:
                self._checked = time.monotonic()
                stamp = self._fingerprint()
                if stamp != self._stamp:
                    self._matcher = Matcher(CsvDirectoryStore(self.banks_dir).load_all())
                    self._stamp = stamp
            finally:
                self._lock.release()
        return self._matcher


class ContentService:
    """Scans and the review workflow over one database."""

    def __init__(
        self,
        database: Database,
        matcher: Callable[[], Matcher],
        cache: HashCache,
        limits: DecodeLimits,
        *,
        on_block: Callable[[str, str, str], None] | None = None,
    ) -> None:
        self.database = database
        self._matcher = matcher
        self.cache = cache
        self.limits = limits
        #: Called with (zone, path, state) after a block change commits (edge sets).
        self.on_block = on_block

    # ------------------------------------------------------------------ scanning

    def hashes(self, data: bytes, *, dihedral: bool = False) -> tuple[str, ContentHashes, bool]:
        """SHA-256, the hashes (from the cache when seen before) and whether it hit."""
        sha256 = hashlib.sha256(data).hexdigest()
        key = f"{sha256}:{int(dihedral)}"
        hit = self.cache.get(key)
        if hit is not None:
            return sha256, hit, True
        found = hash_content(data, limits=self.limits, fast=True, dihedral=dihedral)
        if not found.errors:
            self.cache.put(key, found)
        return sha256, found, False

    def scan(
        self, data: bytes, url: str, zone: str, *, actor: str, dihedral: bool = False
    ) -> ScanOutcome:
        """Hash and match ``data`` served at ``url`` of ``zone``; record a match durably."""
        path, zone = url_path(url), zone_name(zone)
        if not data:
            raise EmptyContent("the body is empty: send the image bytes")
        if len(data) > self.limits.max_bytes:
            raise TooLarge(f"{len(data)} bytes; the limit is {self.limits.max_bytes}")
        sha256, found, cached = self.hashes(data, dihedral=dihedral)
        result = self._matcher().match(found)
        block = None
        if result.matched:
            block = self._record(result, sha256, path, zone, url, actor)
        return ScanOutcome(result, sha256, cached, block)

    def _record(
        self, result: ScanResult, sha256: str, path: str, zone: str, url: str, actor: str
    ) -> dict[str, Any]:
        for attempt in range(_RETRIES):
            try:
                with self.database.session(write=True) as session:
                    block = self._record_in(session, result, sha256, path, zone, url, actor)
                    out = block_json(block)
                break
            except IntegrityError:
                # Another worker recorded the same (zone, URL) or digest concurrently.
                if attempt == _RETRIES - 1:
                    raise
        if self.on_block is not None:
            self.on_block(zone, path, out["state"])
        return out

    def _record_in(
        self,
        session: Session,
        result: ScanResult,
        sha256: str,
        path: str,
        zone: str,
        url: str,
        actor: str,
    ) -> ContentBlock:
        now = datetime.now(UTC)
        best: Match = result.matches[0]
        entries = [
            {
                "bank": m.bank,
                "hash": m.entry.hash,
                "indicator_id": m.entry.indicator_id,
                "descriptor_id": m.entry.descriptor_id,
                "distance": m.distance,
            }
            for m in result.matches
        ]
        block = session.scalars(
            select(ContentBlock).where(ContentBlock.zone == zone, ContentBlock.url == path)
        ).first()
        if block is None:
            block = ContentBlock(
                zone=zone,
                url=path,
                sha256=sha256,
                state="active",
                bank=best.bank,
                distance=best.distance,
                entry_ids=entries,
                created_at=now,
                updated_at=now,
            )
            session.add(block)
            session.flush()
            record_audit(
                session,
                actor=actor,
                action="content_block.create",
                target=f"content_block:{block.id}",
                detail={"zone": zone, "url": path, "sha256": sha256, "to": "active"},
                at=now,
            )
        elif block.state == "resolved" and block.sha256 != sha256:
            # New content at a URL whose block was lifted: a new finding.
            record_audit(
                session,
                actor=actor,
                action="content_block.reopen",
                target=f"content_block:{block.id}",
                detail={"from": "resolved", "to": "active", "sha256": sha256},
                at=now,
            )
            block.state, block.sha256, block.updated_at = "active", sha256, now
            block.bank, block.distance, block.entry_ids = best.bank, best.distance, entries
        evidence = session.scalars(
            select(ContentEvidence).where(
                ContentEvidence.block_id == block.id, ContentEvidence.sha256 == sha256
            )
        ).first()
        if evidence is not None:
            evidence.last_seen_at = now
            return block
        md5, pdq = result.hashes.get("md5"), result.hashes.get("pdq")
        evidence = ContentEvidence(
            block_id=block.id,
            zone=zone,
            url=url,
            sha256=sha256,
            md5=md5.value if md5 else None,
            pdq=pdq.value if pdq else None,
            quality=pdq.quality if pdq else None,
            matches=entries,
            first_seen_at=now,
            last_seen_at=now,
        )
        session.add(evidence)
        session.flush()
        session.add(
            OutboxMessage(
                kind="report",
                key=f"report:{evidence.id}",
                zone=zone,
                payload=_report(evidence, block, now),
                created_at=now,
                attempts=0,
                next_attempt_at=now,
            )
        )
        item = {
            "block_id": block.id,
            "url": url,
            "sha256": sha256,
            "bank": best.bank,
            "distance": best.distance,
            "at": now.isoformat(),
        }
        enqueue_digest(session, zone, [item], now)
        return block

    # ------------------------------------------------------------------ review workflow

    def list_blocks(
        self,
        *,
        zone: str | None = None,
        state: str | None = None,
        zones: frozenset[str] | None = None,
        limit: int = 100,
        after_id: int = 0,
    ) -> list[dict[str, Any]]:
        """Blocks, oldest first; ``zones`` restricts to those zones (site owners)."""
        query = select(ContentBlock).where(ContentBlock.id > after_id)
        if zone is not None:
            query = query.where(ContentBlock.zone == zone_name(zone))
        if state is not None:
            query = query.where(ContentBlock.state == state)
        if zones is not None:
            query = query.where(ContentBlock.zone.in_(sorted(zones)))
        with self.database.session() as session:
            rows = session.scalars(query.order_by(ContentBlock.id).limit(limit)).all()
            return [block_json(b) for b in rows]

    def get_block(self, block_id: int) -> dict[str, Any]:
        with self.database.session() as session:
            block = session.get(ContentBlock, block_id)
            if block is None:
                raise BlockNotFound(f"no block {block_id}")
            out = block_json(block)
            appeals = session.scalars(
                select(ContentAppeal)
                .where(ContentAppeal.block_id == block_id)
                .order_by(ContentAppeal.id)
            ).all()
            out["appeals"] = [_appeal_json(a) for a in appeals]
            return out

    def block_zone(self, block_id: int) -> str:
        with self.database.session() as session:
            block = session.get(ContentBlock, block_id)
            if block is None:
                raise BlockNotFound(f"no block {block_id}")
            return block.zone

    def _transition(
        self,
        block_id: int,
        *,
        allowed_from: Sequence[str],
        to: str,
        actor: str,
        verb: str,
        change: Callable[[Session, ContentBlock, datetime], None],
        detail: dict[str, Any],
    ) -> dict[str, Any]:
        with self.database.session(write=True) as session:
            block = session.get(ContentBlock, block_id)
            if block is None:
                raise BlockNotFound(f"no block {block_id}")
            if block.state not in allowed_from:
                raise BlockStateError(
                    block_id, block.state, f"{verb} needs {' or '.join(allowed_from)}"
                )
            now = datetime.now(UTC)
            record_audit(
                session,
                actor=actor,
                action=f"content_block.{verb}",
                target=f"content_block:{block.id}",
                detail={"from": block.state, "to": to, **detail},
                at=now,
            )
            change(session, block, now)
            block.state, block.updated_at = to, now
            session.flush()
            out = block_json(block)
        if self.on_block is not None:
            self.on_block(out["zone"], out["url"], to)
        return out

    def appeal(self, block_id: int, statement: str, *, actor: str) -> dict[str, Any]:
        """The zone owner asks for review: ``active`` -> ``pending`` (still blocked)."""

        def change(session: Session, block: ContentBlock, now: datetime) -> None:
            session.add(
                ContentAppeal(
                    block_id=block.id, statement=statement, requested_by=actor, requested_at=now
                )
            )

        return self._transition(
            block_id,
            allowed_from=("active",),
            to="pending",
            actor=actor,
            verb="appeal",
            change=change,
            detail={"statement": statement[:500]},
        )

    def start_review(self, block_id: int, *, actor: str) -> dict[str, Any]:
        """Trust & safety claims the appeal: ``pending`` -> ``in_review``."""

        def change(session: Session, block: ContentBlock, now: datetime) -> None:
            appeal = _open_appeal(session, block.id)
            if appeal is not None:
                appeal.reviewer, appeal.review_started_at = actor, now

        return self._transition(
            block_id,
            allowed_from=("pending",),
            to="in_review",
            actor=actor,
            verb="review",
            change=change,
            detail={},
        )

    def decide(self, block_id: int, decision: str, reason: str, *, actor: str) -> dict[str, Any]:
        """``in_review`` -> ``resolved`` (lifted) or ``active`` (upheld)."""
        if decision not in ("resolved", "active"):
            raise ContentInputError("decision must be 'resolved' (lift) or 'active' (uphold)")

        def change(session: Session, block: ContentBlock, now: datetime) -> None:
            appeal = _open_appeal(session, block.id)
            if appeal is not None:
                appeal.decided_by, appeal.decision = actor, decision
                appeal.reason, appeal.decided_at = reason, now

        return self._transition(
            block_id,
            allowed_from=("in_review",),
            to=decision,
            actor=actor,
            verb="decide",
            change=change,
            detail={"decision": decision, "reason": reason[:500]},
        )

    def may_see(self, principal: Principal | None, zone: str) -> bool:
        return principal is None or bool(principal.permissions(zone))


def _open_appeal(session: Session, block_id: int) -> ContentAppeal | None:
    return session.scalars(
        select(ContentAppeal)
        .where(ContentAppeal.block_id == block_id, ContentAppeal.decided_at.is_(None))
        .order_by(ContentAppeal.id.desc())
        .limit(1)
    ).first()


def _appeal_json(a: ContentAppeal) -> dict[str, Any]:
    def iso(t: datetime | None) -> str | None:
        return None if t is None else t.isoformat()

    return {
        "id": a.id,
        "statement": a.statement,
        "requested_by": a.requested_by,
        "requested_at": iso(a.requested_at),
        "reviewer": a.reviewer,
        "review_started_at": iso(a.review_started_at),
        "decided_by": a.decided_by,
        "decision": a.decision,
        "reason": a.reason,
        "decided_at": iso(a.decided_at),
    }


def _report(evidence: ContentEvidence, block: ContentBlock, now: datetime) -> dict[str, Any]:
    """A report modelled on NCMEC CyberTipline fields (incident, URL, files, reporter)."""
    return {
        "report_type": "content_match",
        "incident": {"time": evidence.first_seen_at.isoformat(), "type": "hash_match"},
        "url": evidence.url,
        "zone": evidence.zone,
        "block_id": block.id,
        "evidence_id": evidence.id,
        "file": {
            "sha256": evidence.sha256,
            "md5": evidence.md5,
            "pdq": evidence.pdq,
            "pdq_quality": evidence.quality,
        },
        "matches": evidence.matches,
        "distance": block.distance,
        "created_at": now.isoformat(),
    }


def content_error_json(exc: ContentError) -> dict[str, Any]:
    return {"error": str(exc), "code": exc.code}
