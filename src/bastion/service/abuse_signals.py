"""bastion's own signals onto the abuse stream, from any thread, never blocking the caller.

Producers (content scanning, the script monitor, the WAF observer) call
:meth:`SignalPublisher.offer` with a report (:mod:`bastion.abuse.signals`); a bounded queue
holds it (a full queue drops and counts: the signal is advisory, the producing component has
already acted) and a task of the worker's event loop publishes the queue in batches on the
desk's stream every ``interval_s``.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from bastion.abuse.events import report_event
from bastion.abuse.reports import Report
from bastion.abuse.signals import BurstDetector, malicious_script, utc, waf_burst
from bastion.abuse.signals import content_match as content_signal
from bastion.stream import EventStream, StreamError

log = logging.getLogger("bastion.service.abuse_signals")

MAX_QUEUED = 10_000
MAX_BATCH = 1000


class SignalPublisher:
    """A bounded, thread-safe queue of signal reports and its publishing loop."""

    def __init__(self, stream: EventStream, interval_s: float = 0.5) -> None:
        self.stream = stream
        self.interval_s = interval_s
        self._queue: deque[Report] = deque()
        self._lock = threading.Lock()
        self.dropped = 0
        self.published = 0

    def offer(self, report: Report | None) -> None:
        """Queue ``report`` for publishing (``None`` is ignored)."""
        if report is None:
            return
        with self._lock:
            if len(self._queue) >= MAX_QUEUED:
                self.dropped += 1
                return
            self._queue.append(report)

    def _take(self) -> list[Report]:
        with self._lock:
            n = min(len(self._queue), MAX_BATCH)
            return [self._queue.popleft() for _ in range(n)]

    async def flush(self) -> int:
        """Publish what is queued now; returns how many (put back on a stream error)."""
        total = 0
        while batch := self._take():
            try:
                await self.stream.publish_batch([report_event(r) for r in batch])
            except StreamError as exc:
                log.warning("abuse signals: stream unavailable, %d kept: %s", len(batch), exc)
                with self._lock:
                    self._queue.extendleft(reversed(batch))
                return total
            total += len(batch)
            self.published += len(batch)
        return total

    async def run_forever(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            await self.flush()


class WafBurstObserver:
    """A :class:`~bastion.service.scoring.ScoringService` observer: attack-class verdicts
    counted per zone (the request's Host); a burst becomes a signal."""

    def __init__(self, publisher: SignalPublisher, threshold: int, window_s: int) -> None:
        self.publisher = publisher
        self.detector = BurstDetector(threshold, window_s)
        self._lock = threading.Lock()

    def __call__(self, batch: object) -> None:
        requests = getattr(batch, "requests", ())
        verdicts = getattr(batch, "verdicts", ())
        hosts = [
            _host(request)
            for request, verdict in zip(requests, verdicts, strict=False)
            if verdict.result.cls == "attack"
        ]
        if not hosts:
            return
        at = float(getattr(batch, "at", 0.0))
        with self._lock:
            fired = self.detector.observe([h for h in hosts if h], at)
        for zone, count in fired:
            self.publisher.offer(waf_burst(zone, count, self.detector.window_s, utc(at)))


def _host(request: object) -> str:
    for name, value in getattr(request, "headers", ()):
        if name.lower() == "host":
            return str(value)
    return ""


def publisher_of(app_state: object) -> SignalPublisher | None:
    """The worker's publisher once the abuse desk runs (``None`` before, or when off)."""
    publisher: SignalPublisher | None = getattr(app_state, "abuse_signals", None)
    return publisher


def content_block_hook(
    previous: Callable[[str, str, str], None] | None, app_state: object
) -> Callable[[str, str, str], None]:
    """A content service ``on_block`` that also signals each new active block."""

    def on_block(zone: str, path: str, state: str) -> None:
        if previous is not None:
            previous(zone, path, state)
        publisher = publisher_of(app_state)
        if publisher is not None and state == "active":
            publisher.offer(content_signal(f"https://{zone}{path}", utc(time.time())))

    return on_block


def script_alert_hook(app_state: object) -> Callable[[Any], None]:
    """A script monitor ``on_alert`` that signals ``malicious`` verdicts."""

    def on_alert(alert: Any) -> None:
        publisher = publisher_of(app_state)
        if publisher is None or getattr(alert, "kind", None) != "malicious":
            return
        detail = getattr(alert, "detail", {}) or {}
        note = ", ".join(f"{k}: {v}" for k, v in sorted(detail.items()) if k != "url")[:500]
        publisher.offer(malicious_script(alert.url, alert.zone, note, utc(time.time())))

    return on_alert
