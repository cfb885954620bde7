"""Pure cores of legal orders, edge rules, interstitial passes and transparency periods."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from bastion.abuse.enforcement import (
    EdgeRule,
    EdgeRules,
    Scoped,
    case_rule,
    check_pass,
    check_ticket,
    order_rules,
    pass_cookie_name,
    sign_pass,
    ticket_mac,
)
from bastion.abuse.errors import InvalidUrlError
from bastion.abuse.orders import InvalidOrderError, OrderSubmission
from bastion.abuse.transparency import (
    InvalidPeriodError,
    TransparencyReport,
    parse_period,
)

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def order(**fields: object) -> OrderSubmission:
    base: dict[str, object] = {
        "authority": "Landgericht Hamburg",
        "jurisdiction": "de",
        "reference": "310 O 99/26",
        "urls": ["HTTPS://Shop.Example:443/a/../bad%7e?x=1#f"],
        "countries": ["de", "AT", "DE"],
    }
    base.update(fields)
    return OrderSubmission.model_validate(base)


def test_an_order_is_canonicalized() -> None:
    accepted = order(hosts=["Evil.Example."]).accept(
        default_blocked_by="https://bastion.example/legal", now=T0
    )
    assert accepted.urls == ("https://shop.example/bad~?x=1",)
    assert accepted.hosts == ("evil.example",)
    assert accepted.countries == ("AT", "DE") and accepted.jurisdiction == "DE"
    assert accepted.valid_from == T0 and accepted.valid_until is None
    assert accepted.blocked_by == "https://bastion.example/legal"
    assert accepted.in_force(T0) and not accepted.in_force(T0 - timedelta(seconds=1))


@pytest.mark.parametrize(
    ("fields", "needle"),
    [
        ({"urls": [], "hosts": []}, "scope"),
        ({"countries": []}, "countries"),
        ({"countries": ["D1"]}, "D1"),
        ({"authority": ""}, "authority"),
        ({"valid_from": T0, "valid_until": T0}, "valid_until"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_invalid_orders_name_the_problem(fields: dict[str, object], needle: str) -> None:
    with pytest.raises((ValidationError, InvalidOrderError)) as info:
        order(**fields).accept(default_blocked_by="https://b.example/", now=T0)
    assert needle in str(info.value)


def test_an_order_needs_a_blocked_by_link_and_valid_urls() -> None:
    with pytest.raises(InvalidOrderError, match="blocked_by"):
        order().accept(default_blocked_by=None, now=T0)
    with pytest.raises(InvalidUrlError):
        order(urls=["ftp://x.example/"]).accept(default_blocked_by="https://b.example/", now=T0)
    with pytest.raises(InvalidUrlError):
        order(blocked_by="javascript:alert(1)").accept(default_blocked_by=None, now=T0)


def test_validity_window() -> None:
    o = order(valid_from=T0, valid_until=T0 + timedelta(days=1)).accept(
        default_blocked_by="https://b.example/", now=T0
    )
    assert [len(order_rules([o], T0 + timedelta(hours=h))) for h in (-1, 0, 23, 24)] == [0, 1, 1, 0]
    withdrawn = o.model_copy(update={"state": "withdrawn"})
    assert order_rules([withdrawn], T0) == []


def rules() -> EdgeRules:
    o = order(hosts=["evil.example"], blocked_by="https://bastion.example/legal/1").accept(
        default_blocked_by=None, now=T0
    )
    o = o.model_copy(update={"id": 1})
    scoped = order_rules([o], T0)
    for case_id, url, enforcement in (
        (7, "https://shop.example/bad~", {"action": "interstitial"}),
        (8, "https://shop.example/phish", {"action": "block", "countries": ["FR"]}),
        (9, "https://shop.example/geo", {"action": "geo_block", "countries": ["fr"]}),
        (10, "https://shop.example/noted", {"action": "notify"}),
    ):
        rule = case_rule(case_id, url, enforcement, "https://bastion.example/abuse")
        if rule is not None:
            scoped.append(rule)
    return EdgeRules(scoped)


def test_rules_match_by_url_host_and_country() -> None:
    r = rules()
    assert len(r) == 5  # the order's URL and host, and three case rules (notify is none)
    hit = r.match("shop.example", "/bad%7E", "DE")
    assert hit is not None and hit.id == "order:1" and hit.effect == "block"
    assert hit.link_header() == '<https://bastion.example/legal/1>; rel="blocked-by"'
    # Outside the order's countries the case's interstitial applies.
    hit = r.match("shop.example", "/a/../bad~", "US")
    assert hit is not None and hit.id == "case:7" and hit.effect == "interstitial"
    assert hit.link_header() is None
    # ... and unless it was passed.
    assert r.match("shop.example", "/bad~", "US", lambda rule: rule.id == "case:7") is None
    # Hosts cover their subdomains, only in the listed countries; unknown country passes.
    assert r.match("www.evil.example", "/anything", "AT") is not None
    assert r.match("evil.example", "/", None) is None
    assert r.match("notevil.example", "/", "AT") is None
    # A case block is everywhere; a geo_block only in its countries.
    assert r.match("shop.example", "/phish", None) is not None
    assert r.match("shop.example", "/geo", "US") is None
    geo = r.match("shop.example", "/geo", "FR")
    assert geo is not None and geo.countries == frozenset({"FR"})
    assert r.match("shop.example", "/noted", "FR") is None
    assert r.match("shop.example", "/elsewhere", "DE") is None
    assert EdgeRules().match("shop.example", "/", "DE") is None


@given(host=st.text(max_size=300), path=st.text(max_size=300), country=st.text(max_size=3))
def test_matching_never_raises(host: str, path: str, country: str) -> None:
    rules().match(host, path, country or None)


def test_pass_cookies_and_tickets() -> None:
    secret = b"s" * 32
    value = sign_pass(secret, "shop.example", "case:7", 2_000_000_000)
    assert check_pass(secret, "shop.example", "case:7", value, 1_999_999_999)
    assert not check_pass(secret, "shop.example", "case:7", value, 2_000_000_000)  # expired
    assert not check_pass(secret, "shop.example", "case:8", value, 0)  # other rule
    assert not check_pass(secret, "evil.example", "case:7", value, 0)  # other host
    assert not check_pass(b"t" * 32, "shop.example", "case:7", value, 0)  # other secret
    forged = "9999999999." + value.split(".", 1)[1]
    assert not check_pass(secret, "shop.example", "case:7", forged, 0)
    for junk in ("", ".", "abc.def", "1" * 40 + ".x"):
        assert not check_pass(secret, "shop.example", "case:7", junk, 0)
    mac = ticket_mac(secret, "shop.example", "case:7", "nonce")
    assert check_ticket(secret, "shop.example", "case:7", "nonce", mac)
    assert not check_ticket(secret, "shop.example", "case:7", "other", mac)
    assert not check_ticket(secret, "shop.example", "case:7", "", mac)
    assert pass_cookie_name("case:7") == "bastion_pass_case_7"


def test_rule_without_countries_applies_everywhere() -> None:
    rule = EdgeRule("case:1", "block")
    assert rule.applies_in(None) and rule.applies_in("DE")
    one = EdgeRules([Scoped("a.example", "/", rule)])
    assert one.match("a.example", "/", None) is rule


# -- transparency ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "start", "end", "months"),
    [
        ("2026-Q4", datetime(2026, 10, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC), 3),
        ("2026-q1", datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC), 3),
        ("2026-12", datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC), 1),
        ("2026", datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC), 12),
    ],
)
def test_periods(text: str, start: datetime, end: datetime, months: int) -> None:
    p = parse_period(text)
    assert (p.start, p.end, len(p.months())) == (start, end, months)


@pytest.mark.parametrize("text", ["2026-Q5", "2026-13", "2026-00", "26", "Q4-2026", "", "2026-1"])
def test_bad_periods(text: str) -> None:
    with pytest.raises(InvalidPeriodError):
        parse_period(text)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)


def test_report_renders_csv_json_and_html() -> None:
    report = TransparencyReport(parse_period("2026-Q4"), T0)
    report.add("2026-10", "reports", "phishing", 3)
    report.add("2026-11", "reports", "phishing", 2)
    report.add("2026-11", "reports", "<script>", 1)
    report.add("2026-11", "actions", "block", 1)
    report.add("2026-11", "legal_orders", "DE", 1)
    report.orders.append(
        {"id": 1, "authority": "LG <Hamburg>", "jurisdiction": "DE", "reference": "r",
         "countries": ["DE"], "url_count": 1, "host_count": 0,
         "valid_from": T0.isoformat(), "valid_until": None, "state": "active"}
    )  # fmt: skip
    data = orjson.loads(report.json_bytes())
    assert data["totals"]["reports"] == {"<script>": 1, "phishing": 5}
    assert data["totals"]["cases"] == {} and data["by_month"]["2026-12"] == {}
    assert data["by_month"]["2026-10"] == {"reports": {"phishing": 3}}
    rows = list(csv.DictReader(io.StringIO(report.csv_text())))
    total = [r for r in rows if r["month"] == "total" and r["key"] == "phishing"]
    assert total == [{"period": "2026-Q4", "month": "total", "metric": "reports",
                      "key": "phishing", "count": "5"}]  # fmt: skip
    html = report.html()
    assert "<script>" not in html and "&lt;script&gt;" in html and "LG &lt;Hamburg&gt;" in html
    tags = _Tags()
    tags.feed(html)
    assert tags.tags.count("svg") == 3  # reports, actions, legal orders have data
    assert "script" not in tags.tags and "link" not in tags.tags and "img" not in tags.tags
    with pytest.raises(ValueError, match="metric"):
        report.add("2026-10", "bogus", "x", 1)


@given(
    path=st.text(alphabet=st.sampled_from(list("abcXYZ019-._~!$&'()*+,;=:@/%20. é?")), max_size=40)
)
def test_the_fast_path_canonicalization_agrees_with_the_parser(path: str) -> None:
    from bastion.abuse.enforcement import _canonical_path
    from bastion.abuse.urls import parse_url

    path = "/" + path.split("?", 1)[0]
    assert _canonical_path("shop.example", path) == parse_url(f"http://shop.example{path}").path
