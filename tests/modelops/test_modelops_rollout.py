"""The rollout state machine and canary routing (pure)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bastion.modelops import RolloutError, RolloutState
from bastion.modelops.routing import RoutePlan, bucket, client_of, in_canary, zone_of


def test_bucket_is_stable_across_processes() -> None:
    # Fixed values: a change of hash would silently move zones between models.
    assert bucket("shop.example") == bucket("shop.example")
    assert [bucket(z) for z in ("a.example", "b.example", "")] == [
        bucket("a.example"),
        bucket("b.example"),
        bucket(""),
    ]
    assert 0 <= bucket("x") < 10_000


@given(st.floats(min_value=1, max_value=99))
def test_canary_share_is_close_to_the_percentage(percent: float) -> None:
    keys = [f"10.0.{i // 256}.{i % 256}" for i in range(4000)]
    share = sum(in_canary(k, percent) for k in keys) / len(keys) * 100
    assert abs(share - percent) < 4.0


def test_canary_sets_are_nested() -> None:
    # Raising the percentage only adds keys: nobody flips back to the old model.
    keys = [f"z{i}" for i in range(2000)]
    small = {k for k in keys if in_canary(k, 5)}
    large = {k for k in keys if in_canary(k, 30)}
    assert small <= large and len(small) < len(large)


def test_route_plan_picks_by_zone_or_client() -> None:
    plan = RoutePlan(active="A", canary="C", canary_percent=50, canary_key="client")
    picks = {plan.pick("one.example", f"192.0.2.{i}") for i in range(64)}
    assert picks == {"A", "C"}
    zone_plan = RoutePlan(active="A", canary="C", canary_percent=50, canary_key="zone")
    assert len({zone_plan.pick("one.example", f"192.0.2.{i}") for i in range(64)}) == 1
    assert RoutePlan(active="A").pick("x", "y") == "A"
    assert zone_of("Shop.Example:8443") == "shop.example" and zone_of("[::1]:80") == "[::1]"
    assert client_of("203.0.113.9, 10.0.0.1", None) == "203.0.113.9"
    assert client_of(None, " 198.51.100.2 ") == "198.51.100.2"


def test_transitions_and_their_errors() -> None:
    s = RolloutState("waf")
    s, ch = s.promote("a", "candidate")
    assert ch == [("a", "candidate", "active")] and s.revision == 1
    with pytest.raises(RolloutError, match="already the active"):
        s.promote("a", "active")
    s, ch = s.start_shadow("b", "candidate")
    s, ch = s.start_canary("b", "shadow", 10, "client")
    assert (s.shadow, s.canary, s.canary_key) == (None, "b", "client")
    s, ch = s.start_canary("c", "candidate", 20)
    assert ch == [("b", "canary", "candidate"), ("c", "candidate", "canary")]
    s, ch = s.rollback()
    assert s.canary is None and ch == [("c", "canary", "candidate")]
    s, _ = s.promote("c", "candidate")
    s, ch = s.rollback()
    assert s.active == "a" and ch == [("c", "active", "retired"), ("a", "retired", "active")]
    with pytest.raises(RolloutError, match="nothing to roll back"):
        s.rollback()
    with pytest.raises(RolloutError, match="unknown model kind"):
        RolloutState("nope")
    with pytest.raises(RolloutError, match="is the active model: promote another"):
        s.retire("a", "active")
    assert RolloutState.from_json(s.to_json()) == s
