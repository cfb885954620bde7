"""Drift: the statistics, false-alarm control on stationary data, detection of a shift,
and the service's watch (outbox alerts, canary rollback) on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from modelops_kit import resaved_waf, shipped_waf
from sqlalchemy import select

from bastion.modelops.drift import (
    NBINS,
    DriftConfig,
    DriftDetector,
    ks_statistic,
    psi_statistic,
    score_histogram,
)
from bastion.service.models_runtime import ALL_ZONES, DriftWatch, WatchLimits
from bastion.store import Database
from bastion.store.content_models import OutboxMessage
from bastion.store.modelops import MinuteRow, ModelRegistry

CLEAN = np.r_[np.zeros(80), np.linspace(1, 5, 19)]  # scores 81..99 mostly
CLEAN = np.r_[CLEAN / CLEAN.sum(), 0.0]


def _minute(rng: np.random.Generator, n: int, shift: float = 0.0) -> np.ndarray:
    p = CLEAN * (1 - shift)
    p[4] += shift  # score 5: an attack family the model catches
    counts = rng.multinomial(n, p)
    return np.stack([counts] * 4)


def test_statistics() -> None:
    a = score_histogram([1, 50, 99, 100])
    assert a.shape == (NBINS,) and a.sum() == 4 and a[99] == 1
    same = np.array([10, 0, 5] + [0] * 97)
    assert ks_statistic(same, same) == 0 and psi_statistic(same, same) == pytest.approx(0)
    moved = np.array([0, 10, 5] + [0] * 97)
    assert ks_statistic(same, moved) == pytest.approx(10 / 15)
    with pytest.raises(ValueError, match="daily_false_alarm"):
        DriftConfig(daily_false_alarm=0)


def test_no_alarm_when_stationary_and_a_shift_is_caught() -> None:
    rng = np.random.default_rng(5)
    det = DriftDetector()
    det.set_reference("z", sum(_minute(rng, 20_000) for _ in range(60)))
    events = [e for m in range(300) for e in det.observe(m, {"z": _minute(rng, 20_000)})]
    assert events == []
    raised = []
    for k in range(1, 10):
        raised += [(k, e) for e in det.observe(300 + k, {"z": _minute(rng, 20_000, 0.05)})]
    assert raised and raised[0][0] <= 3 and raised[0][1].kind == "raised"
    assert len({e.vector for _, e in raised}) == 4 and all(e.kind == "raised" for _, e in raised)
    # Hysteresis: one alert per episode, cleared when traffic is back to normal.
    cleared = [e for m in range(6) for e in det.observe(320 + m, {"z": _minute(rng, 20_000)})]
    assert {e.kind for e in cleared} == {"cleared"}


def test_small_windows_never_alarm() -> None:
    rng = np.random.default_rng(1)
    det = DriftDetector(DriftConfig(min_samples=5000))
    det.set_reference("z", _minute(rng, 100_000))
    assert [e for m in range(20) for e in det.observe(m, {"z": _minute(rng, 500, 0.5)})] == []


T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def _rows(
    version: str, minute: datetime, rng: np.random.Generator, n: int, shift: float, blocked: int
) -> MinuteRow:
    counts = _minute(rng, n, shift)
    hist = {v: counts[i].tolist() for i, v in enumerate(("score", "sqli", "xss", "rce"))}
    return MinuteRow(minute, version, "shop.example", n, blocked, hist)


def test_watch_alerts_and_rolls_back_a_canary(clean_database: Database) -> None:
    reg = ModelRegistry(clean_database)
    active = reg.register(shipped_waf(), source="a", actor="t")[0]["version"]
    canary = reg.register(resaved_waf("watch"), source="c", actor="t")[0]["version"]
    reg.transition("promote", active, actor="t")
    reg.transition("canary", canary, actor="t", percent=10)
    rng = np.random.default_rng(3)
    # Reference: 10 minutes of both versions; then the canary drifts.
    for m in range(10):
        minute = T0 + timedelta(minutes=m)
        reg.add_minutes(
            "w", [_rows(active, minute, rng, 5000, 0, 0), _rows(canary, minute, rng, 5000, 0, 0)]
        )
    for m in range(10, 16):
        minute = T0 + timedelta(minutes=m)
        reg.add_minutes(
            "w", [_rows(active, minute, rng, 5000, 0, 0), _rows(canary, minute, rng, 5000, 0.2, 0)]
        )
    now = [T0 + timedelta(minutes=10)]
    watch = DriftWatch(
        clean_database,
        WatchLimits(drift=DriftConfig(min_samples=1000), reference_minutes=10),
        clock=lambda: now[0],
    )
    assert watch.run_once() == []  # minute 9: references set, nothing unusual
    now[0] = T0 + timedelta(minutes=16)
    events = watch.run_once()
    assert {e.stream for e in events} == {f"{canary}|shop.example", f"{canary}|{ALL_ZONES}"}
    state = reg.rollout("waf")
    assert state.canary is None and reg.get(canary)["status"] == "candidate"
    assert reg.history(version=canary)[0]["actor"] == "drift-monitor"
    with clean_database.session() as s:
        kinds = [m.payload["type"] for m in s.scalars(select(OutboxMessage))]
    assert "model_canary_rolled_back" in kinds and "model_drift_raised" in kinds
    # A second watch (another worker) computing the same alarm adds no duplicate.
    other = DriftWatch(clean_database, watch.limits, clock=lambda: now[0])
    other._last_minute = T0 + timedelta(minutes=9)
    other.run_once()
    with clean_database.session() as s:
        n = len(list(s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "model_alert"))))
    assert n == len(kinds)


def test_watch_rolls_back_on_block_rate(clean_database: Database) -> None:
    reg = ModelRegistry(clean_database)
    active = reg.register(shipped_waf(), source="a", actor="t")[0]["version"]
    canary = reg.register(resaved_waf("blocks"), source="c", actor="t")[0]["version"]
    reg.transition("promote", active, actor="t")
    reg.transition("canary", canary, actor="t", percent=10)
    rng = np.random.default_rng(4)
    minute = T0
    reg.add_minutes(
        "w", [_rows(active, minute, rng, 5000, 0, 50), _rows(canary, minute, rng, 2000, 0, 200)]
    )
    watch = DriftWatch(clean_database, WatchLimits(), clock=lambda: T0 + timedelta(minutes=1))
    watch._last_minute = T0
    watch.run_once()
    assert reg.rollout("waf").canary is None
    assert "block rate" in reg.history(version=canary)[0]["reason"]
