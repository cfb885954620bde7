"""The JSON form of a request: the fast header path agrees with the checked one."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bastion.waf.request import (
    HttpRequest,
    RequestFormatError,
    _parse_headers,
    _parse_headers_checked,
)

_scalar = st.one_of(st.text(max_size=8), st.integers(), st.none(), st.booleans(), st.floats())
_pair = st.one_of(
    st.lists(_scalar, min_size=0, max_size=3),
    st.tuples(st.text(max_size=8), st.text(max_size=8)).map(list),
    st.text(max_size=3),
    _scalar,
)


def _outcome(fn: Any, raw: Any) -> Any:
    try:
        return fn(raw)
    except RequestFormatError as exc:
        return ("error", str(exc))


@given(st.lists(_pair, max_size=6))
@settings(max_examples=400, deadline=None)
def test_fast_path_matches_checked_path(raw: list[Any]) -> None:
    assert _outcome(_parse_headers, raw) == _outcome(_parse_headers_checked, raw)


def test_two_character_strings_are_not_header_pairs() -> None:
    with pytest.raises(RequestFormatError, match=r"headers\[0\]"):
        HttpRequest.from_json({"headers": ["ab"]})
    req = HttpRequest.from_json({"headers": [["Host", "a.example"], ["X-N", 5]]})
    assert req.headers == (("Host", "a.example"), ("X-N", "5"))
