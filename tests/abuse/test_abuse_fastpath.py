"""The consumer's fast paths against their references (hypothesis, derandomized).

* ``parse_canonical`` (a regular expression for URLs already in canonical form) against
  ``parse_url_reference`` (the full parser);
* ``Processor.process`` (cached per URL and per routing decision) against
  ``process_reference``.
"""

from __future__ import annotations

import string
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bastion.abuse import Event, EventFormatError, InvalidUrlError, Processor, Report
from bastion.abuse.events import decode_batch
from bastion.abuse.pipeline import process_reference
from bastion.abuse.reputation import FloodDetector, Reputation
from bastion.abuse.synthetic import synthetic_reports
from bastion.abuse.urls import parse_canonical, parse_url_reference
from bastion.abuse.zones import ZoneDirectory, ZoneInfo

CHECK = settings(max_examples=400, derandomize=True, deadline=None)

# -- URLs ---------------------------------------------------------------------------

_LABEL = st.one_of(
    st.text(string.ascii_lowercase + string.digits + "-_", min_size=1, max_size=8),
    st.sampled_from(["xn--bcher-kva", "xn--zz", "0x7f", "127", "A", "é", "", "a" * 64]),
)
_HOST = st.lists(_LABEL, min_size=1, max_size=4).map(".".join)
_PCHARS = string.ascii_letters + string.digits + "-._~!$&'()*+,;=:@/"
_PIECE = st.one_of(
    st.text(_PCHARS, max_size=6),
    st.sampled_from(
        [".", "..", "/./", "/../", "%2F", "%2f", "%41", "%2E", "%7E", "%7F", "%E2%82%AC", "%",
         "%4", " ", "é", "\\", "#", "?", "%5F", "%60", "%3A"]
    ),
)  # fmt: skip
_PATH = st.lists(_PIECE, max_size=6).map(lambda p: "/" + "".join(p))


@st.composite
def url_like(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["http", "https", "HTTP", "ftp", ""]))
    port = draw(st.sampled_from(["", "", ":80", ":443", ":8080", ":0"]))
    query = draw(st.one_of(st.none(), st.lists(_PIECE, max_size=4).map("".join)))
    head = f"{scheme}://" if scheme else ""
    tail = draw(st.sampled_from(["", "", "#frag", " "]))
    return head + draw(_HOST) + port + draw(_PATH) + ("" if query is None else "?" + query) + tail


@st.composite
def canonical_like(draw: st.DrawFn) -> str:
    """Mostly in the fast path's shape, with the pieces that must send it to the parser."""
    scheme = draw(st.sampled_from(["http", "https"]))
    labels = draw(st.lists(st.text(string.ascii_lowercase + "0-_", min_size=1, max_size=5),
                           min_size=1, max_size=3))  # fmt: skip
    path = "/" + "".join(draw(st.lists(st.one_of(st.text(_PCHARS, max_size=4), _PIECE),
                                       max_size=5)))  # fmt: skip
    query = draw(st.one_of(st.none(), st.text(_PCHARS + "?%AF", max_size=6)))
    return f"{scheme}://{'.'.join(labels)}{path}" + ("" if query is None else "?" + query)


def _reference(raw: str) -> Any:
    try:
        return parse_url_reference(raw)
    except InvalidUrlError:
        return None


@given(st.one_of(canonical_like(), url_like(), st.text(max_size=60)))
@example("http://a.example/%2e%2E/x")
@example("http://a.example/./x")
@example("http://a.example/a/..")
@example("http://1.2.3.4/")
@example("http://a.0x10/")
@example("http://xn--zz.example/")
@example("http://a.example/?")
@example("https://" + "a." * 130 + "example/")
@example("http://a.example/" + "x" * 2040)
@CHECK
def test_parse_canonical_answers_only_what_the_parser_answers(raw: str) -> None:
    fast = parse_canonical(raw)
    if fast is not None:
        assert fast == parse_url_reference(raw)


@given(url_like())
@CHECK
def test_parse_canonical_of_a_canonical_url_is_the_parser_s(raw: str) -> None:
    ref = _reference(raw)
    if ref is None:
        return
    fast = parse_canonical(ref.url)
    assert fast is None or fast == ref
    assert parse_url_reference(ref.url) == ref


@pytest.mark.parametrize(
    "url",
    [
        "https://www.shop.example/p/12",
        "http://login.bank-example.test/signin?next=%2Fhome&x=1",
        "https://a_b.example/%E2%82%AC/x.html",
        "https://example/",
        "http://cdn.example/a/.hidden/..b/c",
    ],
)
def test_the_common_shapes_take_the_fast_path(url: str) -> None:
    fast = parse_canonical(url)
    assert fast is not None
    assert fast == parse_url_reference(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://shop.example:8080/",  # a port
        "http://127.0.0.1/",  # an address
        "http://xn--bcher-kva.de/",  # punycode (checked by the parser)
        "http://shop.example/a/../b",  # dot segments
        "http://shop.example/%7E",  # an unreserved escape
        "http://shop.example",  # no path
        "HTTP://shop.example/",  # upper case
    ],
)
def test_other_shapes_go_to_the_parser(url: str) -> None:
    assert parse_canonical(url) is None


# -- the processor -------------------------------------------------------------------

ZONES = [
    ZoneInfo("shop.example", "abuse@shop.example", "HostCo", "abuse@hostco.example"),
    ZoneInfo("blog.example", "abuse@blog.example"),
    ZoneInfo("news.example", None, "NewsHost", None),
    ZoneInfo("example", "root@example"),
]
AT = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _processors(**kwargs: Any) -> tuple[Processor, Processor]:
    def make() -> Processor:
        return Processor(
            ZoneDirectory(ZONES),
            flood=FloodDetector(window=timedelta(minutes=5), max_reports=3),
            **kwargs,
        )

    return make(), make()


def test_processor_matches_its_reference_on_synthetic_reports() -> None:
    fast, slow = _processors(url_cache=64)  # small: the cache evicts along the way
    reports = list(
        synthetic_reports(3000, seed=5, zones=("shop.example", "blog.example"), reporters=50)
    )
    untrusted = Reputation(reports=9, actioned=0, rejected=9)
    for i, report in enumerate(reports):
        reputation = untrusted if i % 7 == 0 else Reputation()
        assert fast.process(report, reputation) == process_reference(slow, report, reputation)


_URL = st.one_of(
    url_like(),
    st.sampled_from(
        ["https://www.shop.example/p/1", "https://shop.example/p/1", "https://blog.example./x",
         "http://news.example:8080/", "https://other.test/a", "https://a.example/", "nope:x"]
    ),
)  # fmt: skip


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["phishing", "csam", "copyright", "spam", "malware"]),
            st.lists(_URL, min_size=1, max_size=4),
            st.integers(0, 7200),
            st.booleans(),
        ),
        min_size=1,
        max_size=12,
    )
)
@CHECK
def test_processor_matches_its_reference_on_generated_reports(
    items: list[tuple[str, list[str], int, bool]],
) -> None:
    fast, slow = _processors(url_cache=3)
    for n, (kind, urls, seconds, untrusted) in enumerate(items):
        report = Report(
            id=f"{n:032x}",
            type=kind,
            urls=urls,
            source="test",
            received_at=AT + timedelta(seconds=seconds),
        )
        reputation = Reputation(reports=9, rejected=9) if untrusted else Reputation()
        assert fast.process(report, reputation) == process_reference(slow, report, reputation)


def test_processor_window_must_be_positive() -> None:
    processor = Processor(ZoneDirectory(ZONES), window=timedelta(0))
    report = next(synthetic_reports(1, seed=6))
    with pytest.raises(ValueError, match="positive"):
        processor.process(report)


# -- events ----------------------------------------------------------------------------

_JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.text(max_size=4)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)
_EVENTISH = st.fixed_dictionaries(
    {},
    optional={
        "id": st.one_of(st.text(max_size=3), st.just("x" * 129), st.just("x" * 128), _JSON),
        "kind": st.one_of(st.just("abuse.report"), _JSON),
        "data": st.one_of(st.dictionaries(st.text(max_size=3), _JSON, max_size=2), _JSON),
    },
)


@given(st.lists(st.one_of(_EVENTISH, _JSON), max_size=5))
@CHECK
def test_decode_batch_is_event_from_json_per_element(items: list[Any]) -> None:
    raw = orjson.dumps(items)
    try:
        expected: Any = [Event.from_json(o) for o in items]
    except EventFormatError as exc:
        expected = type(exc)
    try:
        got: Any = decode_batch(raw)
    except EventFormatError as exc:
        got = type(exc)
    assert got == expected
