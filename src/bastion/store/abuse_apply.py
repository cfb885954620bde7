"""Processed abuse reports into cases, idempotently, in one transaction per batch.

:func:`apply_batch` writes, in ONE transaction:

1. the reports (``INSERT ... ON CONFLICT (id) DO NOTHING RETURNING id``): a report already
   stored (a redelivered event) is skipped with all its effects, so nothing counts twice;
2. the cases they belong to: the previous window bucket's case when it saw a report within
   the window, else the current bucket's (created with ``ON CONFLICT (key) DO NOTHING``, so
   two consumers never open the same case twice; only the one that created it routes it);
3. the report-case links (primary key ``(case_id, report_id)``) and the counts, recomputed
   from the links (reports, distinct reporters, last report);
4. the reporters' report counts;
5. for each case it opened: the ``open`` action row, and outbox rows with unique keys: an
   urgent notice per recipient (``abuse:notify:<recipient>:<case key>``), or the case added
   to the recipient's daily digest (``abuse:digest:<recipient>:<day>``, due at the next
   00:00 UTC), and the CSAM report (kind ``report``, ``abuse:csam:<case key>``).

Notice payloads carry the reports as the recipient may see them
(:func:`bastion.abuse.privacy.report_view`): no reporter contact without consent.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from sqlalchemy import bindparam, case, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from bastion.abuse.cases import DEFAULT_WINDOW, CaseState
from bastion.abuse.memory import ApplyResult
from bastion.abuse.pipeline import CaseEntry, Processed
from bastion.abuse.privacy import report_view
from bastion.abuse.reports import Report
from bastion.abuse.routing import Audience, Recipient
from bastion.store.abuse_models import AbuseCase
from bastion.store.abuse_sql import (
    ACTIONS,
    CASES,
    CSAM_KIND,
    LINKS,
    OUTBOX,
    REPORTERS,
    REPORTS,
    bulk_insert,
    chunks,
    notice_row,
    now_utc,
    one_of,
)
from bastion.store.content_models import OutboxMessage
from bastion.store.db import Database

log = logging.getLogger("bastion.store.abuse")

#: A digest lists at most this many cases (the rest are counted in ``total``).
MAX_DIGEST_CASES = 500
_ATTEMPTS = 4
#: Errors after which the whole batch is retried.
_CONFLICTS = (OperationalError, IntegrityError, psycopg.OperationalError, psycopg.IntegrityError)


def _report_dict(report: Report, errors: Sequence[str] = ()) -> dict[str, Any]:
    data = report.model_dump(mode="json")
    data["errors"] = list(errors)
    return data


def _case_summary(entry: CaseEntry, case_id: int) -> dict[str, Any]:
    return {
        "id": case_id,
        "type": str(entry.type),
        "url": entry.url,
        "zone": entry.zone,
        "priority": f"P{int(entry.priority)}",
        "opened_at": entry.at.isoformat(),
        "sla_due_at": entry.sla_due.isoformat(),
    }


def apply_batch(
    database: Database,
    batch: Sequence[Processed],
    *,
    window: timedelta = DEFAULT_WINDOW,
    clock: Callable[[], datetime] = now_utc,
) -> ApplyResult:
    """Store ``batch`` in one transaction (see the module docstring); idempotent.

    Conflicts with a concurrent consumer (deadlocks, serialization failures, a busy SQLite
    file) roll back and retry the whole batch, a few times.
    """
    for attempt in range(1, _ATTEMPTS + 1):
        try:
            with database.session(write=True) as session:
                return _apply(session, batch, window, clock())
        except _CONFLICTS as exc:
            # Deadlocks and serialization failures (psycopg's own from the COPY path), a
            # busy SQLite file, a unique key a concurrent consumer took first.
            if attempt == _ATTEMPTS:
                raise
            log.warning("abuse batch conflict (attempt %d), retrying: %s", attempt, exc)
    raise AssertionError("unreachable")  # pragma: no cover


def _report_row(processed: Processed, now: datetime) -> dict[str, Any]:
    r = processed.report
    return {
        "id": r.id,
        "type": str(r.type),
        "received_at": r.received_at,
        "processed_at": now,
        "source": r.source[:80],
        "reporter_key": r.reporter_key,
        "reporter_name": r.reporter.name,
        "reporter_email": r.reporter.email,
        "reporter_org": r.reporter.organization,
        "consent": r.reporter.consent,
        "description": r.description,
        "urls": list(r.urls),
        "details": {
            "copyright": r.copyright.model_dump(mode="json") if r.copyright else None,
            "trademark": r.trademark,
            "errors": list(processed.errors),
        },
    }


def _case_row(entry: CaseEntry, key: str, now: datetime) -> dict[str, Any]:
    return {
        "key": key,
        "type": str(entry.type),
        "url": entry.url[:2048],
        "host": entry.host[:253],
        "zone": entry.zone,
        "state": CaseState.NEW.value,
        "queue": entry.routing.queue.value,
        "priority": int(entry.priority),
        "sla_due_at": entry.sla_due,
        "report_count": 0,
        "reporter_count": 0,
        "opened_at": entry.at,
        "last_report_at": entry.at,
        "updated_at": now,
        "assignee": None,
        "enforcement": None,
        "held": list(entry.routing.held),
    }


def _apply(
    session: Session, batch: Sequence[Processed], window: timedelta, now: datetime
) -> ApplyResult:
    unique: dict[str, Processed] = {}
    for processed in batch:
        unique.setdefault(processed.report.id, processed)
    if not unique:
        return ApplyResult(0, 0, 0, 0, 0)
    items = list(unique.values())
    rows = [_report_row(p, now) for p in items]
    inserted = bulk_insert(session, REPORTS, rows, conflict=["id"], returning=["id"])
    new_ids = {row[0] for row in inserted}
    fresh = [p for p in items if p.report.id in new_ids]
    duplicates = len(batch) - len(fresh)
    _count_reporters(session, fresh, now)
    entries = sorted(
        (e for p in fresh for e in p.entries), key=lambda e: (e.at, e.report_id, e.url)
    )
    if not entries:
        return ApplyResult(len(fresh), duplicates, 0, 0, 0)

    # Which case each entry joins.
    keys = sorted({k for e in entries for k in (e.keys.current, e.keys.previous)})
    known: dict[str, list[Any]] = {}  # key -> [id, last_report_at]
    for chunk in chunks(keys):
        for case_id, key, last in session.execute(
            select(AbuseCase.id, AbuseCase.key, AbuseCase.last_report_at).where(
                one_of(session, AbuseCase.key, chunk)
            )
        ):
            known[key] = [case_id, last]
    to_create: dict[str, CaseEntry] = {}
    joins: list[tuple[CaseEntry, str]] = []
    for e in entries:
        previous = known.get(e.keys.previous)
        if previous is not None and previous[1] >= e.at - window:
            key = e.keys.previous
            previous[1] = max(previous[1], e.at)
        else:
            key = e.keys.current
            if key not in known:
                to_create[key] = e
                known[key] = [None, e.at]  # its id comes from the INSERT below
            else:
                known[key][1] = max(known[key][1], e.at)
        joins.append((e, key))
    created: dict[str, int] = {}
    if to_create:
        rows = [_case_row(e, key, now) for key, e in sorted(to_create.items())]
        for case_id, key in bulk_insert(
            session, CASES, rows, conflict=["key"], returning=["id", "key"]
        ):
            created[key] = case_id
        raced = [key for key in to_create if key not in created]
        for chunk in chunks(raced):
            for case_id, key in session.execute(
                select(AbuseCase.id, AbuseCase.key).where(one_of(session, AbuseCase.key, chunk))
            ):
                known[key][0] = case_id
    ids: dict[str, int] = {key: value[0] for key, value in known.items() if value[0] is not None}
    ids |= created

    # Links and counts.
    links = {
        (ids[key], e.report_id): {
            "case_id": ids[key],
            "report_id": e.report_id,
            "reporter_key": e.reporter_key,
            "at": e.at,
        }
        for e, key in joins
    }
    _link(session, list(links.values()), now)

    notices = _open_cases(session, to_create, created, unique, now) if created else 0
    return ApplyResult(len(fresh), duplicates, len(created), len(joins), notices)


def _count_reporters(session: Session, fresh: Sequence[Processed], now: datetime) -> None:
    counts: dict[str, int] = defaultdict(int)
    for p in fresh:
        counts[p.report.reporter_key] += 1
    if not counts:
        return
    rows = [
        {
            "key": key,
            "reports": n,
            "actioned": 0,
            "rejected": 0,
            "first_seen_at": now,
            "last_seen_at": now,
        }
        for key, n in sorted(counts.items())
    ]
    bulk_insert(
        session, REPORTERS, rows, conflict=["key"], add=["reports"], replace=["last_seen_at"]
    )


def _link(session: Session, links: list[dict[str, Any]], now: datetime) -> None:
    """Insert the report-case links and add them to the cases' counts, exactly.

    The touched cases are locked first, in id order (PostgreSQL; SQLite's write lock
    serialises whole transactions), so two consumers adding to one case take turns: the
    second sees the first's links when it checks which reporters are new to the case.
    Only links actually inserted count, so a replayed batch adds nothing.
    """
    case_ids = sorted({link["case_id"] for link in links})
    for chunk in chunks(case_ids):
        locked = select(AbuseCase.id).where(one_of(session, AbuseCase.id, chunk))
        session.execute(locked.order_by(AbuseCase.id).with_for_update()).all()
    # Which (case, reporter) pairs exist already, before this batch's links go in (one
    # index scan on (case_id, reporter_key); extra pairs of the cross product are ignored).
    keys = sorted({link["reporter_key"] for link in links})
    seen: set[tuple[int, str]] = set()
    for chunk in chunks(case_ids):
        seen.update(
            (case_id, key)
            for case_id, key in session.execute(
                select(LINKS.c.case_id, LINKS.c.reporter_key)
                .where(one_of(session, LINKS.c.case_id, chunk))
                .where(one_of(session, LINKS.c.reporter_key, keys))
                .distinct()
            )
        )
    added = bulk_insert(
        session,
        LINKS,
        links,
        conflict=["case_id", "report_id"],
        returning=["case_id", "report_id", "reporter_key", "at"],
    )
    if not added:
        return
    pairs = sorted({(case_id, key) for case_id, _, key, _ in added})
    totals: dict[int, list[Any]] = {}  # case id -> [reports, new reporters, last report]
    for case_id, key in pairs:
        totals.setdefault(case_id, [0, 0, None])[1] += (case_id, key) not in seen
    for case_id, _, _, at in added:
        total = totals[case_id]
        total[0] += 1
        total[2] = at if total[2] is None or at > total[2] else total[2]
    stmt = (
        update(CASES)
        .where(CASES.c.id == bindparam("cid"))
        .values(
            report_count=CASES.c.report_count + bindparam("n"),
            reporter_count=CASES.c.reporter_count + bindparam("r"),
            last_report_at=case(
                (
                    CASES.c.last_report_at < bindparam("last", type_=CASES.c.updated_at.type),
                    bindparam("last", type_=CASES.c.updated_at.type),
                ),
                else_=CASES.c.last_report_at,
            ),
            updated_at=bindparam("now", type_=CASES.c.updated_at.type),
        )
    )
    rows = [
        {"cid": case_id, "n": n, "r": r, "last": last, "now": now}
        for case_id, (n, r, last) in sorted(totals.items())
    ]
    for chunk in chunks(rows):
        session.connection().execute(stmt, chunk)


def _next_midnight(now: datetime) -> datetime:
    day = now.astimezone(UTC).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _open_cases(
    session: Session,
    to_create: dict[str, CaseEntry],
    created: dict[str, int],
    reports: dict[str, Processed],
    now: datetime,
) -> int:
    """Routing effects of the cases this batch opened; returns the notices queued."""
    actions: list[dict[str, Any]] = []
    urgent_rows: list[dict[str, Any]] = []
    csam_rows: list[dict[str, Any]] = []
    digests: dict[Recipient, list[dict[str, Any]]] = defaultdict(list)
    for key, case_id in sorted(created.items(), key=lambda kv: kv[1]):
        entry = to_create[key]
        routing = entry.routing
        processed = reports[entry.report_id]
        stored = _report_dict(processed.report, processed.errors)
        actions.append(
            {
                "case_id": case_id,
                "at": now,
                "actor": "pipeline",
                "action": "open",
                "from_state": None,
                "to_state": CaseState.NEW.value,
                "reason": "",
                "detail": {
                    "queue": routing.queue.value,
                    "urgent": routing.urgent,
                    "csam_report": routing.csam_report,
                    "held": list(routing.held),
                    "recipients": [r.id for r in routing.recipients],
                },
            }
        )
        summary = _case_summary(entry, case_id)
        for recipient in routing.recipients:
            view = report_view(stored, recipient.audience)
            if routing.urgent:
                urgent_rows.append(
                    notice_row(
                        f"abuse:notify:{recipient.id}:{key}",
                        recipient,
                        entry.zone,
                        {"urgent": True, "case": summary, "report": view},
                        now,
                        now,
                    )
                )
            else:
                digests[recipient].append({**summary, "report": view})
        if routing.csam_report:
            csam_rows.append(
                {
                    "kind": CSAM_KIND,
                    "key": f"abuse:csam:{key}",
                    "zone": entry.zone,
                    "payload": {
                        "source": "abuse_desk",
                        "case_id": case_id,
                        "report_id": entry.report_id,
                        "incident_time": entry.at.isoformat(),
                        "url": entry.url,
                        "zone": entry.zone,
                        "zone_owner_contact": next(
                            (r.contact for r in routing.recipients if r.audience is Audience.OWNER),
                            None,
                        ),
                        "host_contact": next(
                            (r.contact for r in routing.recipients if r.audience is Audience.HOST),
                            None,
                        ),
                    },
                    "created_at": now,
                    "attempts": 0,
                    "next_attempt_at": now,
                    "delivered_at": None,
                    "last_error": None,
                }
            )
    bulk_insert(session, ACTIONS, actions)
    bulk_insert(session, OUTBOX, urgent_rows + csam_rows, conflict=["key"])
    queued = len(urgent_rows)
    for recipient, cases in sorted(digests.items(), key=lambda kv: kv[0].id):
        _add_to_digest(session, recipient, cases, now)
        queued += len(cases)
    return queued


def _add_to_digest(
    session: Session, recipient: Recipient, cases: list[dict[str, Any]], now: datetime
) -> None:
    """Append ``cases`` to the recipient's digest that is still open (not leased or sent):
    today's, or the next day's once today's went out."""
    due = _next_midnight(now)
    for _ in range(7):
        day = (due - timedelta(days=1)).date().isoformat()
        key = f"abuse:digest:{recipient.id}:{day}"
        row = session.scalars(
            select(OutboxMessage).where(OutboxMessage.key == key).with_for_update()
        ).first()
        if row is None:
            zone = recipient.id.split(":", 1)[1] if recipient.audience is Audience.OWNER else None
            body = {"urgent": False, "day": day, "cases": [], "total": 0}
            fresh = notice_row(key, recipient, zone, body, now, due)
            bulk_insert(session, OUTBOX, [fresh], conflict=["key"])
            continue  # read it back under the row lock
        if row.attempts == 0 and row.delivered_at is None:
            payload = dict(row.payload)
            listed = list(payload.get("cases", []))
            room = max(0, MAX_DIGEST_CASES - len(listed))
            payload["cases"] = listed + cases[:room]
            payload["total"] = int(payload.get("total", 0)) + len(cases)
            row.payload = payload
            return
        due = due + timedelta(days=1)
    raise RuntimeError(f"no open digest for {recipient.id} in a week")  # pragma: no cover
