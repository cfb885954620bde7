"""Abuse desk storage: zones and contacts, reputations, case queries and staff actions.

Processed reports are written by :func:`bastion.store.abuse_apply.apply_batch` (re-exported
here). Actions run in one transaction with their action row, the audit row
(:func:`~bastion.store.audit.record_audit`), reputation updates and outbox notices.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bastion.abuse.cases import (
    ENFORCEMENT,
    RECHECK_VALID,
    ActionRequest,
    CaseAction,
    CaseState,
    Priority,
    escalated,
    next_state,
)
from bastion.abuse.errors import RecheckRequiredError
from bastion.abuse.privacy import report_view
from bastion.abuse.reputation import Reputation
from bastion.abuse.routing import Audience, recipients_of
from bastion.abuse.zones import ZoneDirectory, ZoneInfo
from bastion.auth.principal import normalize_zone
from bastion.store.abuse_apply import apply_batch
from bastion.store.abuse_models import (
    AbuseCase,
    AbuseCaseAction,
    AbuseCaseReport,
    AbuseReport,
    AbuseReporter,
    AbuseZoneContact,
)
from bastion.store.abuse_sql import OUTBOX, REPORTERS, chunks, insert, notice_row, now_utc, one_of
from bastion.store.audit import record_audit
from bastion.store.db import Database
from bastion.store.models import Zone

__all__ = [
    "ActionOutcome",
    "CaseNotFound",
    "act",
    "apply_batch",
    "case_json",
    "case_zone",
    "get_case",
    "list_cases",
    "load_zones",
    "report_json",
    "reputations",
    "set_zone_contacts",
]


class CaseNotFound(LookupError):
    """No case with that id."""


def load_zones(session: Session) -> ZoneDirectory:
    """Every registered zone with its abuse contacts."""
    rows = session.execute(
        select(
            Zone.name,
            AbuseZoneContact.owner_contact,
            AbuseZoneContact.host,
            AbuseZoneContact.host_contact,
        ).outerjoin(AbuseZoneContact, AbuseZoneContact.zone_id == Zone.id)
    )
    return ZoneDirectory(ZoneInfo(*row) for row in rows)


def set_zone_contacts(
    session: Session,
    zone: str,
    *,
    owner_contact: str | None,
    host: str | None,
    host_contact: str | None,
    actor: str,
    now: datetime | None = None,
) -> ZoneInfo:
    """Register ``zone`` (if new) with its owner's and host's abuse contacts (audited)."""
    name = normalize_zone(zone)
    now = now or now_utc()
    row = session.scalars(select(Zone).where(Zone.name == name)).first()
    if row is None:
        row = Zone(name=name, created_at=now)
        session.add(row)
        session.flush()
    contact = session.get(AbuseZoneContact, row.id)
    if contact is None:
        contact = AbuseZoneContact(zone_id=row.id, updated_at=now)
        session.add(contact)
    contact.owner_contact, contact.host, contact.host_contact = owner_contact, host, host_contact
    contact.updated_at = now
    record_audit(
        session,
        actor=actor,
        action="abuse_zone.contacts",
        target=f"zone:{name}",
        detail={"owner_contact": owner_contact, "host": host, "host_contact": host_contact},
        at=now,
    )
    return ZoneInfo(name, owner_contact, host, host_contact)


def reputations(session: Session, keys: Collection[str]) -> dict[str, Reputation]:
    """The track record of each reporter key that has one."""
    out: dict[str, Reputation] = {}
    for chunk in chunks(sorted(keys)):
        for key, reports, actioned, rejected in session.execute(
            select(
                AbuseReporter.key,
                AbuseReporter.reports,
                AbuseReporter.actioned,
                AbuseReporter.rejected,
            ).where(one_of(session, AbuseReporter.key, chunk))
        ):
            out[key] = Reputation(reports, actioned, rejected)
    return out


def report_json(row: AbuseReport) -> dict[str, Any]:
    """A stored report in its full (staff) form; see ``report_view`` for other audiences."""
    details = row.details or {}
    return {
        "id": row.id,
        "type": row.type,
        "urls": list(row.urls),
        "description": row.description,
        "reporter": {
            "name": row.reporter_name,
            "email": row.reporter_email,
            "organization": row.reporter_org,
            "consent": row.consent,
        },
        "copyright": details.get("copyright"),
        "trademark": details.get("trademark", ""),
        "source": row.source,
        "received_at": row.received_at.isoformat(),
        "errors": details.get("errors", []),
    }


def case_json(case: AbuseCase, now: datetime | None = None) -> dict[str, Any]:
    now = now or now_utc()
    open_ = case.state in (CaseState.NEW, CaseState.TRIAGED)
    return {
        "id": case.id,
        "type": case.type,
        "url": case.url,
        "host": case.host,
        "zone": case.zone,
        "state": case.state,
        "queue": case.queue,
        "priority": f"P{case.priority}",
        "sla_due_at": case.sla_due_at.isoformat(),
        "sla_breached": open_ and now > case.sla_due_at,
        "report_count": case.report_count,
        "reporter_count": case.reporter_count,
        "opened_at": case.opened_at.isoformat(),
        "last_report_at": case.last_report_at.isoformat(),
        "updated_at": case.updated_at.isoformat(),
        "assignee": case.assignee,
        "enforcement": case.enforcement,
        "held": list(case.held),
    }


def list_cases(
    session: Session,
    *,
    state: str | None = None,
    type: str | None = None,
    zone: str | None = None,
    queue: str | None = None,
    zones: Collection[str] | None = None,
    offset: int = 0,
    limit: int = 100,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """Cases, most urgent first (priority, then SLA); ``zones`` restricts to those zones."""
    query = select(AbuseCase)
    if state is not None:
        query = query.where(AbuseCase.state == state)
    if type is not None:
        query = query.where(AbuseCase.type == type)
    if zone is not None:
        query = query.where(AbuseCase.zone == zone)
    if queue is not None:
        query = query.where(AbuseCase.queue == queue)
    if zones is not None:
        query = query.where(AbuseCase.zone.in_(sorted(zones)))
    query = query.order_by(AbuseCase.priority, AbuseCase.sla_due_at, AbuseCase.id)
    rows = session.scalars(query.offset(offset).limit(limit)).all()
    return [case_json(c, now) for c in rows]


def case_zone(session: Session, case_id: int) -> str:
    zone = session.scalars(select(AbuseCase.zone).where(AbuseCase.id == case_id)).first()
    if zone is None:
        raise CaseNotFound(f"no case {case_id}")
    return zone


def get_case(session: Session, case_id: int, now: datetime | None = None) -> dict[str, Any]:
    """The case, its reports (staff form) and its actions."""
    case = session.get(AbuseCase, case_id)
    if case is None:
        raise CaseNotFound(f"no case {case_id}")
    reports = session.scalars(
        select(AbuseReport)
        .join(AbuseCaseReport, AbuseCaseReport.report_id == AbuseReport.id)
        .where(AbuseCaseReport.case_id == case_id)
        .order_by(AbuseReport.received_at, AbuseReport.id)
        .limit(1000)
    ).all()
    actions = session.scalars(
        select(AbuseCaseAction)
        .where(AbuseCaseAction.case_id == case_id)
        .order_by(AbuseCaseAction.id)
    ).all()
    return {
        **case_json(case, now),
        "reports": [report_json(r) for r in reports],
        "actions": [action_json(a) for a in actions],
    }


def action_json(row: AbuseCaseAction) -> dict[str, Any]:
    return {
        "id": row.id,
        "at": row.at.isoformat(),
        "actor": row.actor,
        "action": row.action,
        "from_state": row.from_state,
        "to_state": row.to_state,
        "reason": row.reason,
        "detail": row.detail,
    }


@dataclass(frozen=True)
class ActionOutcome:
    """The case after the action, the action row, and how many notices were queued."""

    case: dict[str, Any]
    action: dict[str, Any]
    notices: int


def act(
    database: Database,
    case_id: int,
    request: ActionRequest,
    *,
    actor: str,
    clock: Callable[[], datetime] = now_utc,
) -> ActionOutcome:
    """Apply ``request`` to the case in one transaction, with its action row, audit row,
    reputation updates and notices. Raises :class:`CaseNotFound` or
    :class:`~bastion.abuse.errors.InvalidActionError`."""
    now = clock()
    with database.session(write=True) as session:
        case = session.get(AbuseCase, case_id, with_for_update=True)
        if case is None:
            raise CaseNotFound(f"no case {case_id}")
        before = CaseState(case.state)
        after = next_state(before, request)
        detail: dict[str, Any] = {}
        action = request.action
        if action is CaseAction.CLOSE and before is not CaseState.REJECTED:
            detail["recheck"] = _check_recheck(session, case.id, now, override=request.override)
        if action in ENFORCEMENT:
            case.enforcement = {
                "action": action.value,
                "countries": sorted({c.upper() for c in request.countries}),
                "at": now.isoformat(),
                "by": actor,
            }
            detail["enforcement"] = case.enforcement
            if before is not CaseState.ACTIONED:
                _bump_reporters(session, case.id, "actioned")
        elif action is CaseAction.ESCALATE:
            detail["priority"] = {"from": f"P{case.priority}"}
            case.priority = int(escalated(Priority(case.priority)))
            case.queue = "analyst"
            case.sla_due_at = min(case.sla_due_at, now + timedelta(hours=1))
            detail["priority"]["to"] = f"P{case.priority}"
        elif action is CaseAction.REJECT:
            _bump_reporters(session, case.id, "rejected")
        if request.assignee:
            case.assignee = request.assignee.strip()[:64]
            detail["assignee"] = case.assignee
        case.state = after.value
        case.updated_at = now
        row = AbuseCaseAction(
            case_id=case.id,
            at=now,
            actor=actor,
            action=action.value,
            from_state=before.value,
            to_state=after.value,
            reason=request.reason.strip(),
            detail=detail,
        )
        session.add(row)
        session.flush()
        notices = 0
        if action is CaseAction.NOTIFY or action in ENFORCEMENT:
            notices = _notify_for_action(session, case, row, now)
            detail["notices"] = notices
            row.detail = dict(detail)
        record_audit(
            session,
            actor=actor,
            action=f"abuse_case.{action.value}",
            target=f"abuse_case:{case.id}",
            detail={"from": before.value, "to": after.value, "reason": row.reason, **detail},
            at=now,
        )
        session.flush()
        return ActionOutcome(case_json(case, now), action_json(row), notices)


def _check_recheck(
    session: Session, case_id: int, now: datetime, *, override: bool
) -> dict[str, Any]:
    """The case's latest re-check, which must have found the URL gone within
    :data:`RECHECK_VALID` for a close; with ``override`` it is only recorded. Raises
    :class:`RecheckRequiredError`."""
    last = session.scalars(
        select(AbuseCaseAction)
        .where(AbuseCaseAction.case_id == case_id, AbuseCaseAction.action == "recheck")
        .order_by(AbuseCaseAction.id.desc())
        .limit(1)
    ).first()
    outcome = str((last.detail or {}).get("outcome", "")) if last is not None else None
    at = _aware(last.at) if last is not None else None
    seen = {"outcome": outcome, "at": at.isoformat() if at is not None else None}
    if override:
        return {**seen, "override": True}
    if last is None or at is None:
        raise RecheckRequiredError(
            "close needs a re-check that finds the URL gone first "
            f"(POST /v1/abuse/cases/{case_id}/recheck?close=true); none was made"
        )
    if outcome != "gone" or at < now - RECHECK_VALID:
        why = f"found it {outcome}" if outcome != "gone" else "is older than 24 hours"
        raise RecheckRequiredError(
            f"close needs a re-check that finds the URL gone; the latest one ({seen['at']}) "
            f"{why} (re-check again: POST /v1/abuse/cases/{case_id}/recheck?close=true)"
        )
    return {**seen, "override": False}


def _aware(at: datetime) -> datetime:
    """SQLite gives naive datetimes back (stored as UTC)."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _bump_reporters(session: Session, case_id: int, column: str) -> None:
    reporters = (
        select(AbuseCaseReport.reporter_key)
        .where(AbuseCaseReport.case_id == case_id)
        .distinct()
        .scalar_subquery()
    )
    table = REPORTERS
    session.connection().execute(
        update(table).where(table.c.key.in_(reporters)).values({column: table.c[column] + 1})
    )


def _notify_for_action(
    session: Session, case: AbuseCase, row: AbuseCaseAction, now: datetime
) -> int:
    """``notify`` sends the case to its owner and host now (also when it was held);
    an enforcement action tells the owner what was done."""
    zone = load_zones(session).get(case.zone)
    recipients = recipients_of(zone)
    if row.action != CaseAction.NOTIFY.value:
        recipients = tuple(r for r in recipients if r.audience is Audience.OWNER)
    if not recipients:
        return 0
    reports = session.scalars(
        select(AbuseReport)
        .join(AbuseCaseReport, AbuseCaseReport.report_id == AbuseReport.id)
        .where(AbuseCaseReport.case_id == case.id)
        .order_by(AbuseReport.received_at)
        .limit(20)
    ).all()
    summary = {k: v for k, v in case_json(case, now).items() if k not in ("held", "assignee")}
    rows = []
    for recipient in recipients:
        views = [report_view(report_json(r), recipient.audience) for r in reports]
        body = {
            "urgent": True,
            "action": row.action,
            "reason": row.reason,
            "case": summary,
            "reports": views,
        }
        rows.append(
            notice_row(
                f"abuse:{row.action}:{recipient.id}:a{row.id}", recipient, case.zone, body, now, now
            )
        )
    stmt = insert(session, OUTBOX).on_conflict_do_nothing(index_elements=["key"])
    session.connection().execute(stmt, rows)
    return len(rows)
