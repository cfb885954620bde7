"""CSP report parsing: both wire formats, limits and errors, with property-based tests."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bastion.scripts.monitor.reports import (
    MEDIA_CSP_REPORT,
    MEDIA_JSON,
    MEDIA_REPORTS_JSON,
    CspReport,
    ReportError,
    ReportLimits,
    media_type,
    parse_reports,
)
from bastion.scripts.monitor.urls import normalize_url

LEGACY = {
    "csp-report": {
        "document-uri": "https://shop.example/checkout?step=2",
        "referrer": "https://shop.example/cart",
        "violated-directive": "script-src-elem",
        "effective-directive": "script-src-elem",
        "original-policy": "script-src 'none'; report-uri /r",
        "disposition": "report",
        "blocked-uri": "https://cdn.example/lib.js",
        "line-number": 12,
        "column-number": "7",
        "source-file": "https://shop.example/app.js",
        "status-code": 200,
        "script-sample": "",
    }
}

REPORTING = [
    {
        "type": "csp-violation",
        "age": 10,
        "url": "https://shop.example/checkout",
        "user_agent": "Mozilla/5.0",
        "body": {
            "documentURL": "https://shop.example/checkout",
            "blockedURL": "wss://push.example/socket",
            "effectiveDirective": "connect-src",
            "originalPolicy": "connect-src 'none'",
            "disposition": "report",
            "statusCode": 200,
            "lineNumber": 3,
        },
    },
    {"type": "deprecation", "url": "https://shop.example/", "body": {"id": "x"}},
]


def test_legacy_format_is_normalized() -> None:
    parsed = parse_reports(orjson.dumps(LEGACY), "application/csp-report; charset=utf-8")
    assert parsed.skipped == 0
    (r,) = parsed.reports
    assert r.format == "csp-report"
    assert r.document_url == "https://shop.example/checkout?step=2"
    assert r.blocked_url == "https://cdn.example/lib.js"
    assert r.effective_directive == "script-src-elem"
    assert (r.line_number, r.column_number, r.status_code) == (12, 7, 200)
    assert r.source_file == "https://shop.example/app.js"


def test_reporting_api_format_skips_other_types() -> None:
    parsed = parse_reports(orjson.dumps(REPORTING), MEDIA_REPORTS_JSON)
    assert parsed.skipped == 1
    (r,) = parsed.reports
    assert r.format == "reports+json"
    assert r.blocked_url == "wss://push.example/socket"
    assert r.effective_directive == "connect-src"
    assert r.user_agent == "Mozilla/5.0"


def test_application_json_is_accepted_in_either_shape() -> None:
    assert parse_reports(orjson.dumps(LEGACY), MEDIA_JSON).reports[0].format == "csp-report"
    assert parse_reports(orjson.dumps(REPORTING), MEDIA_JSON).reports[0].format == "reports+json"


def test_effective_directive_falls_back_to_violated_directive() -> None:
    old = {"csp-report": {**LEGACY["csp-report"]}}
    del old["csp-report"]["effective-directive"]
    old["csp-report"]["violated-directive"] = "Script-Src 'self' https://a.example"
    (r,) = parse_reports(orjson.dumps(old), MEDIA_CSP_REPORT).reports
    assert r.effective_directive == "script-src"


def test_document_url_falls_back_to_report_url() -> None:
    body = [{**REPORTING[0], "body": {**REPORTING[0]["body"]}}]
    del body[0]["body"]["documentURL"]
    (r,) = parse_reports(orjson.dumps(body), MEDIA_REPORTS_JSON).reports
    assert r.document_url == "https://shop.example/checkout"


@pytest.mark.parametrize(
    ("body", "ctype", "status", "fragment"),
    [
        (b"{}", "text/plain", 415, "unsupported Content-Type"),
        (b"{}", None, 415, "(none)"),
        (b"", MEDIA_CSP_REPORT, 400, "empty"),
        (b"{not json", MEDIA_CSP_REPORT, 400, "not valid JSON"),
        (b"[]", MEDIA_CSP_REPORT, 400, "must be an object"),
        (b'{"csp-report": 1}', MEDIA_CSP_REPORT, 400, '"csp-report" is missing'),
        (b'{"csp-report": {"blocked-uri": "x"}}', MEDIA_CSP_REPORT, 400, "document-uri"),
        (
            b'{"csp-report": {"document-uri": "https://a/", "blocked-uri": "x"}}',
            MEDIA_CSP_REPORT,
            400,
            "neither an effective nor a violated directive",
        ),
        (
            b'{"csp-report": {"document-uri": 5, "blocked-uri": "x"}}',
            MEDIA_CSP_REPORT,
            400,
            "csp-report.document-uri must be a string, not a number",
        ),
        (
            b'{"csp-report": {"document-uri": "https://a/", "blocked-uri": "x",'
            b' "effective-directive": "script-src", "line-number": "12a"}}',
            MEDIA_CSP_REPORT,
            400,
            "line-number must be an integer",
        ),
        (
            b'{"csp-report": {"document-uri": "https://a/", "blocked-uri": "x",'
            b' "effective-directive": "script-src", "line-number": -1}}',
            MEDIA_CSP_REPORT,
            400,
            "out of range",
        ),
        (
            b'{"csp-report": {"document-uri": "https://a/", "blocked-uri": "x",'
            b' "effective-directive": "script-src", "status-code": true}}',
            MEDIA_CSP_REPORT,
            400,
            "status-code must be an integer, not a boolean",
        ),
        (b"{}", MEDIA_REPORTS_JSON, 400, "must be a JSON array"),
        (b"[1]", MEDIA_REPORTS_JSON, 400, "[0] must be an object"),
        (b'[{"body": {}}]', MEDIA_REPORTS_JSON, 400, "[0].type must be a string"),
        (b'[{"type": "csp-violation"}]', MEDIA_REPORTS_JSON, 400, "[0].body is missing"),
    ],
)
def test_errors_name_the_problem(
    body: bytes, ctype: str | None, status: int, fragment: str
) -> None:
    with pytest.raises(ReportError) as info:
        parse_reports(body, ctype)
    assert info.value.status == status
    assert fragment in str(info.value)


def test_limits_give_413() -> None:
    limits = ReportLimits(max_body_bytes=2000, max_reports=3, max_url_chars=100)
    big = orjson.dumps({"csp-report": {"document-uri": "https://a/" + "x" * 3000}})
    with pytest.raises(ReportError) as info:
        parse_reports(big, MEDIA_CSP_REPORT, limits)
    assert (info.value.status, info.value.code) == (413, "too_large")
    many = orjson.dumps([REPORTING[0]] * 4)
    with pytest.raises(ReportError) as info:
        parse_reports(many, MEDIA_REPORTS_JSON, limits)
    assert (info.value.status, info.value.code) == (413, "too_many_reports")
    long_url = orjson.dumps({"csp-report": {**LEGACY["csp-report"], "blocked-uri": "h" * 101}})
    with pytest.raises(ReportError) as info:
        parse_reports(long_url, MEDIA_CSP_REPORT, limits)
    assert info.value.status == 413 and "blocked-uri has 101 characters" in str(info.value)


def test_media_type() -> None:
    assert media_type("Application/CSP-Report ; charset=utf-8") == "application/csp-report"
    assert media_type(None) == media_type("") == ""


# --- property-based tests -------------------------------------------------------------

_text = st.text(max_size=60)
_url = st.builds(
    lambda scheme, host, path: f"{scheme}://{host}/{path}",
    st.sampled_from(["http", "https", "wss"]),
    st.from_regex(r"[a-z0-9]{1,10}(\.[a-z0-9]{1,10}){0,3}", fullmatch=True),
    st.text(alphabet=st.characters(codec="ascii", exclude_characters="#?"), max_size=30),
)
_directive = st.sampled_from(
    ["script-src", "script-src-elem", "connect-src", "img-src", "worker-src", "style-src"]
)
_int = st.one_of(st.none(), st.integers(0, 2**31 - 1))


@st.composite
def violations(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "document_url": draw(_url),
        "blocked_url": draw(st.one_of(_url, st.sampled_from(["inline", "eval", "data"]))),
        "effective_directive": draw(_directive),
        "violated_directive": draw(_directive),
        "source_file": draw(st.one_of(st.none(), _url)),
        "line_number": draw(_int),
        "column_number": draw(_int),
        "referrer": draw(st.one_of(st.none(), _text)),
        "original_policy": draw(st.one_of(st.none(), _text)),
        "disposition": draw(st.sampled_from([None, "report", "enforce"])),
        "status_code": draw(st.one_of(st.none(), st.integers(0, 599))),
        "sample": draw(st.one_of(st.none(), _text)),
    }


_LEGACY_KEYS = {
    "document_url": "document-uri",
    "blocked_url": "blocked-uri",
    "effective_directive": "effective-directive",
    "violated_directive": "violated-directive",
    "source_file": "source-file",
    "line_number": "line-number",
    "column_number": "column-number",
    "referrer": "referrer",
    "original_policy": "original-policy",
    "disposition": "disposition",
    "status_code": "status-code",
    "sample": "script-sample",
}
_API_KEYS = {
    "document_url": "documentURL",
    "blocked_url": "blockedURL",
    "effective_directive": "effectiveDirective",
    "violated_directive": "violatedDirective",
    "source_file": "sourceFile",
    "line_number": "lineNumber",
    "column_number": "columnNumber",
    "referrer": "referrer",
    "original_policy": "originalPolicy",
    "disposition": "disposition",
    "status_code": "statusCode",
    "sample": "sample",
}


def _without_format(r: CspReport) -> tuple[Any, ...]:
    return (
        r.document_url,
        r.blocked_url,
        r.effective_directive,
        r.violated_directive,
        r.source_file,
        r.line_number,
        r.column_number,
        r.referrer,
        r.original_policy,
        r.disposition,
        r.status_code,
        r.sample,
    )


@settings(max_examples=200, deadline=None)
@given(st.lists(violations(), min_size=1, max_size=5))
def test_both_formats_give_the_same_records(items: list[dict[str, Any]]) -> None:
    api = [
        {"type": "csp-violation", "body": {_API_KEYS[k]: v for k, v in item.items()}}
        for item in items
    ]
    from_api = parse_reports(orjson.dumps(api), MEDIA_REPORTS_JSON).reports
    assert len(from_api) == len(items)
    for item, got in zip(items, from_api, strict=True):
        legacy = {"csp-report": {_LEGACY_KEYS[k]: v for k, v in item.items()}}
        (from_legacy,) = parse_reports(orjson.dumps(legacy), MEDIA_CSP_REPORT).reports
        assert _without_format(got) == _without_format(from_legacy)
        assert got.blocked_url == item["blocked_url"]
        assert got.line_number == item["line_number"]


_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=20), inner, max_size=5)
    ),
    max_leaves=30,
)
_keys = st.sampled_from([*_LEGACY_KEYS.values(), *_API_KEYS.values(), "type", "body", "x"])
_shaped = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 2**40) | st.text(max_size=20) | _url,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_keys, inner, max_size=8),
    max_leaves=40,
)
_ctype = st.sampled_from([MEDIA_CSP_REPORT, MEDIA_REPORTS_JSON, MEDIA_JSON])


def _parses_or_reports_error(body: bytes, ctype: str) -> None:
    try:
        parsed = parse_reports(body, ctype)
    except ReportError as exc:
        assert exc.status in (400, 413, 415)
        assert str(exc)
        return
    for r in parsed.reports:
        assert r.document_url and r.blocked_url and r.effective_directive
        assert r.effective_directive == r.effective_directive.lower()


@settings(max_examples=300, deadline=None)
@given(st.one_of(_json, _shaped), _ctype)
def test_any_json_parses_or_gives_a_client_error(value: Any, ctype: str) -> None:
    _parses_or_reports_error(orjson.dumps(value), ctype)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_keys, _shaped, max_size=10), _ctype)
def test_wrapped_objects_parse_or_give_a_client_error(inner: dict[str, Any], ctype: str) -> None:
    _parses_or_reports_error(orjson.dumps({"csp-report": inner}), ctype)
    _parses_or_reports_error(orjson.dumps([{"type": "csp-violation", "body": inner}]), ctype)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300), _ctype)
def test_any_bytes_parse_or_give_a_client_error(body: bytes, ctype: str) -> None:
    _parses_or_reports_error(body, ctype)


@settings(max_examples=300, deadline=None)
@given(st.one_of(_url, st.text(max_size=80)))
def test_url_normalization_is_idempotent_and_drops_query(raw: str) -> None:
    first = normalize_url(raw)
    if first is None:
        return
    again = normalize_url(first.url)
    assert again == first
    assert "?" not in first.url and "#" not in first.url
    assert first.url.startswith(first.origin)
