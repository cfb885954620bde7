"""URL canonicalization: examples, and properties over generated URLs (hypothesis)."""

from __future__ import annotations

import re
import string
from urllib.parse import urlsplit

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from bastion.abuse import InvalidUrlError, canonicalize_url, parse_url

EXAMPLES = [
    (
        "HTTP://User:pw@EXAMPLE.com:80/a/./b/../c%7e%2f?x=%3a&y#frag",
        "http://example.com/a/c~%2F?x=%3A&y",
    ),
    ("bücher.de", "http://xn--bcher-kva.de/"),
    ("https://BÜCHER.de:443/", "https://xn--bcher-kva.de/"),
    ("https://xn--bcher-kva.de", "https://xn--bcher-kva.de/"),
    ("http://example。com/", "http://example.com/"),  # ideographic full stop (UTS 46)
    ("http://[::0001]:8080/x", "http://[::1]:8080/x"),
    ("http://ex%61mple.com/%E2%82%AC €", "http://example.com/%E2%82%AC%20%E2%82%AC"),
    ("shop.example:8080/x", "http://shop.example:8080/x"),
    ("  https://shop.example./a/b/../../../c  ", "https://shop.example/c"),
    ("http://a.example/?", "http://a.example/"),
    ("http://a_b.example/%zz%4", "http://a_b.example/%25zz%254"),
    ("http://1.2.3.4:443/", "http://1.2.3.4:443/"),
    ("https://1.2.3.4:443/", "https://1.2.3.4/"),
    ("http://2130706433/", "http://127.0.0.1/"),
    ("http://0x7f.1/", "http://127.0.0.1/"),
    ("http://0177.0.0.01/", "http://127.0.0.1/"),
    ("http://shop.example/%2e%2E/admin", "http://shop.example/admin"),
    ("http://shop.example/a%2fb%3F", "http://shop.example/a%2Fb%3F"),
    ("http://shop.example\\login", "http://shop.example/login"),
    ("//shop.example/x", "http://shop.example/x"),
]


@pytest.mark.parametrize(("raw", "expected"), EXAMPLES)
def test_examples(raw: str, expected: str) -> None:
    assert canonicalize_url(raw) == expected


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("", "empty"),
        ("ftp://x.example/", "scheme 'ftp'"),
        ("javascript:alert(1)", "no host after 'javascript:'"),
        ("http://", "no host"),
        ("http://a..b/", "empty label"),
        ("http://xn--zz.example/", "punycode"),
        ("http://a.example:99999/", "out of range"),
        ("http://a.example:8x/", "invalid port"),
        ("http://-a.example/", "invalid host label"),
        ("http://a b.example/", "invalid host label"),
        ("http://[::g]/", "IPv6"),
        ("http://999.1.1.1/", "IPv4"),
        ("http://1.2.3.4.5/", "more than 4 parts"),
        ("http://abc.123/", "IPv4"),
        ("http://a.example/\x00", "control"),
        ("http://a.example/" + "a" * 2100, "longer than 2048"),
    ],
)
def test_invalid_urls_name_the_problem(raw: str, problem: str) -> None:
    with pytest.raises(InvalidUrlError, match=problem.replace("(", r"\(")):
        canonicalize_url(raw)


# -- properties ---------------------------------------------------------------------

_LABEL = st.text(string.ascii_letters + string.digits, min_size=1, max_size=12)
_ULABEL = st.sampled_from(["bücher", "пример", "例え", "straße", "ΑΒΓ", "café"])
_TLD = st.sampled_from(["example", "com", "de", "xn--p1ai", "рф", "co.uk"])
_HOST = st.tuples(st.lists(st.one_of(_LABEL, _ULABEL), max_size=3), _TLD).map(
    lambda t: ".".join([*t[0], t[1]])
)
_PATH_CHARS = string.ascii_letters + string.digits + "-._~!$&'()*+,;=:@/ %é€"
_SEGMENT = st.text(_PATH_CHARS, max_size=10)
_PATH = st.lists(st.one_of(_SEGMENT, st.sampled_from([".", ".."])), max_size=6).map(
    lambda segs: "/" + "/".join(segs)
)
_QUERY = st.one_of(st.none(), st.text(_PATH_CHARS + "?=&", max_size=20))


@st.composite
def urls(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["http", "https", "HTTP", "Https"]))
    host = draw(_HOST)
    host = "".join(c.upper() if draw(st.booleans()) else c for c in host)
    port = draw(st.sampled_from(["", ":80", ":443", ":8080"]))
    path = draw(_PATH)
    query = draw(_QUERY)
    frag = draw(st.one_of(st.none(), st.text(_PATH_CHARS + "#?", max_size=8)))
    return (
        f"{scheme}://{host}{port}{path}"
        + (f"?{query}" if query is not None else "")
        + (f"#{frag}" if frag is not None else "")
    )


@given(st.text(max_size=80))
@example("http://a.example/%")
@example("http://a.example/%2")
@example("http://a.example/.%2e/")
@settings(max_examples=400)
def test_canonical_form_is_a_fixed_point_for_any_text(raw: str) -> None:
    try:
        once = canonicalize_url(raw)
    except InvalidUrlError:
        return
    assert canonicalize_url(once) == once


@given(urls())
@settings(max_examples=300)
def test_generated_urls_canonicalize_to_ascii_without_fragment_or_default_port(raw: str) -> None:
    out = canonicalize_url(raw)
    assert out.isascii()
    assert "#" not in out
    parts = urlsplit(out)
    assert parts.scheme in ("http", "https")
    assert parts.hostname == parts.hostname.lower()
    assert parts.netloc == parts.netloc.lower()
    assert parts.port != {"http": 80, "https": 443}[parts.scheme]
    assert "/./" not in parts.path and "/../" not in parts.path
    assert canonicalize_url(out) == out


@given(urls(), st.text(max_size=12))
def test_the_fragment_never_matters(raw: str, fragment: str) -> None:
    base = raw.split("#", 1)[0]
    assert canonicalize_url(f"{base}#{fragment}") == canonicalize_url(base)


@given(urls(), st.data())
def test_escaping_unreserved_characters_does_not_change_the_url(
    raw: str, data: st.DataObject
) -> None:
    base = raw.split("#", 1)[0]
    scheme, rest = base.split("://", 1)
    cut = rest.find("/")
    authority, tail = rest[:cut], rest[cut:]
    assume("%" not in tail)  # escaping a digit of an existing escape would change it
    unreserved = set(string.ascii_letters + string.digits + "-_~")
    escaped = "".join(
        (f"%{ord(c):02x}" if data.draw(st.booleans()) else f"%{ord(c):02X}")
        if c in unreserved and data.draw(st.booleans())
        else c
        for c in tail
    )
    assert canonicalize_url(f"{scheme}://{authority}{escaped}") == canonicalize_url(base)


@given(_HOST, _PATH)
def test_default_ports_and_host_case_do_not_matter(host: str, path: str) -> None:
    for scheme, port in (("http", 80), ("https", 443)):
        plain = canonicalize_url(f"{scheme}://{host}{path}")
        upper = "".join(c.upper() if c.isascii() else c for c in host)  # not "ß" -> "SS"
        assert canonicalize_url(f"{scheme}://{upper}:{port}{path}") == plain
        assert canonicalize_url(f"{scheme.upper()}://user:pw@{host}{path}") == plain


@given(_HOST)
def test_unicode_hosts_equal_their_punycode(host: str) -> None:
    parsed = parse_url(f"https://{host}/")
    assert parsed.host.isascii()
    assume(any(not label.isascii() for label in host.split(".")))
    assert "xn--" in parsed.host
    assert canonicalize_url(f"https://{parsed.host}/") == parsed.url


@given(urls())
def test_hex_case_of_escapes_does_not_matter(raw: str) -> None:
    once = canonicalize_url(raw)
    assert all(m.group(0) == m.group(0).upper() for m in re.finditer(r"%[0-9A-Fa-f]{2}", once))
    lowered = re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), once)
    assert canonicalize_url(lowered) == once
