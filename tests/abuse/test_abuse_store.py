"""Abuse desk storage on SQLite and PostgreSQL: idempotent batches, dedup into cases, counts,
routing effects in the shared outbox, privacy of notices, actions, audit and reputation."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from bastion.abuse import (
    ActionRequest,
    CaseAction,
    InvalidActionError,
    Processed,
    Processor,
    RecheckRequiredError,
    Report,
    ReportSubmission,
)
from bastion.abuse.privacy import WITHHELD
from bastion.store import AuditEntry, Database
from bastion.store.abuse import (
    CaseNotFound,
    act,
    apply_batch,
    get_case,
    list_cases,
    load_zones,
    reputations,
    set_zone_contacts,
)
from bastion.store.abuse_models import (
    AbuseCase,
    AbuseCaseAction,
    AbuseCaseReport,
    AbuseReport,
    AbuseReporter,
)
from bastion.store.content_models import OutboxMessage

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
WINDOW = timedelta(hours=1)


def clock(at: datetime = T0) -> Any:
    return lambda: at


@pytest.fixture
def db(clean_database: Database) -> Database:
    with clean_database.session(write=True) as s:
        set_zone_contacts(s, "shop.example", owner_contact="owner@shop.example", host="HostCo",
                          host_contact="abuse@hostco.example", actor="test")  # fmt: skip
        set_zone_contacts(s, "blog.example", owner_contact=None, host=None, host_contact=None,
                          actor="test")  # fmt: skip
    return clean_database


def report(kind: str = "phishing", url: str = "https://shop.example/login", *, email: str = "",
           consent: bool = False, at: datetime = T0, **extra: Any) -> Report:  # fmt: skip
    fields = {
        "type": kind,
        "urls": [url],
        "reporter": {"name": email.split("@")[0].title(), "email": email, "consent": consent},
        "description": f"Contact me on {email or 'rita@mail.example'} about this.",
        **extra,
    }
    return ReportSubmission.model_validate(fields).accept(source="test", received_at=at)


def process(db: Database, reports: list[Report]) -> list[Processed]:
    with db.session() as s:
        zones = load_zones(s)
        reps = reputations(s, {r.reporter_key for r in reports})
    processor = Processor(zones, window=WINDOW)
    return [processor.process(r, reps.get(r.reporter_key) or processor_default()) for r in reports]


def processor_default() -> Any:
    from bastion.abuse import Reputation

    return Reputation()


def count(db: Database, model: Any, *where: Any) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def assert_counts_match_links(db: Database) -> None:
    """Every case's counters equal what its links say (reports, distinct reporters)."""
    with db.session() as s:
        truth = {
            case_id: (n, reporters, last)
            for case_id, n, reporters, last in s.execute(
                select(
                    AbuseCaseReport.case_id,
                    func.count(),
                    func.count(func.distinct(AbuseCaseReport.reporter_key)),
                    func.max(AbuseCaseReport.at),
                ).group_by(AbuseCaseReport.case_id)
            )
        }
        cases = list(s.scalars(select(AbuseCase)))
    assert cases
    for c in cases:
        n, reporters, last = truth[c.id]
        assert (c.report_count, c.reporter_count) == (n, reporters), c.id
        assert c.last_report_at.replace(tzinfo=None) == last.replace(tzinfo=None)


def outbox(db: Database) -> list[OutboxMessage]:
    with db.session() as s:
        return list(s.scalars(select(OutboxMessage).order_by(OutboxMessage.key)))


def test_zones_and_contacts_are_loaded(db: Database) -> None:
    with db.session() as s:
        zones = load_zones(s)
    shop = zones.get("shop.example")
    assert shop is not None and shop.host == "HostCo" and shop.owner_contact == "owner@shop.example"
    assert zones.zone_name("a.blog.example") == "blog.example"
    assert count(db, AuditEntry, AuditEntry.action == "abuse_zone.contacts") == 2


def test_a_batch_opens_cases_counts_and_routes_once(db: Database) -> None:
    reports = [
        report(email="a@r.example"),
        report(url="HTTPS://SHOP.example:443/login#x", email="b@r.example"),
        report(email="a@r.example"),
        report("spam", "http://blog.example/x"),
        report("csam", "https://shop.example/img.jpg"),
        report("malware", "https://nowhere.test/x.exe"),
    ]
    result = apply_batch(db, process(db, reports), window=WINDOW, clock=clock())
    assert (result.new_reports, result.duplicate_reports, result.new_cases) == (6, 0, 4)
    with db.session() as s:
        cases = {c.type: c for c in s.scalars(select(AbuseCase))}
    phishing = cases["phishing"]
    assert (phishing.report_count, phishing.reporter_count) == (3, 2)
    assert phishing.zone == "shop.example" and phishing.queue == "analyst"
    assert cases["malware"].zone == "unattributed" and cases["malware"].queue == "unattributed"
    assert cases["csam"].priority == 0
    assert count(db, AbuseCaseAction, AbuseCaseAction.action == "open") == 4
    keys = [m.key for m in outbox(db)]
    # phishing + csam urgent to owner and host; spam goes into blog.example's digest;
    # the CSAM report goes to the report adapter; unattributed malware notifies nobody.
    assert sum(k.startswith("abuse:notify:") for k in keys) == 4
    assert [k for k in keys if k.startswith("abuse:digest:")] == [
        "abuse:digest:owner:blog.example:2026-12-01"
    ]
    assert sum(k.startswith("abuse:csam:") for k in keys) == 1
    digest = next(m for m in outbox(db) if m.key.startswith("abuse:digest:"))
    assert digest.next_attempt_at == datetime(2026, 12, 2, tzinfo=UTC)
    with db.session() as s:
        rep = s.get(AbuseReporter, reports[0].reporter_key)
        assert rep is not None and rep.reports == 2


def test_replaying_a_batch_changes_nothing(db: Database) -> None:
    batch = process(db, [report(email=f"r{i}@r.example") for i in range(5)] + [report("spam")])
    apply_batch(db, batch, window=WINDOW, clock=clock())
    before = (count(db, AbuseReport), count(db, AbuseCaseReport), len(outbox(db)))
    with db.session() as s:
        snapshot = [(c.report_count, c.reporter_count) for c in s.scalars(select(AbuseCase))]
    assert_counts_match_links(db)
    again = apply_batch(db, batch + batch[:2], window=WINDOW, clock=clock(T0 + timedelta(1)))
    assert (again.new_reports, again.duplicate_reports, again.new_cases, again.notices) == (
        0,
        8,
        0,
        0,
    )
    assert (count(db, AbuseReport), count(db, AbuseCaseReport), len(outbox(db))) == before
    with db.session() as s:
        assert [
            (c.report_count, c.reporter_count) for c in s.scalars(select(AbuseCase))
        ] == snapshot
        assert s.get(AbuseReporter, batch[0].report.reporter_key).reports == 1  # type: ignore[union-attr]


def test_a_partly_seen_batch_applies_only_the_new_reports(db: Database) -> None:
    first = process(db, [report(email="a@r.example")])
    apply_batch(db, first, window=WINDOW, clock=clock())
    second = first + process(db, [report(email="b@r.example")])
    result = apply_batch(db, second, window=WINDOW, clock=clock())
    assert (result.new_reports, result.duplicate_reports, result.new_cases) == (1, 1, 0)
    with db.session() as s:
        case = s.scalars(select(AbuseCase)).one()
    assert (case.report_count, case.reporter_count) == (2, 2)


def test_the_window_spans_bucket_boundaries_and_ends(db: Database) -> None:
    edge = datetime(2026, 12, 1, 12, 59, 50, tzinfo=UTC)
    reports = [report(at=edge), report(at=edge + timedelta(seconds=20))]
    apply_batch(db, process(db, reports), window=WINDOW, clock=clock())
    later = [report(at=edge + timedelta(hours=3))]
    apply_batch(db, process(db, later), window=WINDOW, clock=clock())
    with db.session() as s:
        counts = sorted(c.report_count for c in s.scalars(select(AbuseCase)))
    assert counts == [1, 2]


def test_notices_never_carry_contact_details_without_consent(db: Database) -> None:
    batch = process(db, [
        report(email="rita@mail.example"),
        report("malware", "https://shop.example/m.exe", email="cora@mail.example", consent=True),
        report("csam", "https://shop.example/c.jpg", email="csam@mail.example", consent=True),
        report("spam", "https://shop.example/s", email="sam@mail.example"),
    ])  # fmt: skip
    apply_batch(db, batch, window=WINDOW, clock=clock())
    notices = [m for m in outbox(db) if m.kind == "abuse_notice"]
    assert len(notices) == 8  # 3 urgent cases x (owner, host) + the digests of owner and host
    text = repr([m.payload for m in notices])
    for secret in ("rita@mail.example", "'Rita'", "sam@mail.example", "csam@mail.example"):
        assert secret not in text
    assert text.count("cora@mail.example") == 4  # consented: owner and host see it (twice)
    assert WITHHELD in text
    csam = next(m for m in outbox(db) if m.kind == "report")
    assert "mail.example" not in repr(csam.payload)
    assert csam.payload["url"] == "https://shop.example/c.jpg"


def test_digests_collect_cases_until_leased(db: Database) -> None:
    apply_batch(db, process(db, [report("spam", "https://shop.example/1")]), window=WINDOW,
                clock=clock())  # fmt: skip
    apply_batch(db, process(db, [report("spam", "https://shop.example/2")]), window=WINDOW,
                clock=clock())  # fmt: skip
    digests = [m for m in outbox(db) if m.key.startswith("abuse:digest:owner:")]
    assert len(digests) == 1 and digests[0].payload["total"] == 2
    # Once the deliverer has leased today's digest, new cases go into tomorrow's.
    with db.session(write=True) as s:
        s.execute(update(OutboxMessage).where(OutboxMessage.id == digests[0].id).values(attempts=1))
    apply_batch(db, process(db, [report("spam", "https://shop.example/3")]), window=WINDOW,
                clock=clock())  # fmt: skip
    owner = sorted(m.key for m in outbox(db) if m.key.startswith("abuse:digest:owner:"))
    assert owner == [
        "abuse:digest:owner:shop.example:2026-12-01",
        "abuse:digest:owner:shop.example:2026-12-02",
    ]


def test_concurrent_consumers_open_each_case_once(db: Database) -> None:
    batch = process(db, [report(email=f"r{i % 13}@r.example", url=f"https://shop.example/{i % 7}")
                         for i in range(60)])  # fmt: skip
    barrier = threading.Barrier(3)
    results: list[Any] = []
    errors: list[BaseException] = []

    def consume(part: list[Processed]) -> None:
        try:
            barrier.wait(timeout=10)
            results.append(apply_batch(db, part, window=WINDOW, clock=clock()))
        except BaseException as exc:
            errors.append(exc)

    # Three consumers get overlapping redeliveries of the same events.
    parts = [batch, batch[::-1], batch[10:40]]
    threads = [threading.Thread(target=consume, args=(p,)) for p in parts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert sum(r.new_reports for r in results) == 60
    assert sum(r.new_cases for r in results) == 7
    with db.session() as s:
        assert sum(c.report_count for c in s.scalars(select(AbuseCase))) == 60
    assert_counts_match_links(db)
    assert sum(m.key.startswith("abuse:notify:") for m in outbox(db)) == 14


def test_concurrent_consumers_with_disjoint_reports_count_reporters_once(db: Database) -> None:
    """Different reports by the same reporters about the same URLs, at the same time."""
    reports = [report(email=f"r{i % 5}@r.example", url=f"https://shop.example/{i % 3}")
               for i in range(120)]  # fmt: skip
    batch = process(db, reports)
    for _ in range(3):
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def consume(part: list[Processed]) -> None:
            try:
                barrier.wait(timeout=10)
                for i in range(0, len(part), 10):
                    apply_batch(db, part[i : i + 10], window=WINDOW, clock=clock())
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=consume, args=(p,)) for p in (batch[0::2], batch[1::2])]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert not errors, errors
    with db.session() as s:
        cases = list(s.scalars(select(AbuseCase)))
    assert len(cases) == 3 and all(c.reporter_count == 5 for c in cases)
    assert sum(c.report_count for c in cases) == 120
    assert_counts_match_links(db)


def _case_id(db: Database, kind: str = "phishing") -> int:
    with db.session() as s:
        return int(s.scalars(select(AbuseCase.id).where(AbuseCase.type == kind)).one())


def test_actions_move_state_audit_and_update_reputation(db: Database) -> None:
    reports = [report(email="a@r.example"), report(email="b@r.example")]
    apply_batch(db, process(db, reports), window=WINDOW, clock=clock())
    case_id = _case_id(db)
    out = act(db, case_id, ActionRequest(CaseAction.ASSIGN, assignee="kim"), actor="tok1")
    assert out.case["state"] == "triaged" and out.case["assignee"] == "kim"
    out = act(
        db, case_id, ActionRequest(CaseAction.GEO_BLOCK, countries=("de", "FR")), actor="tok1"
    )
    assert out.case["state"] == "actioned"
    assert out.case["enforcement"]["countries"] == ["DE", "FR"]
    assert out.notices == 1  # the owner hears what was done
    act(db, case_id, ActionRequest(CaseAction.BLOCK), actor="tok1")  # still actioned once
    with db.session() as s:
        reps = reputations(s, [r.reporter_key for r in reports])
    assert all(r.actioned == 1 and r.reports == 1 for r in reps.values())
    with pytest.raises(InvalidActionError, match="cannot reject"):
        act(db, case_id, ActionRequest(CaseAction.REJECT, reason="x"), actor="tok1")
    with pytest.raises(RecheckRequiredError, match="none was made"):
        act(db, case_id, ActionRequest(CaseAction.CLOSE, reason="gone"), actor="tok1")
    out = act(db, case_id, ActionRequest(CaseAction.CLOSE, reason="gone", override=True),
              actor="tok1")  # fmt: skip
    assert out.case["state"] == "closed"
    assert out.action["detail"]["recheck"] == {"outcome": None, "at": None, "override": True}
    with db.session() as s:
        detail = get_case(s, case_id)
    assert [a["action"] for a in detail["actions"]] == [
        "open",
        "assign",
        "geo_block",
        "block",
        "close",
    ]
    assert count(db, AuditEntry, AuditEntry.action.like("abuse_case.%")) == 4
    with pytest.raises(CaseNotFound):
        act(db, 10**9, ActionRequest(CaseAction.TRIAGE), actor="tok1")


def test_reject_counts_against_reporters_and_holds_their_next_notices(db: Database) -> None:
    bad = "troll@r.example"
    for i in range(6):
        apply_batch(db, process(db, [report("harassment", f"https://shop.example/{i}", email=bad)]),
                    window=WINDOW, clock=clock())  # fmt: skip
    with db.session() as s:
        ids = list(s.scalars(select(AbuseCase.id).order_by(AbuseCase.id)))
    for case_id in ids:
        act(db, case_id, ActionRequest(CaseAction.REJECT, reason="not abuse"), actor="ts")
    with db.session() as s:
        rep = reputations(s, [report(email=bad).reporter_key])
    assert next(iter(rep.values())).rejected == 6
    before = len(outbox(db))
    apply_batch(db, process(db, [report("harassment", "https://shop.example/new", email=bad)]),
                window=WINDOW, clock=clock())  # fmt: skip
    assert len(outbox(db)) == before  # held: nobody notified
    with db.session() as s:
        held = s.scalars(select(AbuseCase).where(AbuseCase.url.like("%/new"))).one()
    assert held.queue == "review" and held.held == ["untrusted_reporter"]
    # An analyst who decides it is real sends it with "notify".
    out = act(db, held.id, ActionRequest(CaseAction.NOTIFY), actor="ts")
    assert out.notices == 2 and len(outbox(db)) == before + 2


def test_list_cases_orders_by_priority_and_filters(db: Database) -> None:
    reports = [report("spam", "https://shop.example/s"), report("csam", "https://blog.example/c"),
               report("phishing", "https://shop.example/p")]  # fmt: skip
    apply_batch(db, process(db, reports), window=WINDOW, clock=clock())
    with db.session() as s:
        assert [c["type"] for c in list_cases(s)] == ["csam", "phishing", "spam"]
        assert [c["type"] for c in list_cases(s, zones={"shop.example"})] == ["phishing", "spam"]
        assert [c["type"] for c in list_cases(s, type="spam")] == ["spam"]
        assert list_cases(s, state="closed") == []
        late = list_cases(s, now=T0 + timedelta(hours=5))
        assert [c["sla_breached"] for c in late] == [True, True, False]
        detail = get_case(s, _case_id(db, "csam"))
    assert detail["reports"][0]["reporter"]["email"] == ""
    assert detail["report_count"] == 1 and detail["actions"][0]["actor"] == "pipeline"


def test_the_shared_outbox_delivers_notices_and_csam_reports(db: Database) -> None:
    from bastion.service.outbox import Message, OutboxDeliverer

    batch = process(db, [report("csam", "https://shop.example/c.jpg"), report("spam")])
    apply_batch(db, batch, window=WINDOW, clock=clock())
    sent: list[Message] = []
    deliverer = OutboxDeliverer(
        db, {"abuse_notice": sent.append, "report": sent.append}, clock=clock(T0)
    )
    ok, failed = deliverer.run_once()
    # Urgent CSAM notices (owner, host) and the CSAM report now; digests at midnight.
    assert (ok, failed) == (3, 0)
    assert sorted(m.kind for m in sent) == ["abuse_notice", "abuse_notice", "report"]
    assert deliverer.run_once() == (0, 0)
    tomorrow = OutboxDeliverer(db, {"abuse_notice": sent.append}, clock=clock(T0 + timedelta(1)))
    assert tomorrow.run_once() == (2, 0)
    assert {m.payload["day"] for m in sent[3:]} == {"2026-12-01"}
