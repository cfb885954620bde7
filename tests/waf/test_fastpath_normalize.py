"""The C decoding chain (``_fastpath.normalize``) against the Python chain of transforms.py."""

from __future__ import annotations

import base64
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bastion.waf import datagen, transforms
from bastion.waf.inputs import extract_inputs

fastpath = pytest.importorskip("bastion.waf._fastpath")


def reference(value: str, max_chars: int = 8192, max_depth: int = 4) -> str:
    """transforms.normalize without its C shortcut."""
    if transforms._is_normal(value):
        return value[:max_chars]
    return transforms._chain(value, max_chars, max_depth, None)


def check(value: str, max_chars: int = 8192, max_depth: int = 4) -> None:
    assert fastpath.normalize(value, max_chars, max_depth) == reference(
        value, max_chars, max_depth
    ), (value, max_chars, max_depth)


# Pieces that reach every branch of the decoders, the base64 step and the finishers.
_PIECES = [
    # percent: bytes, overlong and invalid UTF-8, surrogates, IIS %u, broken escapes
    "%", "%4", "%41", "%4g", "%%41", "%C3%A9", "%c3", "%C0%AF", "%c1%bf", "%E0%80%AF",
    "%F0%80%80%AF", "%ED%A0%80", "%F4%90%80%80", "%FF", "%u0041", "%U00e9", "%uD800",
    "%u00", "%uzzzz", "%25", "%2525", "%252F",
    # HTML entities: named, bare, numeric with zeros, out of range, NUL, surrogates
    "&", "&lt;", "&lt", "&LT", "&ltx;", "&amp;", "&ampx", "&quot", "&nbsp;", "&NotEqualTilde;",
    "&notin;", "&notit;", "&#60;", "&#x3c;", "&#X3C", "&#0000060;", "&#0;", "&#xD800;",
    "&#x110000;", "&#99999999;", "&#x", "&#;", "&#", "&a1234567890123456789012345678901234;",
    "&#x00000000000003c;", "&Aacute;", "&aacute",
    # JS escapes
    "\\", "\\\\", "\\u0041", "\\u{41}", "\\u{10FFFF}", "\\u{110000}", "\\u{0000041}", "\\u{}",
    "\\ud800", "\\x41", "\\x4", "\\101", "\\18", "\\7", "\\400", "\\0", "\\08", "\\u{1F600}",
    # comments and whitespace (ASCII and Unicode), NUL, case mapping, NFKC
    "/*", "*/", "/*!", "/*!50000", "/**/", " ", "  ", "\t", "\n", "\r\n", "\x0b", "\x0c",
    "\x1c", "\x1f", "\x85", "\xa0", "\u2028", "\u3000", "\x00", "İ", "Σ", "ΣA", "ß", "ﬁ",
    "＜", "ｓｃｒｉｐｔ", "①", "²", "K", "\ufffd",
    "SELECT", "union", "<script>", "alert(1)", "'", '"', "=", "+", "-", "_", "/", ".", "é", "中",
]  # fmt: skip
_B64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-"


def _b64(payload: bytes, urlsafe: bool, pad: bool) -> str:
    text = (base64.urlsafe_b64encode if urlsafe else base64.b64encode)(payload).decode()
    return text if pad else text.rstrip("=")


payloads = st.one_of(
    st.sampled_from(
        [b"<script>alert(1)</script>", b"' or 1=1 --", b"; cat /etc/passwd", b"admin:admin"]
    ),
    st.binary(min_size=10, max_size=60),
    st.text(min_size=10, max_size=40).map(lambda t: t.encode("utf-8", "surrogatepass")),
)
b64_text = st.builds(_b64, payloads, st.booleans(), st.booleans())
soup = st.lists(
    st.one_of(
        st.sampled_from(_PIECES),
        b64_text,
        st.text(st.sampled_from(_B64_ALPHABET), min_size=14, max_size=40),
        st.text(max_size=8),
    ),
    max_size=25,
).map("".join)
encoded_soup = soup.map(lambda t: "".join(f"%{b:02X}" for b in t.encode("utf-8", "surrogatepass")))
MAX_CHARS = st.sampled_from([0, 1, 7, 64, 8192])
DEPTH = st.sampled_from([0, 1, 2, 4])


@settings(max_examples=2500, deadline=None)
@given(st.one_of(soup, encoded_soup, st.text(max_size=300)), MAX_CHARS, DEPTH)
def test_same_as_python_chain(value: str, max_chars: int, max_depth: int) -> None:
    check(value, max_chars, max_depth)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), min_size=1, max_size=8).map("".join))
def test_multiply_encoded(value: str) -> None:
    for _ in range(4):
        check(value)
        value = "".join(f"%{b:02x}" for b in value.encode("utf-8", "surrogatepass"))


def test_generated_corpora() -> None:
    rng = random.Random(21)
    values = [
        i.value for _ in range(300) for i in extract_inputs(datagen.benign_request(rng)).inputs
    ]
    for generate in (
        datagen.generate_benign,
        datagen.generate_sqli,
        datagen.generate_xss,
        datagen.generate_rce,
        datagen.generate_other_attacks,
        datagen.generate_hard_negatives,
    ):
        samples = [s.value for s in generate(rng, 250)]
        values += samples + [datagen.encode(v, rng) for v in samples]
    for value in values:
        check(value)
        check(value, 30)


@pytest.mark.parametrize(
    "value",
    [
        "a" * 40000,
        "%41" * 12000,
        "&#60;" * 8000,
        "\\u0041" * 6000,
        "QUJD" * 9000,
        ("SGVsbG8gV29ybGQh" + " ") * 40,
        "/*" * 20000,
        " \n" * 20000,
        "é" * 33000,
        "%25" * 5000 + "41",
    ],
)
def test_long_values(value: str) -> None:
    check(value)
    check(value, 100)


def test_arguments() -> None:
    assert fastpath.normalize("A%41") == "aa"
    assert fastpath.normalize(value="A%41", max_chars=1) == "a"
    with pytest.raises(ValueError):
        fastpath.normalize("x", -1)
    with pytest.raises(TypeError):
        fastpath.normalize(b"x")  # type: ignore[arg-type]
