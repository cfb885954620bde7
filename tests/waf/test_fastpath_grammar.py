"""Header grammars compiled to DFAs (``_fastpath.Grammar``) answer as ``re`` fullmatch does."""

from __future__ import annotations

import functools
import random
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bastion.waf import inputs
from bastion.waf.datagen import benign

fastpath = pytest.importorskip("bastion.waf._fastpath")

GRAMMARS = {**inputs._WELL_FORMED_HEADERS, "client-hint": inputs._CLIENT_HINT}
#: Characters that the character classes of re treat specially beyond ASCII.
_UNICODE = ["١", "߀", "²", "\xa0", "\u2028", "\u3000", "\x85", "é", "ß", "ǅ", "_", "\ud800"]


@functools.cache
def compiled(pattern: re.Pattern[str]) -> object:
    return fastpath.Grammar(pattern)


def agree(pattern: re.Pattern[str], value: str) -> None:
    expected = pattern.fullmatch(value) is not None
    assert compiled(pattern).fullmatch(value) == expected, (pattern.pattern, value)


def test_every_header_grammar_compiles() -> None:
    # Otherwise the pipeline calls re for that header (still correct, only slower).
    for pattern in GRAMMARS.values():
        assert fastpath.Grammar(pattern).states > 1


_MATCHING = {p: st.from_regex(p, fullmatch=True) for p in GRAMMARS.values()}


@st.composite
def near_misses(draw: st.DrawFn) -> tuple[re.Pattern[str], str]:
    """A grammar and a string it matches, then maybe edited by a character or two."""
    pattern = draw(st.sampled_from(sorted(GRAMMARS.values(), key=lambda p: p.pattern)))
    value = draw(_MATCHING[pattern])
    alphabet = sorted({*pattern.pattern, *_UNICODE, "\n", "\t", " "})
    for _ in range(draw(st.integers(0, 2))):
        i = draw(st.integers(0, len(value)))
        op = draw(st.sampled_from(["insert", "delete", "replace"]))
        char = draw(st.sampled_from(alphabet))
        if op == "insert":
            value = value[:i] + char + value[i:]
        elif op == "delete":
            value = value[:i] + value[i + 1 :]
        else:
            value = value[:i] + char + value[i + 1 :]
    return pattern, value


@settings(max_examples=300, deadline=None)
@given(near_misses())
def test_grammars_agree_near_their_language(case: tuple[re.Pattern[str], str]) -> None:
    agree(*case)


@settings(max_examples=500, deadline=None)
@given(st.sampled_from(sorted(GRAMMARS.values(), key=lambda p: p.pattern)), st.text(max_size=40))
def test_grammars_agree_on_any_text(pattern: re.Pattern[str], value: str) -> None:
    agree(pattern, value)


def test_grammars_agree_on_generated_headers() -> None:
    rng = random.Random(2)
    for _ in range(300):
        for name, value in benign.header_pairs(rng, "shop.example.com"):
            pattern = GRAMMARS.get(name.lower())
            if pattern is not None:
                agree(pattern, value)
                agree(pattern, value + " ")
                agree(pattern, value.upper())


# The compiler's syntax beyond what the header grammars use today.
_SYNTAX = [
    r"a|b|", r"(?:ab|a)(?:c|bc)", r"(a)(b)?", r"x{3}", r"x{2,}", r"x{,2}y", r"x{0,0}",
    r"(?:ab){1,3}", r"(?:a?)*b", r"(?:a|)+", r"[^a-c]+", r"[^\d\s]*", r"[\D]", r"[\W_]+",
    r"\S+", r"a.b", r".*", r"[.]", r"[-a]", r"[a-]", r"[]a]", r"\.\-\\\"", r"\t\n\r\f\v",
    r"[\t-\r ]+", r"(?:(?:(?:a)))", r"a{1,3}b{2}|c*", r"}", r"[ \-]+[A-F0-9]{2}",
]  # fmt: skip
_SYNTAX_ALPHABET = ["a", "b", "c", "x", "y", "0", "9", "-", "]", ".", "\\", '"', "_", "}", " ",
                    "\t", "\n", "\r", "\x0b", *_UNICODE]  # fmt: skip


@settings(max_examples=1500, deadline=None)
@given(
    st.sampled_from(_SYNTAX),
    st.lists(st.sampled_from(_SYNTAX_ALPHABET), max_size=8).map("".join),
)
def test_syntax_subset(source: str, value: str) -> None:
    agree(re.compile(source), value)


@pytest.mark.parametrize(
    "source",
    [r"^a", r"a$", r"\ba", r"a(?=b)", r"(a)\1", r"a*?", r"a++", r"(?i)a", r"é", r"[é]",
     r"a{", r"a{x}", r"[[a]", r"\x41", r"a" * 2000, r"(?:" * 40 + "a" + ")" * 40],
)  # fmt: skip
@pytest.mark.filterwarnings("ignore:Possible nested set:FutureWarning")
def test_outside_the_subset_is_refused(source: str) -> None:
    with pytest.raises(ValueError, match="subset"):
        fastpath.Grammar(re.compile(source))


def test_flags_are_refused() -> None:
    with pytest.raises(ValueError, match="subset"):
        fastpath.Grammar(re.compile("a", re.IGNORECASE))
    with pytest.raises(ValueError, match="subset"):
        fastpath.Grammar(re.compile("a", re.ASCII))


def test_pipeline_calls_re_for_grammars_outside_the_subset() -> None:
    from bastion.waf import HttpRequest
    from bastion.waf.model import Model

    model = Model.load()
    if not model.accelerated:
        pytest.skip("C accelerator not built")
    tables = inputs.native_tables()
    tables["well_formed"] = {"x-test": re.compile("[a-z]+", re.IGNORECASE)}  # refused: flags
    tables["client_hint"] = re.compile(r"\w+\b")  # refused: \b
    sizes = {
        "text_budget": 65536, "cache_max_value": 1024, "cache_size": 0, "window_chars": 256,
        "window_step": 192, "normalize_max_chars": 8192, "normalize_max_depth": 4,
    }  # fmt: skip
    pipeline = fastpath.Pipeline(model._engine, tables, **sizes)
    request = HttpRequest(
        "GET", "/", (("X-Test", "ABC"), ("X-Test", "a1"), ("Sec-Ch-Ua", "x"), ("Sec-Ch-X", "#"))
    )
    found, _, native = pipeline.extract(request)
    assert native
    assert found == [("header:x-test", "header", "a1"), ("header:sec-ch-x", "header", "#")]
