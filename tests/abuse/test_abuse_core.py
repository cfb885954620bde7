"""The abuse desk's pure core: reports, zones, dedup keys, policies, routing, privacy,
reputation, flood detection and the pipeline with the in-memory sink."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from bastion.abuse import (
    ActionRequest,
    Audience,
    CaseAction,
    CaseState,
    FloodDetector,
    InvalidActionError,
    InvalidReportError,
    InvalidUrlError,
    Priority,
    Processor,
    Queue,
    Report,
    ReportSubmission,
    ReportType,
    Reputation,
    ZoneDirectory,
    ZoneInfo,
    case_keys,
    next_state,
    policy_of,
    report_view,
    route,
    scrub_contacts,
)
from bastion.abuse.cases import POLICIES, escalated
from bastion.abuse.events import Event, EventFormatError, decode_batch, encode_batch, report_event
from bastion.abuse.memory import MemoryCaseSink
from bastion.abuse.privacy import WITHHELD

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
ZONES = ZoneDirectory(
    [
        ZoneInfo("shop.example", "owner@shop.example", "HostCo", "abuse@hostco.example"),
        ZoneInfo("eu.shop.example", "eu-owner@shop.example"),
        ZoneInfo("example"),
        "203.0.113.7",
    ]
)


def submit(**fields: Any) -> Report:
    fields.setdefault("type", "phishing")
    fields.setdefault("urls", ["https://login.shop.example/x"])
    return ReportSubmission.model_validate(fields).accept(source="test", received_at=T0)


# -- reports --------------------------------------------------------------------------


def test_a_report_is_accepted_with_canonical_deduplicated_urls() -> None:
    report = submit(urls=["HTTPS://Login.Shop.Example:443/x#a", "login.shop.example/x?", "b.ex"])
    assert report.urls == [
        "https://login.shop.example/x",
        "http://login.shop.example/x",
        "http://b.ex/",
    ]
    assert len(report.id) == 32 and report.received_at == T0 and report.source == "test"


def test_every_type_is_accepted_with_its_fields() -> None:
    for kind in ReportType:
        extra: dict[str, Any] = {}
        if kind is ReportType.COPYRIGHT:
            extra = {
                "copyright": {
                    "work": "My photo",
                    "infringing_urls": ["https://shop.example/p.jpg"],
                    "good_faith": True,
                    "accurate": True,
                    "signature": "Ann Author",
                },
                "reporter": {"name": "Ann Author", "email": "ann@author.example"},
                "urls": [],
            }
        report = submit(type=kind.value, **extra)
        assert report.type is kind and report.urls
    assert set(POLICIES) == set(ReportType)


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"type": "copyright"}, "needs the notice"),
        (
            {
                "type": "copyright",
                "copyright": {"work": "w", "infringing_urls": ["a.example"], "good_faith": True},
                "reporter": {"name": "A", "email": "a@b.example"},
            },
            "copyright.accurate, copyright.signature",
        ),
        (
            {
                "type": "copyright",
                "copyright": {"work": "w", "good_faith": True, "accurate": True, "signature": "A"},
                "reporter": {"name": "A", "email": "a@b.example"},
                "urls": [],
            },
            "infringing_urls",
        ),
        (
            {
                "type": "copyright",
                "copyright": {
                    "work": "w",
                    "infringing_urls": ["a.example"],
                    "good_faith": True,
                    "accurate": True,
                    "signature": "A",
                },
            },
            "reporter.name, reporter.email",
        ),
        ({"type": "spam", "copyright": {"work": "w"}}, "only copyright reports"),
        ({"urls": []}, "at least one URL"),
    ],
)
def test_type_rules_are_enforced_with_named_fields(fields: dict[str, Any], problem: str) -> None:
    with pytest.raises(InvalidReportError, match=problem):
        submit(**fields)


def test_an_invalid_url_is_named_with_its_position() -> None:
    with pytest.raises(InvalidUrlError, match=r"urls\[1\].*scheme 'ftp'"):
        submit(urls=["https://ok.example/", "ftp://bad.example/"])


@pytest.mark.parametrize(
    "fields",
    [
        {"type": "nonsense"},
        {"reporter": {"email": "not-an-email"}},
        {"urls": ["x.example"] * 101},
        {"description": "x" * 10_001},
        {"unknown": 1},
        {"urls": [""]},
    ],
)
def test_malformed_submissions_fail_validation(fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        ReportSubmission.model_validate({"type": "spam", "urls": ["a.example"], **fields})


def test_reporter_key_is_stable_per_email_and_unique_per_anonymous_report() -> None:
    a = submit(reporter={"email": "Ann@Example.org"})
    b = submit(reporter={"email": "ann@example.org"})
    c, d = submit(), submit()
    assert a.reporter_key == b.reporter_key
    assert c.reporter_key != d.reporter_key != a.reporter_key


def test_report_ids_sort_by_time() -> None:
    ids = [submit().id for _ in range(50)]
    assert len(set(ids)) == 50
    assert [i[:12] for i in ids] == sorted(i[:12] for i in ids)


# -- zones ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "zone"),
    [
        ("shop.example", "shop.example"),
        ("a.b.shop.example", "shop.example"),
        ("x.eu.shop.example", "eu.shop.example"),
        ("eu.shop.example", "eu.shop.example"),
        ("myshop.example", "example"),
        ("SHOP.EXAMPLE.", "shop.example"),
        ("other.test", "unattributed"),
        ("203.0.113.7", "203.0.113.7"),
        ("1.203.0.113.7", "unattributed"),
        ("[::1]", "unattributed"),
    ],
)
def test_zone_resolution_is_the_longest_registered_suffix(host: str, zone: str) -> None:
    assert ZONES.zone_name(host) == zone


def test_whole_labels_only() -> None:
    zones = ZoneDirectory(["shop.example"])
    assert zones.zone_name("myshop.example") == "unattributed"
    assert zones.zone_name("my.shop.example") == "shop.example"
    assert "SHOP.example" in zones and len(zones) == 1


# -- cases ------------------------------------------------------------------------------


def test_case_keys_depend_on_url_type_and_window_bucket() -> None:
    w = timedelta(hours=1)
    k = case_keys("http://a.example/", "spam", T0, w)
    assert k == case_keys("http://a.example/", ReportType.SPAM, T0 + timedelta(minutes=59), w)
    assert k.current != case_keys("http://a.example/", "phishing", T0, w).current
    assert k.current != case_keys("http://b.example/", "spam", T0, w).current
    later = case_keys("http://a.example/", "spam", T0 + w, w)
    assert later.previous == k.current
    with pytest.raises(ValueError):
        case_keys("http://a.example/", "spam", T0, timedelta(0))


def test_csam_comes_first_and_every_sla_is_positive() -> None:
    ranked = sorted(ReportType, key=lambda t: (policy_of(t).priority, policy_of(t).sla))
    assert ranked[0] is ReportType.CSAM
    assert policy_of("csam").priority is Priority.P0 and policy_of("csam").urgent
    assert all(p.sla > timedelta(0) for p in POLICIES.values())
    assert not policy_of("copyright").urgent
    assert escalated(Priority.P2) is Priority.P1 and escalated(Priority.P0) is Priority.P0


@pytest.mark.parametrize(
    ("state", "action", "after"),
    [
        ("new", ActionRequest(CaseAction.TRIAGE), "triaged"),
        ("new", ActionRequest(CaseAction.NOTIFY), "triaged"),
        ("triaged", ActionRequest(CaseAction.BLOCK), "actioned"),
        ("new", ActionRequest(CaseAction.INTERSTITIAL), "actioned"),
        ("triaged", ActionRequest(CaseAction.GEO_BLOCK, countries=("DE", "fr")), "actioned"),
        ("new", ActionRequest(CaseAction.REJECT, reason="not abuse"), "rejected"),
        ("new", ActionRequest(CaseAction.ESCALATE), "triaged"),
        ("actioned", ActionRequest(CaseAction.CLOSE), "closed"),
        ("rejected", ActionRequest(CaseAction.CLOSE), "closed"),
        ("actioned", ActionRequest(CaseAction.ASSIGN, assignee="kim"), "actioned"),
    ],
)
def test_state_machine(state: str, action: ActionRequest, after: str) -> None:
    assert next_state(state, action) is CaseState(after)


@pytest.mark.parametrize(
    ("state", "action", "problem"),
    [
        ("closed", ActionRequest(CaseAction.BLOCK), "cannot block a case that is 'closed'"),
        ("new", ActionRequest(CaseAction.REJECT), "reject needs a reason"),
        ("new", ActionRequest(CaseAction.REJECT, reason="  "), "reject needs a reason"),
        ("new", ActionRequest(CaseAction.CLOSE), "cannot close"),
        ("actioned", ActionRequest(CaseAction.REJECT, reason="x"), "cannot reject"),
        ("new", ActionRequest(CaseAction.ASSIGN), "needs an assignee"),
        ("new", ActionRequest(CaseAction.GEO_BLOCK), "needs countries"),
        ("new", ActionRequest(CaseAction.GEO_BLOCK, countries=("DEU",)), "invalid: DEU"),
    ],
)
def test_invalid_actions_say_why(state: str, action: ActionRequest, problem: str) -> None:
    with pytest.raises(InvalidActionError, match=problem):
        next_state(state, action)


# -- routing ---------------------------------------------------------------------------


def test_routing_per_type() -> None:
    zone = ZONES.get("shop.example")
    csam = route(ReportType.CSAM, zone)
    assert (
        csam.csam_report
        and csam.urgent
        and {r.id for r in csam.recipients}
        == {
            "owner:shop.example",
            "host:HostCo",
        }
    )
    phishing = route(ReportType.PHISHING, zone)
    assert phishing.queue is Queue.ANALYST and phishing.urgent and not phishing.csam_report
    copyright_ = route(ReportType.COPYRIGHT, zone)
    assert copyright_.queue is Queue.FORWARDED and not copyright_.urgent
    assert len(copyright_.recipients) == 2
    assert route(ReportType.SPAM, zone).queue is Queue.TRIAGE
    # No host known: only the owner.
    assert [r.id for r in route(ReportType.SPAM, ZONES.get("eu.shop.example")).recipients] == [
        "owner:eu.shop.example"
    ]


def test_unattributed_urls_notify_nobody_but_csam_is_still_reported() -> None:
    spam = route(ReportType.SPAM, None)
    assert spam.queue is Queue.UNATTRIBUTED and spam.recipients == ()
    csam = route(ReportType.CSAM, None)
    assert csam.csam_report and csam.recipients == ()


def test_untrusted_reporters_and_floods_hold_notices_but_never_csam() -> None:
    zone = ZONES.get("shop.example")
    held = route(ReportType.HARASSMENT, zone, untrusted_reporter=True, flooded=True)
    assert held.queue is Queue.REVIEW and held.recipients == ()
    assert held.held == ("untrusted_reporter", "flood")
    csam = route(ReportType.CSAM, zone, flooded=True)
    assert csam.csam_report and csam.recipients and csam.held == ()


# -- privacy ---------------------------------------------------------------------------


def _stored(consent: bool, kind: str = "harassment") -> dict[str, Any]:
    return {
        "id": "r1",
        "type": kind,
        "urls": ["http://shop.example/"],
        "description": "Jo here: call me at +1 (555) 123-4567 or write to jo@mail.example. "
        "Org staff agree. See /p/12",
        "reporter": {
            "name": "Jo Reporter",
            "email": "jo@mail.example",
            "organization": "Org",
            "consent": consent,
        },
        "copyright": None,
        "trademark": "",
        "source": "web",
    }


def test_owners_and_hosts_see_no_contact_details_without_consent() -> None:
    for audience in (Audience.OWNER, Audience.HOST):
        view = report_view(_stored(False), audience)
        text = repr(view)
        assert "Jo Reporter" not in text and "jo@mail.example" not in text
        assert "555" not in text and "Org" not in text and "source" not in view
        assert "Jo " not in text and "Reporter" not in text
        assert view["reporter"]["email"] == WITHHELD
        assert "/p/12" in view["description"]


def test_consent_shows_contact_details_except_for_csam() -> None:
    assert report_view(_stored(True), Audience.OWNER)["reporter"]["email"] == "jo@mail.example"
    csam = report_view(_stored(True, "csam"), Audience.HOST)
    assert "jo@mail.example" not in repr(csam)
    staff = report_view(_stored(False, "csam"), Audience.STAFF)
    assert staff["reporter"]["email"] == "jo@mail.example"


def test_scrub_contacts_masks_emails_and_phone_numbers_only() -> None:
    text = "mail a.b+c@x.example or +49 30 1234567; order 12345, 2026-12-01"
    out = scrub_contacts(text)
    assert "a.b+c@x.example" not in out and "1234567" not in out
    assert "order 12345" in out and out.count(WITHHELD) == 2


def test_dmca_signature_is_withheld_without_consent() -> None:
    stored = _stored(False, "copyright")
    stored["copyright"] = {"work": "Photo by jo@mail.example", "signature": "Jo Reporter"}
    view = report_view(stored, Audience.OWNER)
    assert view["copyright"]["signature"] == WITHHELD
    assert "jo@mail.example" not in repr(view)


# -- reputation and floods --------------------------------------------------------------


def test_reputation_needs_enough_decisions() -> None:
    assert Reputation().score == 0.5 and not Reputation().untrusted()
    assert not Reputation(reports=100, rejected=3).untrusted()
    assert Reputation(reports=100, rejected=9).untrusted()
    assert not Reputation(reports=100, actioned=5, rejected=9).untrusted()


def test_flood_detector_counts_a_sliding_window() -> None:
    flood = FloodDetector(window=timedelta(minutes=1), max_reports=3, max_targets=2)
    assert [flood.observe("t", T0 + timedelta(seconds=i)) for i in range(4)] == [
        False,
        False,
        False,
        True,
    ]
    assert flood.flooded("t")
    # A minute later the window is empty again.
    assert not flood.observe("t", T0 + timedelta(minutes=2))
    # Bounded: a third target evicts the least recently seen.
    flood.observe("u", T0)
    flood.observe("v", T0)
    assert not flood.flooded("t") and len(flood._seen) == 2
    with pytest.raises(ValueError):
        FloodDetector(max_reports=0)


# -- events ------------------------------------------------------------------------------


def test_events_round_trip_single_and_packed() -> None:
    report = submit()
    event = report_event(report)
    assert Event.decode(event.encode()) == event
    assert decode_batch(encode_batch([event, event])) == [event, event]
    assert Report.model_validate(event.data) == report
    for bad in (b"{", b"[1]", b'{"id": "", "kind": "k", "data": {}}', b'{"id": "x"}'):
        with pytest.raises(EventFormatError):
            decode_batch(bad)


# -- pipeline + memory sink ------------------------------------------------------------


def test_processor_builds_one_entry_per_url() -> None:
    processor = Processor(ZONES, window=timedelta(hours=1))
    report = submit(type="csam", urls=["https://a.shop.example/x", "https://other.test/"])
    processed = processor.process(report)
    a, b = processed.entries
    assert (a.zone, b.zone) == ("shop.example", "unattributed")
    assert a.priority is Priority.P0 and a.sla_due == T0 + timedelta(hours=1)
    assert a.routing.csam_report and b.routing.csam_report and not b.routing.recipients


def test_processor_reports_urls_it_cannot_canonicalize() -> None:
    report = Report(id="x" * 32, type=ReportType.SPAM, urls=["ftp://x/", "a.example"],
                    source="replay", received_at=T0)  # fmt: skip
    processed = Processor(ZONES).process(report)
    assert [e.url for e in processed.entries] == ["http://a.example/"]
    assert "ftp" in processed.errors[0]


def test_untrusted_reporter_holds_notices() -> None:
    processed = Processor(ZONES).process(submit(type="spam"), Reputation(10, 0, 10))
    assert processed.entries[0].routing.queue is Queue.REVIEW


def test_memory_sink_dedupes_counts_and_is_idempotent() -> None:
    window = timedelta(hours=1)
    processor = Processor(ZONES, window=window)
    sink = MemoryCaseSink(window)
    url = "https://login.shop.example/x"
    reports = [
        submit(urls=[url], reporter={"email": "a@r.example"}),
        submit(urls=["HTTPS://LOGIN.shop.EXAMPLE:443/x#top"], reporter={"email": "b@r.example"}),
        submit(urls=[url], reporter={"email": "a@r.example"}),
        submit(type="spam", urls=[url]),
    ]
    first = sink.apply(processor.process(r) for r in reports)
    assert (first.new_reports, first.new_cases, first.case_entries) == (4, 2, 4)
    phishing = next(c for c in sink.cases.values() if c.type == "phishing")
    assert len(phishing.report_ids) == 3 and len(phishing.reporter_keys) == 2
    # Urgent phishing: owner + host at once; spam: both in their daily digest.
    keys = sorted(n.key for n in sink.notices)
    assert len(keys) == 4 and sum(k.startswith("abuse:notify:") for k in keys) == 2
    # Redelivery of the whole batch changes nothing.
    again = sink.apply(processor.process(r) for r in reports)
    assert (again.new_reports, again.duplicate_reports, again.notices) == (0, 4, 0)
    assert len(phishing.report_ids) == 3 and len(sink.notices) == 4


def test_memory_sink_window_spans_bucket_boundaries() -> None:
    window = timedelta(hours=1)
    sink = MemoryCaseSink(window)
    processor = Processor(ZONES, window=window)
    start = datetime(2026, 12, 1, 12, 59, 30, tzinfo=UTC)
    sub = ReportSubmission(type=ReportType.SPAM, urls=["https://shop.example/s"])
    near = [sub.accept(source="t", received_at=start + timedelta(seconds=s)) for s in (0, 60)]
    far = sub.accept(source="t", received_at=start + timedelta(hours=3))
    result = sink.apply(processor.process(r) for r in [*near, far])
    assert result.new_cases == 2
