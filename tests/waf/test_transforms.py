"""Tests for the named transforms and the normalization chain."""

from __future__ import annotations

import base64
import random
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bastion.waf.transforms import (
    TRANSFORMS,
    base64_decode_plausible,
    cmdline,
    compress_whitespace,
    decode_bytes,
    html_entity_decode,
    js_decode,
    lowercase,
    normalize,
    normalize_steps,
    remove_comments,
    remove_nulls,
    unicode_fold,
    url_decode_uni,
    utf8_fix,
)


def test_registry_names_and_functions() -> None:
    assert set(TRANSFORMS) == {
        "url_decode_uni",
        "utf8_fix",
        "html_entity_decode",
        "js_decode",
        "base64_decode_plausible",
        "unicode_fold",
        "lowercase",
        "remove_nulls",
        "remove_comments",
        "compress_whitespace",
        "cmdline",
    }
    assert TRANSFORMS["js_decode"] is js_decode
    for name, transform in TRANSFORMS.items():
        assert isinstance(transform("A%41&lt;\\x41 /**/"), str), name


@pytest.mark.parametrize(
    ("raw", "decoded"),
    [
        ("%27", "'"),
        ("%252527", "%2527"),  # one level per call
        ("%u003c", "<"),
        ("%U003C", "<"),
        ("%uFF1C", "＜"),
        ("%c0%af", "/"),
        ("%e0%80%af", "/"),
        ("%E4%BD%A0", "你"),
        ("%ff", "\ufffd"),
        ("%zz%4%", "%zz%4%"),  # invalid escapes stay
        ("%u12", "%u12"),
        ("%uD800", "\ufffd"),
        ("a+b", "a+b"),
        ("100%", "100%"),
        ("", ""),
    ],
)
def test_url_decode_uni(raw: str, decoded: str) -> None:
    assert url_decode_uni(raw) == decoded


def test_decode_bytes_and_utf8_fix() -> None:
    assert decode_bytes(b"plain") == "plain"
    assert decode_bytes("é".encode()) == "é"
    assert decode_bytes(b"\xc0\xaf\xe0\x80\xae\xc1\x9c") == "/.\\"
    assert decode_bytes(b"\xf0\x80\x80\xbc") == "<"
    assert decode_bytes(b"a\xffb") == "a\ufffdb"
    assert decode_bytes(b"\xed\xa0\x80") == "\ufffd" * 3  # encoded surrogate is invalid
    assert utf8_fix("..\xc0\xaf..") == "../.."
    assert utf8_fix("\xc3\xa9 ok 你") == "é ok 你"
    assert utf8_fix("ascii") == "ascii"


@pytest.mark.parametrize(
    ("raw", "decoded"),
    [
        ("&#x3C;script&#62;", "<script>"),
        ("&lt;&gt;&amp;&quot;&apos;", "<>&\"'"),
        ("&#60&#x3c", "<<"),
        ("&ltscript&gt", "<script>"),
        ("&#0000060;", "<"),
        ("&#x000003C", "<"),
        ("javascript&colon;alert(1)", "javascript:alert(1)"),
        ("&copy=2", "&copy=2"),  # only the legacy few are decoded without ';'
        ("&copy;", "©"),
        ("&#99999999;", "&#99999999;"),  # out of range stays
        ("&#0;", "\ufffd"),
        ("&#xD800;", "\ufffd"),
        ("&unknown; & x", "&unknown; & x"),
    ],
)
def test_html_entity_decode(raw: str, decoded: str) -> None:
    assert html_entity_decode(raw) == decoded


@pytest.mark.parametrize(
    ("raw", "decoded"),
    [
        ("\\u003cscript\\u003e", "<script>"),
        ("\\u{3c}\\u{1F600}", "<😀"),
        ("\\x3c", "<"),
        ("\\074\\74", "<<"),
        ("\\a\\ b", "\\a\\ b"),  # shell-style escapes stay
        ("c\\at /etc/pass\\wd", "c\\at /etc/pass\\wd"),
        ("\\\\x3c", "\\\\x3c"),  # escaped backslash does not start an escape
        ("\\ud800", "\ufffd"),
        ("\\u{110000}", "\\u{110000}"),
        ("\\x4", "\\x4"),
    ],
)
def test_js_decode(raw: str, decoded: str) -> None:
    assert js_decode(raw) == decoded


def test_base64_decode_plausible() -> None:
    payload = base64.b64encode(b"<script>alert(1)</script>").decode()
    assert base64_decode_plausible(payload) == payload + " <script>alert(1)</script>"
    url_safe = base64.urlsafe_b64encode(b"?>>??' or 1=1 --").decode().rstrip("=")
    assert base64_decode_plausible("x=" + url_safe).endswith(" ?>>??' or 1=1 --")
    # Alphanumeric-only, binary or short decodings are not appended.
    plain = base64.b64encode(b"justlettersandnumbers123").decode()
    assert base64_decode_plausible(plain) == plain
    binary = base64.b64encode(bytes(range(200, 240))).decode()
    assert base64_decode_plausible(binary) == binary
    assert base64_decode_plausible("PHNjcmlwdD4=") == "PHNjcmlwdD4="  # < 16 chars
    assert base64_decode_plausible("internationalization") == "internationalization"
    many = " ".join(base64.b64encode(f"<b>{i:012d}</b>".encode()).decode() for i in range(8))
    assert base64_decode_plausible(many).count("<b>") == 4


def test_simple_transforms() -> None:
    assert unicode_fold("＜ｓｃｒｉｐｔ＞") == "<script>"
    assert unicode_fold("ﬁle") == "file"
    assert lowercase("SeLeCt") == "select"
    assert remove_nulls("a\x00b\x00") == "ab"
    assert remove_comments("UNION/**/SELECT") == "UNION SELECT"
    assert remove_comments("a/* x */b/*c") == "a b "
    assert remove_comments("union/*!50000select*/1") == "union select 1"
    assert remove_comments("a/b*c") == "a/b*c"


@pytest.mark.parametrize(
    ("raw", "compressed"),
    [
        ("a  \t b", "a b"),
        ("a\r\nb", "a\nb"),
        ("a\rb", "a\nb"),
        ("a \n\n  b", "a\nb"),
        ("a\u2003\x0b\x0cb", "a b"),
        ("  x  ", "x"),
        ("ok", "ok"),
    ],
)
def test_compress_whitespace(raw: str, compressed: str) -> None:
    assert compress_whitespace(raw) == compressed


def test_cmdline() -> None:
    assert cmdline('C^at "/etc/pa\\sswd"') == "cat/etc/passwd"
    assert cmdline("w'h'o'am'i;ls,-la") == "whoami ls -la"
    assert cmdline("ping  (x)") == "ping(x)"


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("%252527", "'"),
        ("%253Cscript%253E", "<script>"),
        ("%26lt%3Bscript%26gt%3B", "<script>"),
        ("&#x25;3c", "<"),
        ("%5Cu003c", "<"),
        ("%c0%af..%c0%af", "/../"),
        ("＜SCRIPT＞", "<script>"),
        ("1 UNION/**/SELECT  pass", "1 union select pass"),
        ("a%00b", "ab"),
        ("x;\r\nid", "x;\nid"),
        ("a+b", "a+b"),
        (
            "PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
            "phnjcmlwdd5hbgvydcgxktwvc2nyaxb0pg== <script>alert(1)</script>",
        ),
        ("hello world", "hello world"),
        ("", ""),
    ],
)
def test_normalize_examples(raw: str, normal: str) -> None:
    assert normalize(raw) == normal


def test_normalize_base64_payload_is_decoded_once_more() -> None:
    encoded = base64.b64encode(b"%3Cscript%3Ealert(1)").decode()
    assert normalize(encoded).endswith(" <script>alert(1)")


def test_normalize_depth_and_length_limits() -> None:
    assert normalize("%252527", max_depth=1) == "%2527"
    assert normalize("%252527", max_depth=0) == "%252527"
    assert normalize("A" * 100, max_chars=10) == "a" * 10
    assert normalize(b"ABC\xc0\xaf") == "abc/"


def test_normalize_steps() -> None:
    steps = normalize_steps("%253Cscript%253E")
    assert [name for name, _ in steps] == ["url_decode_uni", "url_decode_uni"]
    assert steps[-1][1] == "<script>"
    assert normalize_steps("already normal") == []
    assert normalize_steps(b"x") == [("utf8_fix", "x")]


@settings(max_examples=300, deadline=None)
@given(
    st.text(max_size=300)
    | st.text(alphabet="%&#;\\ux0123456789abcdefABCDEF<>/*=+ \n", max_size=300)
)
def test_normalize_properties_text(value: str) -> None:
    out = normalize(value, max_chars=200)
    assert len(out) <= 200
    assert out.lower() == out
    assert out == out.strip()
    steps = normalize_steps(value, max_chars=200)
    assert (steps[-1][1] if steps else value[:200]) == out


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_normalize_properties_bytes(value: bytes) -> None:
    out = normalize(value, max_chars=100)
    assert len(out) <= 100
    assert out.lower() == out
    assert "\x00" not in out


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200), st.sampled_from(sorted(TRANSFORMS)))
def test_each_transform_total(value: str, name: str) -> None:
    assert isinstance(TRANSFORMS[name](value), str)


@pytest.mark.parametrize(
    "hostile",
    [
        "%" * (1 << 20),
        "&#" * (1 << 19),
        "\\u" * (1 << 19),
        "%25" * (1 << 18),
        "&#" + "0" * (1 << 20),
        "/*" * (1 << 19),
        "A" * (1 << 20),
        " \n" * (1 << 19),
    ],
)
def test_hostile_strings_are_fast(hostile: str) -> None:
    start = time.perf_counter()
    for transform in TRANSFORMS.values():
        transform(hostile)
    out = normalize(hostile)
    # Eleven transforms over 1 MiB each; generous so a loaded 2-core CI machine does not flake.
    assert time.perf_counter() - start < 4.0
    assert len(out) <= 8192


def test_ten_megabytes_random_is_fast() -> None:
    data = random.Random(7).randbytes(10 << 20)
    start = time.perf_counter()
    normalize(data)
    normalize(data.decode("latin-1"))
    assert time.perf_counter() - start < 1.0
