"""Shadow comparison: how a candidate's verdicts differ from the active model's.

Per vector (``score`` = global, ``sqli``, ``xss``, ``rce``) and per pair of score classes
(active's class -> candidate's class) a :class:`ShadowTally` counts requests and sums the
score delta (candidate - active) and its absolute value. Tallies add up (workers flush
theirs to the database, which adds them), and :func:`disagreement_report` turns the sums
into the per-vector report: class flips, flip rate, mean and mean absolute delta.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bastion.waf.result import WafResult, score_class

VECTORS: tuple[str, ...] = ("score", "sqli", "xss", "rce")

#: (vector, active class, candidate class) -> [count, sum of deltas, sum of |delta|].
TallyKey = tuple[str, str, str]


@dataclass
class ShadowTally:
    """Running sums of one (candidate, active) pair; cheap to add to per request."""

    cells: dict[TallyKey, list[int]] = field(default_factory=dict)

    def add(self, active: WafResult, candidate: WafResult) -> None:
        """Record one request scored by both models."""
        for vector in VECTORS:
            a, c = getattr(active, vector), getattr(candidate, vector)
            key = (vector, score_class(a), score_class(c))
            cell = self.cells.get(key)
            if cell is None:
                cell = self.cells[key] = [0, 0, 0]
            delta = c - a
            cell[0] += 1
            cell[1] += delta
            cell[2] += abs(delta)

    def add_batch(self, active: Iterable[WafResult], candidate: Iterable[WafResult]) -> None:
        for a, c in zip(active, candidate, strict=True):
            self.add(a, c)

    def drain(self) -> dict[TallyKey, list[int]]:
        """The sums so far; the tally starts again from zero."""
        out, self.cells = self.cells, {}
        return out

    def __len__(self) -> int:
        return len(self.cells)


def disagreement_report(cells: Mapping[TallyKey, Iterable[int]]) -> dict[str, Any]:
    """Per vector: requests, class flips (and by pair), flip rate, mean and mean |delta|."""
    report: dict[str, Any] = {}
    for vector in VECTORS:
        n = flips = total = total_abs = 0
        pairs: dict[str, int] = {}
        for (v, a, c), values in cells.items():
            if v != vector:
                continue
            count, s, sa = (int(x) for x in values)
            n += count
            total += s
            total_abs += sa
            if a != c:
                flips += count
                pairs[f"{a}->{c}"] = pairs.get(f"{a}->{c}", 0) + count
        report[vector] = {
            "requests": n,
            "class_flips": flips,
            "flip_rate": round(flips / n, 6) if n else None,
            "mean_delta": round(total / n, 4) if n else None,
            "mean_abs_delta": round(total_abs / n, 4) if n else None,
            "flips": dict(sorted(pairs.items(), key=lambda kv: -kv[1])),
        }
    return report
