"""Tests for finding the inputs of a request."""

from __future__ import annotations

import json
import random
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bastion.waf.inputs import DEFAULT_LIMITS, Input, InputLimits, extract_inputs
from bastion.waf.request import HttpRequest


def _pairs(request: HttpRequest, limits: InputLimits = DEFAULT_LIMITS) -> list[tuple[str, str]]:
    return [(i.location, i.value) for i in extract_inputs(request, limits).inputs]


def _post(content_type: str, body: bytes, uri: str = "/") -> HttpRequest:
    headers = (("Content-Type", content_type),) if content_type else ()
    return HttpRequest("POST", uri, headers, body)


def test_path_and_query() -> None:
    req = HttpRequest("GET", "/a/b.php?id=1%27+or+1%3D1&x=%c0%af&empty=&flag&%3Cs%3E=v#frag")
    result = extract_inputs(req)
    assert not result.truncated
    assert result.inputs[0] == Input("path", "path", "/a/b.php")
    assert [(i.location, i.value) for i in result.inputs[1:]] == [
        ("query:id", "1' or 1=1"),
        ("query:x", "/"),
        ("query:empty", ""),
        ("query:flag", ""),
        ("querykey:<s>", "<s>"),
        ("query:<s>", "v"),
    ]
    assert {i.kind for i in result.inputs[1:]} == {"value"}


def test_root_path_skipped_and_query_without_equals() -> None:
    assert _pairs(HttpRequest("GET", "/")) == []
    assert _pairs(HttpRequest("GET", "/?<script>alert(1)</script>")) == [
        ("query", "<script>alert(1)</script>")
    ]
    assert _pairs(HttpRequest("GET", "/?a%20b+c")) == [("query", "a b c")]


def test_plain_param_names_are_not_inputs() -> None:
    locations = [loc for loc, _ in _pairs(HttpRequest("GET", "/?a.b[c]-d_e=1"))]
    assert locations == ["query:a.b[c]-d_e"]


def test_form_body() -> None:
    req = _post("application/x-www-form-urlencoded; charset=utf-8", b"u=admin&p=%27--+&%3Cx%3E=1")
    assert _pairs(req) == [
        ("body:form:u", "admin"),
        ("body:form:p", "'-- "),
        ("body:formkey:<x>", "<x>"),
        ("body:form:<x>", "1"),
    ]


def test_json_body() -> None:
    doc = {"a": {"b": ["x", 1, "y", {"c d": "z"}]}, "it's": "v", "n": None, "t": True}
    result = extract_inputs(_post("application/json", json.dumps(doc).encode()))
    assert [(i.location, i.kind, i.value) for i in result.inputs] == [
        ("body:json:$.a.b[0]", "value", "x"),
        ("body:json:$.a.b[2]", "value", "y"),
        ("body:jsonkey:$.a.b[3]['c d']", "value", "c d"),
        ("body:json:$.a.b[3]['c d']", "value", "z"),
        ("body:jsonkey:$['it\\'s']", "value", "it's"),
        ("body:json:$['it\\'s']", "value", "v"),
    ]
    assert not result.truncated


def test_json_unescaped_and_sniffed_without_content_type() -> None:
    assert _pairs(_post("", b' {"q": "\\u003cscript\\u003e"}')) == [("body:json:$.q", "<script>")]
    assert _pairs(_post("application/vnd.api+json", b'["a"]')) == [("body:json:$[0]", "a")]
    assert _pairs(_post("application/json", b'{"a": "\\ud800"}')) == [("body:json:$.a", "\ufffd")]


def test_json_depth_limit_and_invalid_json() -> None:
    nested = b'{"a": [[["deep"]]], "b": "ok"}'
    result = extract_inputs(_post("application/json", nested), InputLimits(max_json_depth=3))
    assert [(i.location, i.value) for i in result.inputs] == [("body:json:$.b", "ok")]
    assert result.truncated
    assert _pairs(_post("application/json", b"{'bad': 1")) == [("body:raw", "{'bad': 1")]
    assert _pairs(_post("application/json", b"[" * 100_000)) == [("body:raw", "[" * 8192)]


def test_multipart_body() -> None:
    body = (
        b"preamble\r\n--XyZ\r\n"
        b'Content-Disposition: form-data; name="title"\r\n\r\nhello <b>\r\n'
        b"--XyZ\r\n"
        b'Content-Disposition: form-data; name="doc"; filename="../../etc/passwd"\r\n'
        b"Content-Type: text/plain\r\n\r\nroot:x:0:0\r\n"
        b"--XyZ\r\n"
        b'Content-Disposition: form-data; name="img"; filename="a.png"\r\n'
        b"Content-Type: image/png\r\n\r\n\x89PNG\x00\x00\r\n"
        b"--XyZ\r\n"
        b'Content-Disposition: form-data; name="bin"; filename="b"\r\n\r\n\xff\xfe\r\n'
        b"--XyZ--\r\nepilogue"
    )
    assert _pairs(_post('multipart/form-data; boundary="XyZ"', body)) == [
        ("body:multipart:title", "hello <b>"),
        ("body:multipart:doc:filename", "../../etc/passwd"),
        ("body:multipart:doc", "root:x:0:0"),
        ("body:multipart:img:filename", "a.png"),
        ("body:multipart:bin:filename", "b"),
    ]


def test_multipart_part_without_headers_and_lf_only() -> None:
    body = b"--b\r\n\r\nno headers\r\n--b\nContent-Disposition: form-data; name=x\n\nlf\n--b--"
    assert _pairs(_post("multipart/form-data; boundary=b", body)) == [
        ("body:multipart:", "no headers"),
        ("body:multipart:x", "lf"),
    ]


def test_lone_surrogates_are_replaced() -> None:
    req = HttpRequest("GET", "/?\ud800=\udfff", (("X-\ud800", "v\ud800"),))
    assert _pairs(req) == [
        ("querykey:\ufffd", "\ufffd"),
        ("query:\ufffd", "\ufffd"),
        ("header:x-\ufffd", "v\ufffd"),
    ]


def test_multipart_without_usable_boundary_is_raw() -> None:
    assert _pairs(_post("multipart/form-data", b"a=<script>")) == [("body:raw", "a=<script>")]
    assert _pairs(_post("multipart/form-data; boundary=q", b"<x>")) == [("body:raw", "<x>")]


def test_raw_and_binary_bodies() -> None:
    assert _pairs(_post("text/xml", b"<!DOCTYPE x [<!ENTITY e SYSTEM 'file:///'>]>")) == [
        ("body:raw", "<!DOCTYPE x [<!ENTITY e SYSTEM 'file:///'>]>")
    ]
    assert extract_inputs(_post("text/plain", b"hi")).inputs == [Input("body:raw", "raw", "hi")]
    assert _pairs(_post("image/png", b"<script>")) == []
    assert _pairs(_post("application/octet-stream", b"' or 1=1")) == []
    noise = random.Random(1).randbytes(4096)
    assert _pairs(_post("", noise)) == []
    assert _pairs(_post("application/x-custom", b"id=1\x00' or 1=1")) == [
        ("body:raw", "id=1\x00' or 1=1")
    ]


def test_cookies_and_headers() -> None:
    req = HttpRequest(
        "GET",
        "/",
        (
            ("Host", "example.com"),
            ("User-Agent", "curl/8"),
            ("Cookie", 'sid=abc; theme="dark";; b<a=1; lone'),
            ("cookie", "sid=abc; other=x=y"),
            ("X-Note", "a b"),
            ("x-note", "c d"),
            ("X-Note", "a b"),
            ("Accept", "*/*"),
            ("Sec-Fetch-Mode", "navigate"),
            ("Sec-CH-UA-Platform", "Linux"),
            ("Content-Length", "0"),
        ),
    )
    result = extract_inputs(req)
    assert [(i.location, i.kind, i.value) for i in result.inputs] == [
        ("cookie:sid", "value", "abc"),
        ("cookie:theme", "value", '"dark"'),
        ("cookiekey:b<a", "value", "b<a"),
        ("cookie:b<a", "value", "1"),
        ("cookie:", "value", "lone"),
        ("cookie:other", "value", "x=y"),
        ("header:user-agent", "header", "curl/8"),
        ("header:x-note", "header", "a b"),
        ("header:x-note", "header", "c d"),
    ]


def test_limits() -> None:
    many = "/?" + "&".join(f"p{i}={i}" for i in range(100))
    result = extract_inputs(HttpRequest("GET", many), InputLimits(max_inputs=10))
    assert len(result.inputs) == 10 and result.truncated
    exact = extract_inputs(HttpRequest("GET", "/?a=1&b=2"), InputLimits(max_inputs=2))
    assert len(exact.inputs) == 2 and not exact.truncated
    long_value = extract_inputs(
        HttpRequest("GET", "/?a=" + "x" * 100), InputLimits(max_value_chars=10)
    )
    assert long_value.inputs[0].value == "x" * 10 and long_value.truncated
    long_uri = extract_inputs(HttpRequest("GET", "/?a=" + "x" * 100), InputLimits(max_uri_chars=20))
    assert long_uri.inputs[0].value == "x" * 16 and long_uri.truncated
    body = extract_inputs(_post("text/plain", b"y" * 100), InputLimits(max_body_bytes=10))
    assert body.inputs[0].value == "y" * 10 and body.truncated


_header_names = st.sampled_from(["Cookie", "Content-Type", "User-Agent", "X-A"]) | st.text(
    max_size=12
)
_content_types = st.sampled_from(
    [
        "",
        "application/json",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=b",
        'multipart/form-data; boundary="b"',
        "text/xml",
        "image/png",
    ]
) | st.text(max_size=40)
_bodies = st.binary(max_size=400) | st.text(
    alphabet='{}[]":,=&;%+-b\r\n <>\\u0a', max_size=400
).map(lambda s: s.encode())


@settings(max_examples=300, deadline=None)
@given(
    method=st.text(max_size=8),
    uri=st.text(max_size=200) | st.text(alphabet="/?&=%#;+ab<", max_size=200),
    headers=st.lists(st.tuples(_header_names, st.text(max_size=60)), max_size=8),
    content_type=_content_types,
    body=_bodies,
    max_inputs=st.integers(min_value=0, max_value=20),
)
def test_extract_never_raises(
    method: str,
    uri: str,
    headers: list[tuple[str, str]],
    content_type: str,
    body: bytes,
    max_inputs: int,
) -> None:
    req = HttpRequest(method, uri, (*headers, ("Content-Type", content_type)), body)
    limits = InputLimits(max_inputs=max_inputs, max_value_chars=50, max_json_depth=3)
    result = extract_inputs(req, limits)
    assert len(result.inputs) <= max_inputs
    assert len({(i.location, i.value) for i in result.inputs}) == len(result.inputs)
    for item in result.inputs:
        assert item.kind in {"path", "value", "header", "raw"}
        assert len(item.value) <= 50
        item.value.encode()  # no lone surrogates


def test_hostile_bodies_are_fast() -> None:
    rng = random.Random(3)
    bodies = [
        rng.randbytes(10 << 20),
        b"%" * (10 << 20),
        b"[" * (10 << 20),
        b'{"a":' * (2 << 20),
        b"--b\r\n" * (2 << 20),
        b"&=" * (5 << 20),
    ]
    types = ["", "application/json", "multipart/form-data; boundary=b"]
    types += ["application/x-www-form-urlencoded", "text/plain"]
    for body in bodies:
        for content_type in types:
            start = time.perf_counter()
            result = extract_inputs(_post(content_type, body))
            assert time.perf_counter() - start < 1.0
            assert len(result.inputs) <= DEFAULT_LIMITS.max_inputs
            assert result.truncated


def test_hostile_uri_and_headers_are_fast() -> None:
    uri = "/?" + "".join(f"a{i}=%&" for i in range(1 << 18))
    headers = tuple(("Cookie", "a=b;" * 1000) for _ in range(100))
    start = time.perf_counter()
    result = extract_inputs(HttpRequest("GET", uri, headers))
    assert time.perf_counter() - start < 1.0
    assert result.truncated and len(result.inputs) == DEFAULT_LIMITS.max_inputs


# --------------------------------------------------------------------------- header grammars


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
        ("accept-language", "en-US,en;q=0.9,de;q=0.8"),
        ("content-type", "multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW"),
        ("if-modified-since", "Wed, 8 Oct 2024 07:28:00 GMT"),
        ("sec-ch-ua", '"Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99"'),
        ("x-forwarded-for", "203.0.113.7, 10.0.0.1"),
        ("host", "shop.example.com:8443"),
    ],
)
def test_well_formed_headers_are_not_inputs(name: str, value: str) -> None:
    from bastion.waf.inputs import header_is_well_formed

    assert header_is_well_formed(name, value)
    req = HttpRequest("GET", "/", ((name, value),))
    assert extract_inputs(req).inputs == []


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("accept", "text/html;$(id)"),
        ("host", "example.com;cat /etc/passwd"),
        ("x-forwarded-for", "1.2.3.4' or 1=1--"),
        ("accept-language", "<script>alert(1)</script>"),
    ],
)
def test_malformed_grammar_headers_are_scored(name: str, value: str) -> None:
    req = HttpRequest("GET", "/", ((name, value),))
    assert [i.location for i in extract_inputs(req).inputs] == [f"header:{name}"]
