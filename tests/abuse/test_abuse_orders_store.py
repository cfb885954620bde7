"""Legal orders, edge rules, bulk actions, transparency counts and partners on SQLite and
PostgreSQL."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bastion.abuse import ActionRequest, CaseAction, Processor, Report, ReportSubmission
from bastion.abuse.orders import OrderSubmission
from bastion.abuse.reputation import Reputation
from bastion.abuse.transparency import parse_period
from bastion.store import AuditEntry, Database
from bastion.store.abuse import act, apply_batch, load_zones, set_zone_contacts
from bastion.store.abuse_models import AbuseCase
from bastion.store.abuse_orders import (
    OrderNotFound,
    act_bulk,
    create_order,
    create_partner,
    escalate_overdue,
    get_order,
    list_orders,
    load_edge_rules,
    partner_by_name,
    partner_by_token,
    record_recheck,
    shared_secret,
    transparency,
    withdraw_order,
)
from bastion.store.abuse_orders_models import AbusePartner

T0 = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)
WINDOW = timedelta(hours=1)
LINK = "https://bastion.example/legal"


@pytest.fixture
def db(clean_database: Database) -> Database:
    with clean_database.session(write=True) as s:
        set_zone_contacts(s, "shop.example", owner_contact="owner@shop.example", host="HostCo",
                          host_contact="abuse@hostco.example", actor="test")  # fmt: skip
    return clean_database


def report(kind: str, url: str, at: datetime = T0, email: str = "r@x.example") -> Report:
    sub = ReportSubmission.model_validate(
        {"type": kind, "urls": [url], "reporter": {"email": email}}
    )
    return sub.accept(source="test", received_at=at)


def cases(db: Database, reports: list[Report], at: datetime = T0) -> dict[str, int]:
    with db.session() as s:
        zones = load_zones(s)
    processor = Processor(zones, window=WINDOW)
    apply_batch(db, [processor.process(r, Reputation()) for r in reports], window=WINDOW,
                clock=lambda: at)  # fmt: skip
    with db.session() as s:
        return {c.url: c.id for c in s.scalars(select(AbuseCase))}


def new_order(db: Database, at: datetime = T0, **fields: Any) -> Any:
    base: dict[str, Any] = {"authority": "LG Hamburg", "jurisdiction": "DE",
                            "reference": "310 O 1/26", "urls": ["https://shop.example/bad"],
                            "countries": ["DE"]}  # fmt: skip
    base.update(fields)
    accepted = OrderSubmission.model_validate(base).accept(default_blocked_by=LINK, now=at)
    with db.session(write=True) as s:
        return create_order(s, accepted, actor="tok-1", now=at)


def audit(db: Database, action: str) -> list[AuditEntry]:
    with db.session() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_orders_are_stored_listed_withdrawn_and_audited(db: Database) -> None:
    first = new_order(db)
    second = new_order(db, hosts=["evil.example"], urls=[], countries=["fr", "BE"])
    assert first.id and second.id > first.id
    with db.session() as s:
        assert get_order(s, first.id) == first
        assert [o.id for o in list_orders(s)] == [second.id, first.id]
        assert get_order(s, second.id).countries == ("BE", "FR")
    with db.session(write=True) as s:
        withdrawn = withdraw_order(s, first.id, actor="tok-2", reason="appeal won",
                                   now=T0 + timedelta(days=1))  # fmt: skip
    assert withdrawn.state == "withdrawn"
    with db.session() as s:
        assert [o.id for o in list_orders(s, state="active")] == [second.id]
        with pytest.raises(OrderNotFound):
            get_order(s, 10_000)
    [created, _] = audit(db, "abuse_order.create")
    assert created.actor == "tok-1" and created.detail["reference"] == "310 O 1/26"
    [gone] = audit(db, "abuse_order.withdraw")
    assert gone.detail == {"reason": "appeal won"} and gone.actor == "tok-2"


def test_edge_rules_hold_orders_in_force_and_actioned_cases(db: Database) -> None:
    ids = cases(db, [report("phishing", "https://shop.example/login"),
                     report("malware", "https://shop.example/x.exe"),
                     report("spam", "https://shop.example/spam")])  # fmt: skip
    order = new_order(db, valid_until=T0 + timedelta(days=30))
    act(db, ids["https://shop.example/login"], ActionRequest(CaseAction.INTERSTITIAL),
        actor="t", clock=lambda: T0)  # fmt: skip
    act(db, ids["https://shop.example/x.exe"],
        ActionRequest(CaseAction.GEO_BLOCK, countries=("fr",)), actor="t",
        clock=lambda: T0)  # fmt: skip
    act(db, ids["https://shop.example/spam"], ActionRequest(CaseAction.TRIAGE), actor="t",
        clock=lambda: T0)  # fmt: skip
    with db.session() as s:
        rules = load_edge_rules(s, now=T0 + timedelta(hours=1), blocked_by=LINK)
        later = load_edge_rules(s, now=T0 + timedelta(days=31), blocked_by=LINK)
    assert len(rules) == 3 and len(later) == 2  # the order expired
    hit = rules.match("shop.example", "/bad", "DE")
    assert hit is not None and hit.id == f"order:{order.id}"
    assert rules.match("shop.example", "/bad", "FR") is None
    login = rules.match("shop.example", "/login", None)
    assert login is not None and login.effect == "interstitial"
    exe = rules.match("shop.example", "/x.exe", "FR")
    assert exe is not None and exe.effect == "block" and exe.blocked_by == LINK
    assert rules.match("shop.example", "/x.exe", "DE") is None
    assert rules.match("shop.example", "/spam", "DE") is None
    # Closing the case (after a re-check found the URL gone) lifts its enforcement.
    record_recheck(db, ids["https://shop.example/login"], outcome="gone", status=404,
                   detail="HTTP 404", actor="t", close=True, clock=lambda: T0)  # fmt: skip
    with db.session() as s:
        rules = load_edge_rules(s, now=T0, blocked_by=LINK)
    assert rules.match("shop.example", "/login", None) is None


def test_bulk_actions_act_per_case_and_audit_the_whole(db: Database) -> None:
    ids = cases(db, [report("phishing", f"https://shop.example/p{i}") for i in range(5)])
    first = sorted(ids.values())
    act(db, first[0], ActionRequest(CaseAction.REJECT, reason="dup"), actor="t",
        clock=lambda: T0)  # fmt: skip
    outcome = act_bulk(db, [*first, 999_999], ActionRequest(CaseAction.BLOCK), actor="tok-9",
                       clock=lambda: T0)  # fmt: skip
    assert sorted(outcome.done) == first[1:]
    assert set(outcome.failed) == {first[0], 999_999}
    assert "rejected" in outcome.failed[first[0]] and "no case" in outcome.failed[999_999]
    with db.session() as s:
        states = dict(s.execute(select(AbuseCase.id, AbuseCase.state)).all())
    assert [states[i] for i in first] == ["rejected"] + ["actioned"] * 4
    [whole] = audit(db, "abuse_case.bulk_block")
    assert whole.actor == "tok-9" and whole.detail["cases"] == first[1:]
    assert len(audit(db, "abuse_case.block")) == 4
    body = outcome.to_json()
    assert [d["case"] for d in body["done"]] == first[1:]
    with pytest.raises(ValueError, match="1 to 1000"):
        act_bulk(db, [], ActionRequest(CaseAction.BLOCK), actor="t")


def test_transparency_counts_by_month_type_action_and_orders(db: Database) -> None:
    oct_, nov = datetime(2026, 10, 5, tzinfo=UTC), T0
    ids = cases(db, [report("phishing", "https://shop.example/a", oct_),
                     report("phishing", "https://shop.example/a", oct_, "s@x.example"),
                     report("spam", "https://shop.example/b", oct_)], at=oct_)  # fmt: skip
    ids |= cases(db, [report("malware", "https://shop.example/c", nov)], at=nov)
    act(db, ids["https://shop.example/a"], ActionRequest(CaseAction.BLOCK), actor="t",
        clock=lambda: nov)  # fmt: skip
    act(db, ids["https://shop.example/b"], ActionRequest(CaseAction.REJECT, reason="no"),
        actor="t", clock=lambda: oct_)  # fmt: skip
    new_order(db, nov, countries=["DE", "AT"])
    new_order(db, datetime(2027, 1, 2, tzinfo=UTC), jurisdiction="FR", countries=["FR"])
    with db.session() as s:
        report_ = transparency(s, parse_period("2026-Q4"), now=nov)
    data = report_.to_json()
    assert data["totals"]["reports"] == {"malware": 1, "phishing": 2, "spam": 1}
    assert data["totals"]["cases"] == {"malware": 1, "phishing": 1, "spam": 1}
    assert data["totals"]["actions"] == {"block": 1, "reject": 1}
    assert data["totals"]["enforcement"] == {"phishing": 1}
    assert data["totals"]["legal_orders"] == {"DE": 1}  # January's order is outside
    assert data["by_month"]["2026-10"]["reports"] == {"phishing": 2, "spam": 1}
    assert data["by_month"]["2026-11"]["actions"] == {"block": 1}
    [order] = data["legal_orders"]
    assert order["countries"] == ["AT", "DE"] and order["url_count"] == 1
    with db.session() as s:
        assert transparency(s, parse_period("2026-09")).to_json()["totals"]["reports"] == {}


def test_partners_tokens_are_hashed_and_unique(db: Database) -> None:
    with db.session(write=True) as s:
        partner, token = create_partner(s, "PhishTank-like", 80, actor="t")
    with db.session() as s:
        stored = s.scalars(select(AbusePartner.token_hash)).one()
    assert token.startswith("bsp_") and token not in stored and len(stored) == 64
    with db.session(write=True) as s:
        assert partner_by_token(s, token) == partner
        assert partner_by_token(s, token + "x") is None
        assert partner_by_token(s, "bst_" + token[4:]) is None
        assert partner_by_name(s, "PhishTank-like") == partner
        with pytest.raises(ValueError, match="exists"):
            create_partner(s, "PhishTank-like", 10, actor="t")
    with db.session(write=True) as s, pytest.raises(ValueError, match="trust"):
        create_partner(s, "x", 101, actor="t")


def test_the_shared_secret_is_created_once_under_concurrency(db: Database) -> None:
    seen: list[bytes] = []

    def get() -> None:
        with db.session(write=True) as s:
            seen.append(shared_secret(s, "k"))

    threads = [threading.Thread(target=get) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 6 and len(set(seen)) == 1 and len(seen[0]) == 32
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(AbusePartner)) == 0


def test_the_edge_rebuilds_its_rules_only_when_they_may_have_changed(db: Database) -> None:
    from bastion.service.abuse_edge import EdgeEnforcement

    ids = cases(db, [report("phishing", "https://shop.example/a"),
                     report("phishing", "https://shop.example/b")])  # fmt: skip
    edge = EdgeEnforcement(db, refresh_s=3600, blocked_by=LINK)
    assert edge.rebuilds == 1 and len(edge.rules) == 0
    edge.load()
    act(db, ids["https://shop.example/a"], ActionRequest(CaseAction.TRIAGE), actor="t")
    edge.load()
    assert edge.rebuilds == 1  # nothing the edge enforces changed
    act(db, ids["https://shop.example/a"], ActionRequest(CaseAction.BLOCK), actor="t")
    edge.load()
    assert edge.rebuilds == 2 and len(edge.rules) == 1
    now = datetime.now(UTC)
    new_order(db, now, valid_from=now + timedelta(seconds=1),
              valid_until=now + timedelta(seconds=2))  # fmt: skip
    edge.load()
    assert edge.rebuilds == 3 and len(edge.rules) == 1  # not in force yet
    time.sleep(1.1)
    edge.load()  # the order's start: rebuilt without any change in the database
    assert edge.rebuilds == 4 and len(edge.rules) == 2
    time.sleep(1.0)
    edge.load()  # and its end
    assert edge.rebuilds == 5 and len(edge.rules) == 1
    record_recheck(db, ids["https://shop.example/a"], outcome="gone", status=404,
                   detail="HTTP 404", actor="t", close=True)  # fmt: skip
    edge.load()
    assert edge.rebuilds == 6 and len(edge.rules) == 0


def test_cases_whose_sla_ran_out_are_escalated_once(db: Database) -> None:
    ids = cases(db, [report("spam", "https://shop.example/s"),
                     report("phishing", "https://shop.example/p")])  # fmt: skip
    spam, phish = ids["https://shop.example/s"], ids["https://shop.example/p"]
    act(db, phish, ActionRequest(CaseAction.BLOCK), actor="t", clock=lambda: T0)
    assert escalate_overdue(db, now=T0 + timedelta(hours=1)) == []  # spam's SLA: 72 h
    later = T0 + timedelta(hours=73)
    assert escalate_overdue(db, now=later) == [spam]  # the actioned case is not open
    with db.session() as s:
        case = s.get(AbuseCase, spam)
        assert case is not None
        assert (case.priority, case.queue) == (2, "analyst")
        assert case.sla_due_at.replace(tzinfo=UTC) == later + timedelta(hours=8)
    assert escalate_overdue(db, now=later + timedelta(hours=1)) == []  # once per clock
    assert escalate_overdue(db, now=later + timedelta(hours=9)) == [spam]  # next clock
    [row, _] = audit(db, "abuse_case.escalate")
    assert row.actor == "sla" and row.detail["from"]["priority"] == "P3"
