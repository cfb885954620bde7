"""Abuse desk storage for the edge and for sharing: legal orders, the edge's rules,
bulk case actions, transparency counts, partners and the shared interstitial key.

Every change is audited (:func:`~bastion.store.audit.record_audit`) in the transaction that
makes it.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bastion.abuse.cases import ENFORCEMENT, ActionRequest, CaseAction, CaseState, next_state
from bastion.abuse.enforcement import EdgeRules, Scoped, case_rule, order_rules
from bastion.abuse.errors import ActionStateError, InvalidActionError
from bastion.abuse.evidence import Evidence
from bastion.abuse.orders import LegalOrder
from bastion.abuse.sharing import Indicator, domain_indicator, is_sha256
from bastion.abuse.transparency import Period, TransparencyReport
from bastion.auth.tokens import hash_token
from bastion.store.abuse import ActionOutcome, CaseNotFound, act
from bastion.store.abuse_models import AbuseCase, AbuseCaseAction, AbuseReport
from bastion.store.abuse_orders_models import (
    AbuseEvidence,
    AbuseLegalOrder,
    AbusePartner,
    AbuseReportEvidence,
    AbuseSecret,
)
from bastion.store.abuse_sql import insert, now_utc
from bastion.store.audit import record_audit
from bastion.store.content_models import ContentBlock
from bastion.store.db import Database

MAX_BULK = 1000
PARTNER_TOKEN_PREFIX = "bsp_"  # noqa: S105 (a prefix, not a secret)


class OrderNotFound(LookupError):
    """No legal order with that id."""


# -- legal orders ---------------------------------------------------------------------


def order_of(row: AbuseLegalOrder) -> LegalOrder:
    return LegalOrder(
        id=row.id,
        authority=row.authority,
        jurisdiction=row.jurisdiction,
        reference=row.reference,
        urls=tuple(row.urls),
        hosts=tuple(row.hosts),
        countries=tuple(row.countries),
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        blocked_by=row.blocked_by,
        description=row.description,
        state=row.state,
    )


def create_order(
    session: Session, order: LegalOrder, *, actor: str, now: datetime | None = None
) -> LegalOrder:
    """Store an accepted order (audited); returns it with its id."""
    now = now or now_utc()
    row = AbuseLegalOrder(
        authority=order.authority,
        jurisdiction=order.jurisdiction,
        reference=order.reference,
        urls=list(order.urls),
        hosts=list(order.hosts),
        countries=list(order.countries),
        valid_from=order.valid_from,
        valid_until=order.valid_until,
        blocked_by=order.blocked_by,
        description=order.description,
        state="active",
        created_at=now,
        created_by=actor[:64],
        updated_at=now,
    )
    session.add(row)
    session.flush()
    stored = order_of(row)
    detail = {k: v for k, v in stored.to_json().items() if k != "description"}
    record_audit(
        session, actor=actor, action="abuse_order.create", target=f"abuse_order:{row.id}",
        detail=detail, at=now,
    )  # fmt: skip
    return stored


def withdraw_order(
    session: Session, order_id: int, *, actor: str, reason: str, now: datetime | None = None
) -> LegalOrder:
    """Withdraw an order (the edge stops enforcing it within its refresh period)."""
    now = now or now_utc()
    row = session.get(AbuseLegalOrder, order_id, with_for_update=True)
    if row is None:
        raise OrderNotFound(f"no legal order {order_id}")
    if row.state != "withdrawn":
        row.state, row.updated_at = "withdrawn", now
        record_audit(
            session, actor=actor, action="abuse_order.withdraw",
            target=f"abuse_order:{order_id}", detail={"reason": reason}, at=now,
        )  # fmt: skip
    return order_of(row)


def get_order(session: Session, order_id: int) -> LegalOrder:
    row = session.get(AbuseLegalOrder, order_id)
    if row is None:
        raise OrderNotFound(f"no legal order {order_id}")
    return order_of(row)


def list_orders(
    session: Session, *, state: str | None = None, offset: int = 0, limit: int = 100
) -> list[LegalOrder]:
    """Orders, newest first."""
    query = select(AbuseLegalOrder)
    if state is not None:
        query = query.where(AbuseLegalOrder.state == state)
    query = query.order_by(AbuseLegalOrder.id.desc()).offset(offset).limit(limit)
    return [order_of(r) for r in session.scalars(query)]


# -- the edge's rules -------------------------------------------------------------------


def load_edge_rules(session: Session, *, now: datetime, blocked_by: str | None) -> EdgeRules:
    """Legal orders in force at ``now`` and the enforcement of every ``actioned`` case;
    ``blocked_by`` is the Link target of case blocks (orders carry their own)."""
    orders = session.scalars(
        select(AbuseLegalOrder).where(
            AbuseLegalOrder.state == "active",
            AbuseLegalOrder.valid_from <= now,
            or_(AbuseLegalOrder.valid_until.is_(None), AbuseLegalOrder.valid_until > now),
        )
    )
    scoped: list[Scoped] = order_rules((order_of(o) for o in orders), now)
    cases = session.execute(
        select(AbuseCase.id, AbuseCase.url, AbuseCase.enforcement).where(
            AbuseCase.state == CaseState.ACTIONED.value
        )
    )
    for case_id, url, enforcement in cases:
        rule = case_rule(case_id, url, enforcement, blocked_by)
        if rule is not None:
            scoped.append(rule)
    return EdgeRules(scoped)


#: Case actions that start or end a case's enforcement at the edge.
EDGE_ACTIONS = ("block", "close", "geo_block", "interstitial")


def edge_signature(session: Session) -> tuple[Any, ...]:
    """Changes whenever the edge's rules may have: the newest enforcement-changing case
    action and the orders' newest change and count (a few index lookups)."""
    newest_action = max(
        (
            session.scalar(
                select(AbuseCaseAction.id)
                .where(AbuseCaseAction.action == action)
                .order_by(AbuseCaseAction.id.desc())
                .limit(1)
            )
            or 0
            for action in EDGE_ACTIONS
        ),
        default=0,
    )
    orders = session.execute(
        select(func.max(AbuseLegalOrder.updated_at), func.count(AbuseLegalOrder.id))
    ).one()
    return (newest_action, orders[0], orders[1])


def next_order_boundary(session: Session, now: datetime) -> datetime | None:
    """When an active order next starts or stops being in force (the rules change then)."""
    starts = session.scalar(
        select(func.min(AbuseLegalOrder.valid_from)).where(
            AbuseLegalOrder.state == "active", AbuseLegalOrder.valid_from > now
        )
    )
    ends = session.scalar(
        select(func.min(AbuseLegalOrder.valid_until)).where(
            AbuseLegalOrder.state == "active", AbuseLegalOrder.valid_until > now
        )
    )
    found = [t for t in (starts, ends) if t is not None]
    return min(found) if found else None


def shared_secret(session: Session, name: str, now: datetime | None = None) -> bytes:
    """The named key all workers share, created (32 random bytes) on first use."""
    row = session.get(AbuseSecret, name)
    if row is None:
        try:
            with session.begin_nested():
                session.add(
                    AbuseSecret(name=name, value=secrets.token_hex(32), created_at=now or now_utc())
                )
        except IntegrityError:
            pass  # another worker created it first
        row = session.get(AbuseSecret, name, populate_existing=True)
        assert row is not None
    return bytes.fromhex(row.value)


# -- bulk actions ---------------------------------------------------------------------


@dataclass(frozen=True)
class BulkOutcome:
    """Per case: the outcome, or the error that stopped the action on that case."""

    done: dict[int, ActionOutcome]
    failed: dict[int, str]

    def to_json(self) -> dict[str, Any]:
        return {
            "done": [
                {"case": cid, "state": o.case["state"], "action_id": o.action["id"]}
                for cid, o in sorted(self.done.items())
            ],
            "failed": [{"case": cid, "error": e} for cid, e in sorted(self.failed.items())],
        }


def act_bulk(
    database: Database,
    case_ids: Collection[int],
    request: ActionRequest,
    *,
    actor: str,
    clock: Callable[[], datetime] = now_utc,
) -> BulkOutcome:
    """Apply ``request`` to each case, each in its own transaction (a case whose state
    forbids it is reported, the others proceed), then one audit row for the whole."""
    ids = sorted(set(case_ids))
    if not ids or len(ids) > MAX_BULK:
        raise InvalidActionError(f"a bulk action takes 1 to {MAX_BULK} case ids")
    _check_request(request)
    done: dict[int, ActionOutcome] = {}
    failed: dict[int, str] = {}
    for case_id in ids:
        try:
            done[case_id] = act(database, case_id, request, actor=actor, clock=clock)
        except (CaseNotFound, InvalidActionError) as exc:
            failed[case_id] = str(exc)
    with database.session(write=True) as session:
        record_audit(
            session, actor=actor, action=f"abuse_case.bulk_{request.action.value}",
            target=f"abuse_cases:{len(ids)}",
            detail={"cases": sorted(done), "failed": sorted(failed), "reason": request.reason},
            at=clock(),
        )  # fmt: skip
    return BulkOutcome(done, failed)


def _check_request(request: ActionRequest) -> None:
    """Raise what is wrong with the request itself (a reject without a reason...), before
    touching any case; state conflicts are per case."""
    problem: InvalidActionError | None = None
    for state in CaseState:
        try:
            next_state(state, request)
            return
        except ActionStateError:
            continue
        except InvalidActionError as exc:
            problem = exc
    if problem is not None:
        raise problem


# -- transparency -------------------------------------------------------------------------


def transparency(
    session: Session, period: Period, now: datetime | None = None
) -> TransparencyReport:
    """Counts for ``period`` by month, and the legal orders in force during it."""
    report = TransparencyReport(period, now or now_utc())
    bounds = [*(_month(m) for m in period.months()), period.end]
    for month, start, end in zip(period.months(), bounds, bounds[1:], strict=False):
        queries: list[tuple[str, Any]] = [
            ("reports", select(AbuseReport.type, func.count()).where(
                AbuseReport.received_at >= start, AbuseReport.received_at < end
            ).group_by(AbuseReport.type)),
            ("cases", select(AbuseCase.type, func.count()).where(
                AbuseCase.opened_at >= start, AbuseCase.opened_at < end
            ).group_by(AbuseCase.type)),
            ("actions", select(AbuseCaseAction.action, func.count()).where(
                AbuseCaseAction.at >= start, AbuseCaseAction.at < end,
                AbuseCaseAction.action != "open",
            ).group_by(AbuseCaseAction.action)),
            ("enforcement", select(AbuseCase.type, func.count()).select_from(
                AbuseCaseAction
            ).join(AbuseCase, AbuseCase.id == AbuseCaseAction.case_id).where(
                AbuseCaseAction.at >= start, AbuseCaseAction.at < end,
                AbuseCaseAction.action.in_(sorted(a.value for a in ENFORCEMENT)),
            ).group_by(AbuseCase.type)),
            ("legal_orders", select(AbuseLegalOrder.jurisdiction, func.count()).where(
                AbuseLegalOrder.created_at >= start, AbuseLegalOrder.created_at < end
            ).group_by(AbuseLegalOrder.jurisdiction)),
        ]  # fmt: skip
        for metric, query in queries:
            for key, n in session.execute(query):
                report.add(month, metric, str(key), int(n))
    orders = session.scalars(
        select(AbuseLegalOrder)
        .where(
            AbuseLegalOrder.created_at < period.end,
            AbuseLegalOrder.valid_from < period.end,
            or_(AbuseLegalOrder.valid_until.is_(None), AbuseLegalOrder.valid_until > period.start),
            or_(AbuseLegalOrder.state == "active", AbuseLegalOrder.updated_at >= period.start),
        )
        .order_by(AbuseLegalOrder.id)
    )
    for row in orders:
        report.orders.append(
            {
                "id": row.id,
                "authority": row.authority,
                "jurisdiction": row.jurisdiction,
                "reference": row.reference,
                "countries": list(row.countries),
                "url_count": len(row.urls),
                "host_count": len(row.hosts),
                "valid_from": row.valid_from.isoformat(),
                "valid_until": row.valid_until.isoformat() if row.valid_until else None,
                "state": row.state,
            }
        )
    return report


def _month(name: str) -> datetime:
    year, month = name.split("-")
    return datetime(int(year), int(month), 1, tzinfo=now_utc().tzinfo)


# -- partners ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Partner:
    id: int
    name: str
    trust: int


def create_partner(
    session: Session, name: str, trust: int, *, actor: str, now: datetime | None = None
) -> tuple[Partner, str]:
    """A new partner and its feed token (shown once; stored as its SHA-256)."""
    if not 0 <= trust <= 100:
        raise ValueError("trust is 0 (unknown) to 100 (fully trusted)")
    name = name.strip()
    if not name or len(name) > 100:
        raise ValueError("a partner's name is 1 to 100 characters")
    now = now or now_utc()
    token = PARTNER_TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = AbusePartner(name=name, token_hash=hash_token(token), trust=trust, created_at=now,
                       revoked_at=None, last_pull_at=None)  # fmt: skip
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        raise ValueError(f"a partner named {name!r} exists") from None
    record_audit(session, actor=actor, action="abuse_partner.create",
                 target=f"abuse_partner:{row.id}", detail={"name": name, "trust": trust},
                 at=now)  # fmt: skip
    return Partner(row.id, name, trust), token


def partner_by_token(session: Session, token: str, now: datetime | None = None) -> Partner | None:
    """The unrevoked partner holding ``token`` (its last pull time updated), or ``None``."""
    if not token.startswith(PARTNER_TOKEN_PREFIX) or len(token) > 200:
        return None
    row = session.scalars(
        select(AbusePartner).where(
            AbusePartner.token_hash == hash_token(token), AbusePartner.revoked_at.is_(None)
        )
    ).first()
    if row is None:
        return None
    row.last_pull_at = now or now_utc()
    return Partner(row.id, row.name, row.trust)


def revoke_partner(session: Session, name: str, *, actor: str, now: datetime | None = None) -> bool:
    """Revoke the partner's feed token (audited); ``False`` if no such active partner."""
    row = session.scalars(
        select(AbusePartner).where(
            AbusePartner.name == name.strip(), AbusePartner.revoked_at.is_(None)
        )
    ).first()
    if row is None:
        return False
    now = now or now_utc()
    row.revoked_at = now
    record_audit(session, actor=actor, action="abuse_partner.revoke",
                 target=f"abuse_partner:{row.id}", detail={"name": row.name}, at=now)  # fmt: skip
    return True


def partner_by_name(session: Session, name: str) -> Partner | None:
    row = session.scalars(select(AbusePartner).where(AbusePartner.name == name.strip())).first()
    if row is None or row.revoked_at is not None:
        return None
    return Partner(row.id, row.name, row.trust)


# -- indicators to share ----------------------------------------------------------------

#: Case types whose confirmed URLs are shared with partners.
SHARED_TYPES = ("phishing", "malware")


def indicators(
    session: Session,
    *,
    since: datetime | None = None,
    hashes: bool = False,
    limit: int = 100_000,
) -> list[Indicator]:
    """What the desk confirmed: URLs (and whole-site domains) of phishing and malware cases
    that staff enforced on; with ``hashes``, the SHA-256 of content-scanning blocks."""
    query = select(
        AbuseCase.id, AbuseCase.url, AbuseCase.type, AbuseCase.opened_at, AbuseCase.reporter_count
    ).where(
        AbuseCase.type.in_(SHARED_TYPES),
        AbuseCase.state.in_([CaseState.ACTIONED.value, CaseState.CLOSED.value]),
        AbuseCase.enforcement.is_not(None),
    )
    if since is not None:
        query = query.where(AbuseCase.updated_at >= since)
    out: list[Indicator] = []
    for case_id, url, kind, opened_at, reporters in session.execute(
        query.order_by(AbuseCase.id).limit(limit)
    ):
        confidence = min(95, 70 + 5 * int(reporters))
        out.append(Indicator("url", url, opened_at, (kind,), f"case:{case_id}", confidence))
        domain = domain_indicator(url)
        if domain is not None:
            out.append(Indicator("domain", domain, opened_at, (kind,), f"case:{case_id}",
                                 confidence))  # fmt: skip
    if hashes:
        blocks = select(ContentBlock.id, ContentBlock.sha256, ContentBlock.bank,
                        ContentBlock.created_at).where(ContentBlock.state == "active")  # fmt: skip
        if since is not None:
            blocks = blocks.where(ContentBlock.updated_at >= since)
        for block_id, sha, bank, created in session.execute(blocks.order_by(ContentBlock.id)):
            if is_sha256(sha):
                out.append(Indicator("sha256", sha, created, ("content-match",),
                                     f"content-block:{block_id}", 90, f"bank {bank}"))  # fmt: skip
    return out


# -- SLA clocks -----------------------------------------------------------------------------

#: Time given to a case after its clock ran out and it was escalated, by new priority.
ESCALATED_SLA = {0: timedelta(hours=1), 1: timedelta(hours=2), 2: timedelta(hours=8),
                 3: timedelta(hours=24)}  # fmt: skip


def escalate_overdue(
    database: Database, *, now: datetime | None = None, limit: int = 500
) -> list[int]:
    """Escalate open cases (``new``, ``triaged``) whose SLA clock ran out: one priority
    step up (P0 stays), the analyst queue, a new clock, an ``escalate`` action by ``sla``
    and an audit row, each case in one transaction. Safe to run from every worker at once
    (the case row is locked and re-checked). Returns the escalated case ids."""
    now = now or now_utc()
    with database.session() as session:
        due = list(
            session.scalars(
                select(AbuseCase.id)
                .where(
                    AbuseCase.state.in_([CaseState.NEW.value, CaseState.TRIAGED.value]),
                    AbuseCase.sla_due_at <= now,
                )
                .order_by(AbuseCase.priority, AbuseCase.sla_due_at)
                .limit(limit)
            )
        )
    done = []
    for case_id in due:
        with database.session(write=True) as session:
            case = session.get(AbuseCase, case_id, with_for_update=True)
            if case is None or case.state not in ("new", "triaged") or case.sla_due_at > now:
                continue  # acted on, or escalated by another worker meanwhile
            before = {"priority": f"P{case.priority}", "sla_due_at": case.sla_due_at.isoformat()}
            case.priority = max(0, case.priority - 1)
            case.queue = "analyst"
            case.sla_due_at = now + ESCALATED_SLA.get(case.priority, timedelta(hours=24))
            case.updated_at = now
            detail = {
                "from": before,
                "to": {"priority": f"P{case.priority}", "sla_due_at": case.sla_due_at.isoformat()},
            }
            session.add(
                AbuseCaseAction(case_id=case.id, at=now, actor="sla", action="escalate",
                                from_state=case.state, to_state=case.state,
                                reason="the SLA clock ran out", detail=detail)
            )  # fmt: skip
            record_audit(session, actor="sla", action="abuse_case.escalate",
                         target=f"abuse_case:{case.id}", detail=detail, at=now)  # fmt: skip
            done.append(case_id)
    return done


# -- re-check -------------------------------------------------------------------------------


def record_recheck(
    database: Database,
    case_id: int,
    *,
    outcome: str,
    status: int | None,
    detail: str,
    actor: str,
    close: bool,
    clock: Callable[[], datetime] = now_utc,
) -> dict[str, Any]:
    """Record a re-check of the case's URL (a ``recheck`` action, audited); with ``close``
    and the URL ``gone``, close the case. Returns the outcome, and the case."""
    now = clock()
    with database.session(write=True) as session:
        case = session.get(AbuseCase, case_id, with_for_update=True)
        if case is None:
            raise CaseNotFound(f"no case {case_id}")
        info = {"outcome": outcome, "status": status, "detail": detail[:500]}
        session.add(
            AbuseCaseAction(case_id=case_id, at=now, actor=actor[:64], action="recheck",
                            from_state=case.state, to_state=case.state,
                            reason=f"re-check: {outcome}", detail=info)
        )  # fmt: skip
        record_audit(session, actor=actor, action="abuse_case.recheck",
                     target=f"abuse_case:{case_id}", detail=info, at=now)  # fmt: skip
    closed = False
    why = ""
    if close and outcome == "gone":
        request = ActionRequest(CaseAction.CLOSE, reason=f"re-checked: {outcome} ({status})")
        try:
            act(database, case_id, request, actor=actor, clock=clock)
            closed = True
        except InvalidActionError as exc:
            why = str(exc)
    elif close:
        why = f"the URL is not gone ({outcome}): the case stays open"
    with database.session() as session:
        case_now = session.get(AbuseCase, case_id)
        assert case_now is not None
        state = case_now.state
    return {"outcome": outcome, "status": status, "closed": closed, "why": why, "state": state}


# -- evidence -------------------------------------------------------------------------------


EVIDENCE = cast(Table, AbuseEvidence.__table__)
REPORT_EVIDENCE = cast(Table, AbuseReportEvidence.__table__)


class EvidenceLimit(ValueError):
    """The report has as many attachments as it may."""


def add_evidence(
    session: Session,
    report_id: str,
    evidence: Evidence,
    data: bytes,
    *,
    max_per_report: int,
    now: datetime | None = None,
) -> bool:
    """Store ``data`` once by hash and link it to the report; ``False`` if it was already
    attached. Raises :class:`EvidenceLimit` beyond ``max_per_report``."""
    now = now or now_utc()
    linked = session.scalars(
        select(AbuseReportEvidence.sha256).where(AbuseReportEvidence.report_id == report_id)
    ).all()
    if evidence.sha256 in linked:
        return False
    if len(linked) >= max_per_report:
        raise EvidenceLimit(f"a report has at most {max_per_report} attachments")
    blob = insert(session, EVIDENCE).on_conflict_do_nothing(index_elements=["sha256"])
    session.execute(blob, [{"sha256": evidence.sha256, "media_type": evidence.media_type,
                            "size": evidence.size, "data": data, "created_at": now}])  # fmt: skip
    link = insert(session, REPORT_EVIDENCE).on_conflict_do_nothing(
        index_elements=["report_id", "sha256"]
    )
    session.execute(link, [{"report_id": report_id, "sha256": evidence.sha256,
                            "filename": evidence.filename, "added_at": now}])  # fmt: skip
    return True


def list_evidence(session: Session, report_id: str) -> list[dict[str, Any]]:
    rows = session.execute(
        select(AbuseReportEvidence.sha256, AbuseReportEvidence.filename,
               AbuseReportEvidence.added_at, AbuseEvidence.media_type, AbuseEvidence.size)
        .join(AbuseEvidence, AbuseEvidence.sha256 == AbuseReportEvidence.sha256)
        .where(AbuseReportEvidence.report_id == report_id)
        .order_by(AbuseReportEvidence.added_at, AbuseReportEvidence.sha256)
    )  # fmt: skip
    return [
        {"sha256": sha, "filename": name, "added_at": at.isoformat(), "media_type": kind,
         "size": size}
        for sha, name, at, kind, size in rows
    ]  # fmt: skip


def evidence_bytes(session: Session, sha256: str) -> bytes | None:
    data: bytes | None = session.scalar(
        select(AbuseEvidence.data).where(AbuseEvidence.sha256 == sha256)
    )
    return data
