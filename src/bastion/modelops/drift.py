"""Drift of score distributions: PSI and KS over sliding windows, with false-alarm control.

Scores are integers 1..99 plus ``unscored`` (100), so a stream's distribution is exactly a
histogram of :data:`NBINS` counts per vector, and windows are sums of per-minute
histograms. For each stream (a model version in a zone) and vector the detector compares
the last ``window_minutes`` minutes with the stream's reference histogram:

* **KS** ``D = max |F_window - F_ref|`` over the 100 ordered bins (exact for discrete
  scores); under no drift ``D`` exceeds ``c(a) * sqrt(1/n + 1/m)`` with probability at most
  ``a``, ``c(a) = sqrt(-ln(a/2) / 2)`` (conservative for discrete data).
* **PSI** ``sum (p - q) ln(p / q)`` over :data:`PSI_EDGES` (5-point bands plus unscored),
  counts smoothed by 0.5; under no drift PSI is about ``chi2(B-1) * (1/n + 1/m)``.

A window *exceeds* when ``n >= min_samples`` and both statistics pass both their noise
threshold (at the per-test level ``a = daily_false_alarm / tests_per_day``: a Bonferroni
bound over every window, vector and stream of a day) and their effect floor
(``ks_floor``, ``psi_floor``: drift too small to act on is not reported however many
samples show it). An alarm is raised after ``consecutive`` exceeding windows in a row
and cleared after as many windows below ``clear_fraction`` of the thresholds
(hysteresis: one alert per episode, not one per minute).

Everything is vectorized over streams and vectors with NumPy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from statistics import NormalDist

import numpy as np
import numpy.typing as npt

from bastion.modelops.shadow import VECTORS

#: Histogram bins: scores 1..99 (index score-1) and unscored (index 99).
NBINS = 100
#: PSI bands: [1-5], [6-10], ..., [96-99], unscored.
PSI_EDGES: tuple[int, ...] = (*range(0, 100, 5), 99, 100)

Counts = npt.NDArray[np.int64]


@dataclass(frozen=True)
class DriftConfig:
    """Thresholds of the detector (see the module docstring)."""

    window_minutes: int = 3
    min_samples: int = 2000
    ks_floor: float = 0.02
    psi_floor: float = 0.05
    #: Probability of any false alarm in a day across all tests (Bonferroni bound).
    daily_false_alarm: float = 0.01
    #: Tests a day: windows (1,440) x vectors (4) x streams (up to 64 zones/versions).
    tests_per_day: int = 1440 * 4 * 64
    consecutive: int = 2
    clear_fraction: float = 0.5

    def __post_init__(self) -> None:
        if self.window_minutes < 1 or self.min_samples < 1 or self.consecutive < 1:
            raise ValueError("window_minutes, min_samples and consecutive must be >= 1")
        if not 0 < self.daily_false_alarm < 1 or self.tests_per_day < 1:
            raise ValueError("daily_false_alarm must be in (0, 1), tests_per_day >= 1")

    @property
    def alpha(self) -> float:
        """False-alarm probability allowed to one test."""
        return self.daily_false_alarm / self.tests_per_day

    @property
    def ks_coefficient(self) -> float:
        return math.sqrt(-math.log(self.alpha / 2) / 2)

    @property
    def psi_coefficient(self) -> float:
        """``chi2(B-1)`` quantile at ``1 - alpha`` (Wilson-Hilferty approximation)."""
        k = len(PSI_EDGES) - 2  # bands - 1
        z = NormalDist().inv_cdf(1 - self.alpha)
        return k * (1 - 2 / (9 * k) + z * math.sqrt(2 / (9 * k))) ** 3


def score_histogram(scores: npt.ArrayLike) -> Counts:
    """Counts of integer scores 1..100 as :data:`NBINS` bins (last axis)."""
    s = np.clip(np.asarray(scores, dtype=np.int64), 1, 100) - 1
    return np.bincount(s.ravel(), minlength=NBINS).astype(np.int64)


def ks_statistic(ref: Counts, cur: Counts) -> npt.NDArray[np.float64]:
    """KS distance between histograms along the last axis (empty histograms give 0)."""
    n = np.maximum(cur.sum(-1, keepdims=True), 1)
    m = np.maximum(ref.sum(-1, keepdims=True), 1)
    out: npt.NDArray[np.float64] = np.abs(np.cumsum(cur, -1) / n - np.cumsum(ref, -1) / m).max(-1)
    return out


def psi_statistic(ref: Counts, cur: Counts) -> npt.NDArray[np.float64]:
    """Population stability index over :data:`PSI_EDGES` bands along the last axis."""
    edges = np.asarray(PSI_EDGES[:-1])
    r = np.add.reduceat(ref, edges, axis=-1).astype(np.float64) + 0.5
    c = np.add.reduceat(cur, edges, axis=-1).astype(np.float64) + 0.5
    p = c / c.sum(-1, keepdims=True)
    q = r / r.sum(-1, keepdims=True)
    out: npt.NDArray[np.float64] = ((p - q) * np.log(p / q)).sum(-1)
    return out


@dataclass(frozen=True)
class DriftEvent:
    """An alarm raised or cleared for one stream and vector."""

    stream: str
    vector: str
    minute: int
    kind: str  # "raised" or "cleared"
    ks: float
    psi: float
    ks_threshold: float
    psi_threshold: float
    samples: int


@dataclass
class DriftReading:
    """The last evaluation of every stream: arrays of shape (streams, vectors)."""

    minute: int
    streams: list[str]
    ks: npt.NDArray[np.float64]
    psi: npt.NDArray[np.float64]
    ks_threshold: npt.NDArray[np.float64]
    psi_threshold: npt.NDArray[np.float64]
    samples: npt.NDArray[np.int64]
    alarm: npt.NDArray[np.bool_]


@dataclass
class DriftDetector:
    """Sliding-window drift detection for many streams at once.

    ``set_reference(stream, counts)`` fixes a stream's reference ((vectors, NBINS) counts);
    ``observe(minute, {stream: counts})`` adds one minute (streams absent that minute add
    nothing) and returns the alarms raised or cleared by this minute's evaluation.
    """

    config: DriftConfig = field(default_factory=DriftConfig)
    vectors: tuple[str, ...] = VECTORS
    _index: dict[str, int] = field(default_factory=dict)
    _ref: Counts = field(init=False)
    _ring: Counts = field(init=False)
    _over: npt.NDArray[np.int64] = field(init=False)
    _under: npt.NDArray[np.int64] = field(init=False)
    _alarm: npt.NDArray[np.bool_] = field(init=False)
    _slot: int = 0
    last: DriftReading | None = None

    def __post_init__(self) -> None:
        v, w = len(self.vectors), self.config.window_minutes
        self._ref = np.zeros((0, v, NBINS), np.int64)
        self._ring = np.zeros((0, w, v, NBINS), np.int64)
        self._over = np.zeros((0, v), np.int64)
        self._under = np.zeros((0, v), np.int64)
        self._alarm = np.zeros((0, v), np.bool_)

    @property
    def streams(self) -> list[str]:
        return list(self._index)

    def _row(self, stream: str) -> int:
        row = self._index.get(stream)
        if row is None:
            row = self._index[stream] = len(self._index)
            v = len(self.vectors)
            self._ref = np.concatenate([self._ref, np.zeros((1, v, NBINS), np.int64)])
            self._ring = np.concatenate(
                [self._ring, np.zeros((1, *self._ring.shape[1:]), np.int64)]
            )
            for name in ("_over", "_under"):
                setattr(
                    self, name, np.concatenate([getattr(self, name), np.zeros((1, v), np.int64)])
                )
            self._alarm = np.concatenate([self._alarm, np.zeros((1, v), np.bool_)])
        return row

    def set_reference(self, stream: str, counts: npt.ArrayLike) -> None:
        """Fix ``stream``'s reference histogram, shape (vectors, NBINS)."""
        ref = np.asarray(counts, dtype=np.int64)
        if ref.shape != (len(self.vectors), NBINS):
            raise ValueError(
                f"reference must have shape {(len(self.vectors), NBINS)}, got {ref.shape}"
            )
        row = self._row(stream)  # may grow the arrays: index them after
        self._ref[row] = ref

    def has_reference(self, stream: str) -> bool:
        row = self._index.get(stream)
        return row is not None and bool(self._ref[row].sum() > 0)

    def observe(self, minute: int, batch: dict[str, Counts]) -> list[DriftEvent]:
        """Add one minute of histograms and evaluate every stream's window."""
        rows = [self._row(s) for s in batch]  # may grow the arrays
        self._slot = (self._slot + 1) % self.config.window_minutes
        self._ring[:, self._slot] = 0
        if rows:
            self._ring[rows, self._slot] = np.stack(
                [np.asarray(c, np.int64) for c in batch.values()]
            )
        return self._evaluate(minute)

    def _evaluate(self, minute: int) -> list[DriftEvent]:
        cfg = self.config
        window = self._ring.sum(axis=1)  # (S, V, B)
        n = window.sum(-1)
        m = self._ref.sum(-1)
        ks = ks_statistic(self._ref, window)
        psi = psi_statistic(self._ref, window)
        scale = np.sqrt(1.0 / np.maximum(n, 1) + 1.0 / np.maximum(m, 1))
        ks_thr = np.maximum(cfg.ks_floor, cfg.ks_coefficient * scale)
        psi_thr = np.maximum(cfg.psi_floor, cfg.psi_coefficient * scale**2)
        usable = (n >= cfg.min_samples) & (m >= cfg.min_samples)
        over = usable & (ks > ks_thr) & (psi > psi_thr)
        under = ~usable | (ks < cfg.clear_fraction * ks_thr) | (psi < cfg.clear_fraction * psi_thr)
        self._over = np.where(over, self._over + 1, 0)
        self._under = np.where(under, self._under + 1, 0)
        raise_ = ~self._alarm & (self._over >= cfg.consecutive)
        clear = self._alarm & (self._under >= cfg.consecutive)
        self._alarm = (self._alarm | raise_) & ~clear
        names = list(self._index)
        events: list[DriftEvent] = []
        for kind, mask in (("raised", raise_), ("cleared", clear)):
            for s, v in zip(*np.nonzero(mask), strict=True):
                events.append(
                    DriftEvent(
                        names[s],
                        self.vectors[v],
                        minute,
                        kind,
                        round(float(ks[s, v]), 5),
                        round(float(psi[s, v]), 5),
                        round(float(ks_thr[s, v]), 5),
                        round(float(psi_thr[s, v]), 5),
                        int(n[s, v]),
                    )
                )
        self.last = DriftReading(minute, names, ks, psi, ks_thr, psi_thr, n, self._alarm.copy())
        return events
