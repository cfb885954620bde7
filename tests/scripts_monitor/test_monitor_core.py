"""The monitor's pure rules: observations, item counters and status, alerts, policies,
and the sampled report-only header."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bastion.scripts.monitor.alerts import (
    alert_key,
    observation_alerts,
    outbox_payload,
    version_alerts,
)
from bastion.scripts.monitor.header import (
    HeaderConfigError,
    ReportOnlyHeader,
    report_endpoint,
)
from bastion.scripts.monitor.inventory import (
    RECENT_PAGES,
    ItemState,
    Observation,
    apply,
    observe,
    recent_pages,
    status,
)
from bastion.scripts.monitor.policy import (
    AllowPolicy,
    PolicyError,
    enforcing_header,
    suggest_policy,
    validate_source,
)
from bastion.scripts.monitor.reports import CspReport
from bastion.scripts.result import ScriptResult

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _report(
    blocked: str, directive: str = "script-src-elem", page: str = "https://s.example/a?x=1"
) -> CspReport:
    return CspReport(page, blocked, directive, directive, "csp-report")


@pytest.mark.parametrize(
    ("blocked", "directive", "kind", "url"),
    [
        (
            "https://CDN.example:443/lib.js?v=3#x",
            "script-src-elem",
            "script",
            "https://cdn.example/lib.js",
        ),
        ("https://cdn.example", "script-src", "script", "https://cdn.example/"),
        ("http://cdn.example:8080/a.js", "worker-src", "script", "http://cdn.example:8080/a.js"),
        ("wss://push.example/s?token=secret", "connect-src", "connection", "wss://push.example/s"),
        (
            "https://api.example/v1/collect?email=a@b",
            "connect-src",
            "connection",
            "https://api.example/v1/collect",
        ),
        ("inline", "script-src-elem", None, None),
        ("eval", "script-src", None, None),
        ("data:text/javascript,alert(1)", "script-src-elem", None, None),
        ("wss://push.example/s", "script-src-elem", None, None),
        ("https://img.example/a.png", "img-src", None, None),
    ],
)
def test_observe(blocked: str, directive: str, kind: str | None, url: str | None) -> None:
    obs = observe(_report(blocked, directive), T0)
    if kind is None:
        assert obs is None
        return
    assert obs is not None
    assert (obs.kind, obs.url) == (kind, url)
    assert obs.page_url == "https://s.example/a"  # no query string: it can carry user data


def test_apply_counts_pages_and_times() -> None:
    obs = [
        Observation(
            "script",
            "https://c.example/a.js",
            "c.example",
            f"https://s.example/p{i % 12}",
            T0 + timedelta(minutes=i),
        )
        for i in range(15)
    ]
    state: ItemState | None = None
    for o in obs:
        state = apply(state, o)
    assert state is not None
    assert state.report_count == 15
    assert (state.first_seen, state.last_seen) == (T0, T0 + timedelta(minutes=14))
    assert len(state.pages) == RECENT_PAGES
    assert state.pages[0] == "https://s.example/p2"  # i=14 -> p2, most recent first
    assert len(set(state.pages)) == RECENT_PAGES
    # An older report moves first_seen back but neither last_seen nor the page order.
    late = Observation(
        "script",
        "https://c.example/a.js",
        "c.example",
        "https://s.example/p2",
        T0 - timedelta(days=1),
    )
    after = apply(state, late)
    assert after.first_seen == T0 - timedelta(days=1)
    assert after.last_seen == state.last_seen and after.pages == state.pages


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.sampled_from([f"p{i}" for i in range(15)])), max_size=40))
def test_recent_pages_is_a_bounded_mru(pages: list[str | None]) -> None:
    got: tuple[str, ...] = ()
    for page in pages:
        got = recent_pages(got, page)
        assert len(got) <= RECENT_PAGES and len(set(got)) == len(got)
        if page is not None:
            assert got[0] == page
    seen = [p for p in reversed(pages) if p is not None]
    expected = list(dict.fromkeys(seen))[:RECENT_PAGES]
    assert list(got) == expected


def test_status() -> None:
    now = T0 + timedelta(days=30)
    assert status(1, now, now) == "infrequent"
    assert status(2, now - timedelta(days=6, hours=23), now) == "infrequent"
    assert status(3, now - timedelta(days=1), now) == "active"
    assert status(500, now - timedelta(days=7), now) == "inactive"
    assert status(1, now - timedelta(days=8), now) == "inactive"


def _result(cls: str, ast_hash: str = "h1") -> ScriptResult:
    score = 99 if cls == "benign" else 5
    return ScriptResult(score, score, 99, 99, cls, ast_hash)  # type: ignore[arg-type]


def test_observation_alerts() -> None:
    obs = Observation("script", "https://c.example/a.js", "c.example", None, T0)
    kinds = [a.kind for a in observation_alerts("s.example", obs, new_item=True, new_host=True)]
    assert kinds == ["new_script", "new_domain"]
    assert observation_alerts("s.example", obs, new_item=False, new_host=False) == []
    conn = Observation("connection", "https://c.example/x", "c.example", None, T0)
    assert [
        a.kind for a in observation_alerts("s.example", conn, new_item=True, new_host=False)
    ] == []
    one = observation_alerts("s.example", obs, new_item=True, new_host=True)
    two = observation_alerts("s.example", obs, new_item=True, new_host=True)
    assert [a.key for a in one] == [a.key for a in two]  # the same event, the same key
    assert len(alert_key("malicious", "z" * 253, "u" * 5000)) <= 512
    # The zone's own host and its subdomains are no new domain.
    for zone in ("c.example", "example"):
        own = observation_alerts(zone, obs, new_item=True, new_host=True)
        assert [a.kind for a in own] == ["new_script"]


def test_scripts_are_fetched_with_their_query_string() -> None:
    obs = observe(_report("https://cdn.example/gtag/js?id=G-1#frag"), T0)
    assert obs is not None
    assert obs.url == "https://cdn.example/gtag/js"
    assert obs.fetch_url == "https://cdn.example/gtag/js?id=G-1"
    conn = observe(_report("https://api.example/c?email=a@b", "connect-src"), T0)
    assert conn is not None and conn.fetch_url is None


def test_version_alerts() -> None:
    url = "https://c.example/a.js"
    assert version_alerts("s", url, "c1", _result("benign"), earlier_ast_hashes=()) == []
    same_tree = version_alerts("s", url, "c2", _result("benign", "h1"), earlier_ast_hashes={"h1"})
    assert same_tree == []  # reformatted: same AST hash, no alert
    changed = version_alerts("s", url, "c3", _result("magecart", "h2"), earlier_ast_hashes={"h1"})
    assert [a.kind for a in changed] == ["code_change", "malicious"]
    assert changed[1].severity == "critical"
    payload = outbox_payload(changed[1], 7, "2026-01-01T00:00:00Z")
    assert payload["type"] == "scripts.alert" and payload["alert"] == "malicious"
    assert payload["class"] == "magecart" and payload["alert_id"] == 7


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("'SELF'", "'self'"),
        ("https:", "https:"),
        ("HTTPS://CDN.Example.com", "https://cdn.example.com"),
        ("*.example.com:443/js/App.js", "*.example.com:443/js/App.js"),
        ("cdn.example:*", "cdn.example:*"),
        ("'sha256-abc+/def='", "'sha256-abc+/def='"),
        ("203.0.113.7", "203.0.113.7"),
    ],
)
def test_valid_sources(source: str, expected: str) -> None:
    assert validate_source(source) == expected


@pytest.mark.parametrize(
    "source",
    [
        "",
        "https://a.example; script-src *",
        "a.example,b.example",
        "a example",
        "'nonce-abc'",
        "'unsafe-everything'",
        "https://a.example\r\nSet-Cookie: x",
        "ex\u00e4mple.com",
        "https://a.example:99999",
        "-bad.example",
        'a.example/"x',
    ],
)
def test_invalid_sources(source: str) -> None:
    with pytest.raises(PolicyError):
        validate_source(source)


def test_enforcing_header() -> None:
    policy = AllowPolicy.from_json(
        {"script_src": ["'self'", "https://cdn.example", "https://CDN.example"], "connect_src": []}
    )
    name, value = enforcing_header(
        policy, report_uri="https://b.example/v1/csp/reports/s.example", report_to="bastion-csp"
    )
    assert name == "Content-Security-Policy"
    assert value == (
        "script-src 'self' https://cdn.example; connect-src 'none'; "
        "report-uri https://b.example/v1/csp/reports/s.example; report-to bastion-csp"
    )
    quiet = AllowPolicy(("'none'",), ("'self'",), report=False)
    assert enforcing_header(quiet, report_uri="/r")[1] == "script-src 'none'; connect-src 'self'"
    with pytest.raises(PolicyError, match="report-uri"):
        enforcing_header(policy, report_uri="https://b.example/x; script-src *")
    for bad in (
        {"script_src": "'self'"},
        {"script_src": ["'none'", "'self'"]},
        {"report": "yes"},
        {"style_src": []},
        {"script_src": [1]},
    ):
        with pytest.raises(PolicyError):
            AllowPolicy.from_json(bad)
    assert AllowPolicy.from_json(policy.to_json()) == policy


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_validated_sources_are_header_safe_and_stable(source: str) -> None:
    try:
        out = validate_source(source)
    except PolicyError:
        return
    assert out.isascii() and out.isprintable()
    assert not any(c in out for c in ' ;,\r\n"')
    assert validate_source(out) == out


def test_suggest_policy() -> None:
    policy = suggest_policy(
        "s.example",
        [
            "https://s.example/app.js",
            "https://cdn.example/a.js",
            "https://cdn.example/b.js",
            "http://[::1]/x.js",
        ],
        ["https://api.example/collect", "wss://push.example/s"],
    )
    assert policy.script_src == ("'self'", "https://cdn.example")
    assert policy.connect_src == ("https://api.example", "wss://push.example")


def test_report_only_header_and_sampling() -> None:
    endpoint = report_endpoint("https://bastion.example/", "shop.example")
    assert endpoint == "https://bastion.example/v1/csp/reports/shop.example"
    draws = iter([0.05, 0.5, 0.0999])
    header = ReportOnlyHeader(endpoint, 0.1, rng=lambda: next(draws))
    first = header.headers_for_response([("content-type", "text/html")])
    assert dict(first) == {
        "Content-Security-Policy-Report-Only": (
            "script-src 'none' 'report-sample'; connect-src 'none'; "
            f"report-uri {endpoint}; report-to bastion-csp"
        ),
        "Reporting-Endpoints": f'bastion-csp="{endpoint}"',
    }
    assert header.headers_for_response([]) == []  # 0.5 is outside the 10% sample
    own = [("Content-Security-Policy-Report-Only", "default-src 'self'")]
    assert header.headers_for_response(own) == []  # the site's own policy wins
    assert ReportOnlyHeader(endpoint, 0.0, rng=lambda: 0.0).headers_for_response([]) == []
    assert ReportOnlyHeader(endpoint, 1.0, rng=lambda: 0.99).headers_for_response([]) != []
    for bad in ({"sample_rate": 1.5}, {"group": "a b"}, {"script_src": "'none'; x"}):
        with pytest.raises(HeaderConfigError):
            ReportOnlyHeader(endpoint, **bad)  # type: ignore[arg-type]
    for endpoint_bad in ("ftp://x/", "https://x/\r\n", "https://x/a;b", 'https://x/"'):
        with pytest.raises(HeaderConfigError):
            ReportOnlyHeader(endpoint_bad)
    with pytest.raises(HeaderConfigError):
        report_endpoint("https://b.example", "Shop.Example/../x")


def test_sample_rate_is_respected_statistically() -> None:
    import random

    rng = random.Random(7)
    header = ReportOnlyHeader("/v1/csp/reports/s.example", 0.25, rng=rng.random)
    hits = sum(bool(header.headers_for_response([])) for _ in range(20_000))
    assert 4600 < hits < 5400
