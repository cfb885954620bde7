"""Weaponized reports: reporter reputation and flood detection.

Abuse forms are also used to harass sites (mass false reports) and to dox reporters. Two
signals hold a case's notices back for a human instead of forwarding them at once:

* **reputation**: the share of a reporter's decided reports that were actioned, with a
  Laplace prior, ``(actioned + 1) / (actioned + rejected + 2)``; a reporter with at least
  ``min_decided`` decisions and a score below ``threshold`` is *untrusted*;
* **flood**: more than ``max_reports`` reports against one target (a zone, or the host for
  unattributed URLs) within ``window``, across all reporters. The detector is a sliding
  window over event time, kept per consumer process (each process sees its share of the
  stream, so thresholds are per process).
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class Reputation:
    """A reporter's track record."""

    reports: int = 0
    actioned: int = 0
    rejected: int = 0

    @property
    def score(self) -> float:
        """Share of decided reports that were actioned, smoothed (0.5 with no history)."""
        return (self.actioned + 1) / (self.actioned + self.rejected + 2)

    def untrusted(self, *, min_decided: int = 5, threshold: float = 0.2) -> bool:
        """Enough decisions, and mostly rejected."""
        return self.actioned + self.rejected >= min_decided and self.score < threshold


UNKNOWN = Reputation()


class FloodDetector:
    """Counts reports per target in a sliding window of event time.

    ``observe(target, at)`` records one report and answers whether the target is flooded
    (more than ``max_reports`` in the window ending at ``at``). Memory is bounded: at most
    ``max_targets`` targets are tracked (least recently seen dropped first), and each keeps
    at most ``max_reports + 1`` timestamps.
    """

    def __init__(
        self,
        *,
        window: timedelta = timedelta(minutes=10),
        max_reports: int = 200,
        max_targets: int = 100_000,
    ) -> None:
        if max_reports < 1 or max_targets < 1:
            raise ValueError("max_reports and max_targets must be >= 1")
        self.window = window
        self.max_reports = max_reports
        self.max_targets = max_targets
        self._window_s = window.total_seconds()
        self._seen: OrderedDict[str, deque[float]] = OrderedDict()

    def observe(self, target: str, at: datetime) -> bool:
        """Record a report against ``target`` at ``at``; whether the target is flooded."""
        return self.observe_at(target, at.timestamp())

    def observe_at(self, target: str, now: float) -> bool:
        """:meth:`observe` with the time as seconds since the epoch."""
        start = now - self._window_s
        times = self._seen.get(target)
        if times is None:
            times = self._seen[target] = deque(maxlen=self.max_reports + 1)
            if len(self._seen) > self.max_targets:
                self._seen.popitem(last=False)
        else:
            self._seen.move_to_end(target)
        times.append(now)
        while times and times[0] < start:
            times.popleft()
        return len(times) > self.max_reports

    def flooded(self, target: str) -> bool:
        """Whether ``target`` was flooded at its last observation."""
        times = self._seen.get(target)
        return times is not None and len(times) > self.max_reports
