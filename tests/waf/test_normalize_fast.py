"""The C fast path of ``normalize`` against the pure-Python chain (the reference)."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bastion.waf import transforms
from bastion.waf.datagen import (
    benign_request,
    generate_benign,
    generate_other_attacks,
    generate_rce,
    generate_sqli,
    generate_xss,
)
from bastion.waf.inputs import extract_inputs

try:
    from bastion.waf._fastpath import normalize_simple
except ImportError:  # pragma: no cover - the C accelerator is optional
    pytest.skip("C accelerator not built", allow_module_level=True)

MAX_CHARS = st.sampled_from([0, 1, 2, 5, 16, 64, 8192])


def reference(value: str, max_chars: int = 8192) -> str:
    return transforms._chain(value, max_chars, 4, None)


def check(value: str, max_chars: int = 8192) -> str | None:
    fast = normalize_simple(value, max_chars)
    if fast is not None:
        assert fast == reference(value, max_chars), (value, max_chars)
    return fast


# Pieces that exercise every branch of the finishers.
_PIECES = [
    "/*", "*/", "/*!", "/*!50000", "/**/", "*", "/", "!", "0", "12", " ", "  ", "\t", "\n",
    "\r", "\r\n", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x1f", "\x00", "\x01", "\x7f",
    "SELECT", "union", "Or", "a", "Z", "=", "'", '"', "-", "_", "+",
]  # fmt: skip
_B64_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-"

full_unicode = st.text(max_size=200)
ascii_any = st.text(st.characters(max_codepoint=0x7F), max_size=200)
finisher_soup = st.lists(st.sampled_from(_PIECES), max_size=60).map("".join)
b64_runs = st.lists(
    st.one_of(
        st.text(st.sampled_from(_B64_CHARS), min_size=10, max_size=40),
        st.text(st.sampled_from("abcdef0123456789-_/"), min_size=14, max_size=40),
        st.text(st.sampled_from("ABCDEF0123456789+/"), min_size=14, max_size=40),
        st.text(st.sampled_from("0123456789"), min_size=14, max_size=20),
        st.text(st.sampled_from("+/_-"), min_size=14, max_size=20),
        st.sampled_from(["=", "==", " ", ".", "/*", "*/", "\x00", "\n"]),
    ),
    max_size=8,
).map("".join)
_DECODER_PIECES = ["%", "%41", "&", "&lt;", "&#65;", "\\", "\\x41", "\\u0041"]
decodable = st.lists(st.one_of(st.sampled_from(_DECODER_PIECES), finisher_soup), max_size=10).map(
    "".join
)


def _tries_base64(value: str) -> bool:
    return any(
        run.endswith("=") or not (run.islower() or run.isupper() or run.isdigit())
        for run in (m.group() for m in transforms._B64_RUN.finditer(value))
    )


@settings(max_examples=2000, deadline=None)
@given(st.one_of(full_unicode, ascii_any, finisher_soup, b64_runs, decodable), MAX_CHARS)
def test_fast_path_is_none_or_the_chain(value: str, max_chars: int) -> None:
    check(value, max_chars)


@settings(max_examples=1500, deadline=None)
@given(finisher_soup, MAX_CHARS)
def test_finisher_only_text_is_always_handled(value: str, max_chars: int) -> None:
    # ASCII, no decoder trigger, short, no base64 run the chain would try: the fast path
    # must take it.
    if len(value) <= 4 * max_chars and not _tries_base64(value):
        assert check(value, max_chars) is not None


@settings(max_examples=1000, deadline=None)
@given(b64_runs, MAX_CHARS)
def test_base64_runs_never_differ(value: str, max_chars: int) -> None:
    check(value, max_chars)


@pytest.mark.parametrize(
    "value",
    [
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Safari/537.36",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15",
        "sessionid=abcdef0123456789abcdef; theme=Dark; lang=en-US",
        "_ga=GA1.2.1234567890.1700000000; csrftoken=ABCDEF0123456789ABCDEF",
        "SELECT * FROM users WHERE id = 1 /* comment */ AND name = 'x'",
        "1 UNION/**/SELECT password FROM users",
        "/*!50000select*/ 1,2,3",
        "/*!SELECT*/ 1",
        "/*!*/",
        "/*!",
        "/*/",
        "1 OR 1=1 /* unterminated",
        "a/*b*/c/*d*/e/*",
        "line one\r\n\r\n  line two \t\r\n",
        "  Leading and trailing  ",
        "a\x00B\x00c",
        "tab\there\x0bvt\x0cff\x1cfs\x1fus",
        "x \n y",
        "\r\n",
        "",
        "   ",
        "TEXT/HTML,APPLICATION/XHTML+XML",
        "/usr/local/lib/python3/site-packages",
        "12345678901234567890",
        "ABCDEFGHIJKLMNOPQRSTU",
    ],
)
def test_common_values_take_the_fast_path(value: str) -> None:
    for max_chars in (5, 40, 8192):
        if len(value) <= 4 * max_chars:
            assert check(value, max_chars) is not None


@pytest.mark.parametrize(
    "value",
    [
        "caf\xe9",
        "100%",
        "a&b",
        "a\\b",
        "QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
        "dXNlcj1hZG1pbiBPUiAxPTE",
        "abcdefghijklmnopqrstuvwxyz=",
        "++++////____----",
    ],
)
def test_values_needing_the_chain_are_refused(value: str) -> None:
    assert normalize_simple(value, 8192) is None
    assert transforms.normalize(value) == reference(value)


def test_long_input_is_left_to_python() -> None:
    assert normalize_simple("a b " * 10, 5) is None
    assert normalize_simple("a b " * 5, 5) == reference("a b " * 5, 5)


def test_argument_errors() -> None:
    with pytest.raises(TypeError):
        normalize_simple(b"abc", 5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        normalize_simple("abc", "5")  # type: ignore[arg-type]
    assert normalize_simple("abc", -1) is None
    assert normalize_simple("abc", 2**80) is None


def _corpus() -> list[str]:
    rng = random.Random(11)
    values = [i.value for _ in range(400) for i in extract_inputs(benign_request(rng)).inputs]
    for generate in (
        generate_benign,
        generate_sqli,
        generate_xss,
        generate_rce,
        generate_other_attacks,
    ):
        values += [s.value for s in generate(rng, 300)]
    return values


def test_normalize_unchanged_on_corpus() -> None:
    values = _corpus()
    handled = 0
    for value in values:
        assert transforms.normalize(value) == reference(value), value
        assert transforms.normalize(value, max_chars=20) == reference(value, 20), value
        handled += normalize_simple(value, 8192) is not None
    # The fast path must actually carry a good share of real traffic.
    assert handled > len(values) // 4
