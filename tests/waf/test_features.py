"""The C engine must match the pure-Python reference featurizer exactly."""

from __future__ import annotations

import array

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bastion.waf import features as F

fastpath = pytest.importorskip("bastion.waf._fastpath")
BITS = 16
ENGINE = fastpath.Engine(BITS, F.KEYWORD_TABLE)


def c_features(text: str, kind: str) -> list[int]:
    out = array.array("I")
    out.frombytes(ENGINE.features(text, ord(F.KIND_CHARS[kind])))
    return list(out)


@given(
    text=st.text(
        alphabet=st.sampled_from([*"abcxyz019 '\"<>()=;-/*\n\t_#&%$`|", "é", "中", "\U0001f600"]),
        max_size=120,
    ),
    kind=st.sampled_from(sorted(F.KIND_CHARS)),
)
@settings(max_examples=400, deadline=None)
def test_c_matches_python_reference(text: str, kind: str) -> None:
    assert c_features(text, kind) == F.featurize(text, kind, BITS)


@given(st.text(max_size=200))
@settings(max_examples=200, deadline=None)
def test_c_matches_reference_on_any_unicode(text: str) -> None:
    assert c_features(text, "value") == F.featurize(text, "value", BITS)


def test_keywords_shape_features_differ_from_plain_words() -> None:
    attack = set(F.featurize("1 union select 2", "value", BITS))
    prose = set(F.featurize("1 onion salad 2", "value", BITS))
    assert attack != prose


def test_kind_changes_only_boundary_features() -> None:
    a = F.featurize("hello world", "value", BITS)
    b = F.featurize("hello world", "header", BITS)
    shared = len(set(a) & set(b))
    assert 0.5 * len(set(a)) < shared < len(set(a))


def test_features_are_distinct_so_repeats_add_nothing() -> None:
    few = F.featurize("nut,52,264.44\n" * 3, "raw", BITS)
    many = F.featurize("nut,52,264.44\n" * 18, "raw", BITS)
    assert len(few) == len(set(few))
    assert many == few
    assert c_features("nut,52,264.44\n" * 18, "raw") == few


def test_empty_text_has_boundary_features_only() -> None:
    assert c_features("", "value") == F.featurize("", "value", BITS)
    assert len(F.featurize("", "value", BITS)) > 0


def test_windows_cover_long_text() -> None:
    text = "x" * 1000
    wins = F.windows(text)
    assert wins[0] == (0, text[: F.WINDOW_CHARS])
    assert wins[-1][0] + len(wins[-1][1]) == len(text)
    assert all(len(w) <= F.WINDOW_CHARS for _, w in wins)
    assert F.windows("short") == [(0, "short")]
