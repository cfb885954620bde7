"""SLA clocks per type and jurisdiction: the table, configured overrides and per-zone
jurisdictions, the processor (and its reference) using them, escalation when they run out."""

from __future__ import annotations

from datetime import timedelta

import pytest
from abuse_kit import T0
from sqlalchemy import select

from bastion.abuse import Processor, Report, ReportSubmission
from bastion.abuse.cases import POLICIES, SlaClocks
from bastion.abuse.pipeline import process_reference
from bastion.abuse.reports import ReportType
from bastion.abuse.reputation import Reputation
from bastion.abuse.zones import ZoneDirectory
from bastion.config import load_settings
from bastion.service.abuse_worker import clocks_of
from bastion.store import Database
from bastion.store.abuse import apply_batch, load_zones, set_zone_contacts
from bastion.store.abuse_models import AbuseCase
from bastion.store.abuse_orders import escalate_overdue

H = timedelta(hours=1)


def test_a_jurisdiction_only_makes_a_clock_stricter() -> None:
    none, de, eu = SlaClocks(), SlaClocks("de"), SlaClocks("EU")
    for kind in ReportType:
        assert none.sla(kind, "z") == POLICIES[kind].sla
        assert de.sla(kind, "z") <= POLICIES[kind].sla
    assert POLICIES[ReportType.OTHER].sla == 72 * H
    assert de.sla("other", "z") == 24 * H  # NetzDG: judged within 24 hours
    assert eu.sla("other", "z") == 72 * H  # the DSA sets no hours
    assert eu.sla("csam", "z") == de.sla("csam", "z") == H
    assert SlaClocks("XX").sla("spam", "z") == POLICIES[ReportType.SPAM].sla


def test_configured_hours_and_zone_jurisdictions() -> None:
    clocks = SlaClocks(
        "EU",
        zones={"Shop.Example.": "de", "in.example": "IN"},
        hours={"EU:harassment": 12, "*:spam": 48, "DE:trademark": 1000},
    )
    assert clocks.jurisdiction("shop.example") == "DE"
    assert clocks.jurisdiction("blog.example") == "EU"
    assert clocks.sla("harassment", "blog.example") == 12 * H
    assert clocks.sla("harassment", "shop.example") == 24 * H
    assert clocks.sla("harassment", "in.example") == 24 * H
    assert clocks.sla("spam", "in.example") == 48 * H  # '*': every jurisdiction
    assert clocks.sla("trademark", "shop.example") == 72 * H  # never looser than the type
    for bad in ({"EU-harassment": 1.0}, {"EU:nonsense": 1.0}, {"EU:spam": 0.0}):
        with pytest.raises(ValueError, match="abuse_sla_hours"):
            SlaClocks(hours=bad)


def test_settings_build_the_clocks() -> None:
    settings = load_settings(
        None,
        abuse_jurisdiction="DE",
        abuse_zone_jurisdictions={"blog.example": "EU"},
        abuse_sla_hours={"EU:other": 6},
    )
    clocks = clocks_of(settings)
    assert clocks.sla("other", "shop.example") == 24 * H
    assert clocks.sla("other", "blog.example") == 6 * H
    assert clocks_of(load_settings(None)).sla("other", "x") == 72 * H


def _report(kind: str, url: str) -> Report:
    sub = ReportSubmission.model_validate(
        {"type": kind, "urls": [url], "reporter": {"email": "r@x.example"}}
    )
    return sub.accept(source="test", received_at=T0)


def test_the_processor_dates_cases_by_their_zone_s_jurisdiction() -> None:
    clocks = SlaClocks("EU", zones={"shop.example": "DE"})
    zones = ZoneDirectory(["shop.example", "blog.example"])
    fast = Processor(zones, clocks=clocks)
    slow = Processor(zones, clocks=clocks)
    for url, hours in (("https://a.shop.example/x", 24), ("https://blog.example/x", 72),
                       ("https://else.test/x", 72)):  # fmt: skip
        report = _report("other", url)
        out = fast.process(report)
        assert out == process_reference(slow, report)
        assert out.entries[0].sla_due == T0 + hours * H


def test_a_case_whose_jurisdiction_s_clock_ran_out_is_escalated(
    clean_database: Database,
) -> None:
    db = clean_database
    with db.session(write=True) as s:
        set_zone_contacts(s, "shop.example", owner_contact="o@shop.example", host=None,
                          host_contact=None, actor="t")  # fmt: skip
        zones = load_zones(s)
    processor = Processor(zones, clocks=SlaClocks("", zones={"shop.example": "DE"}))
    reports = [_report("other", "https://shop.example/de"), _report("other", "https://x.test/")]
    apply_batch(db, [processor.process(r, Reputation()) for r in reports],
                clock=lambda: T0)  # fmt: skip
    with db.session() as s:
        due = dict(s.execute(select(AbuseCase.url, AbuseCase.sla_due_at)).tuples().all())
    assert {url: (d.replace(tzinfo=None) - T0.replace(tzinfo=None)) for url, d in due.items()} == {
        "https://shop.example/de": 24 * H,
        "https://x.test/": 72 * H,
    }
    escalated = escalate_overdue(db, now=T0 + 25 * H)
    with db.session() as s:
        case = s.scalars(select(AbuseCase).where(AbuseCase.id.in_(escalated))).one()
    assert case.url == "https://shop.example/de" and case.queue == "analyst"
