"""The serving worker's side of the request log when a writer process runs
(``bastion serve``): sampled judged batches are queued, and one thread ships them to the
writer process over a Unix socket at a short interval.

Scoring pays only the queue append; the shipping thread pays a copy of each request's
fields into tuples and one C-level serialization per interval (:mod:`bastion.analytics.wire`),
a few microseconds per request. Row building, explanations, inserts and rollups happen in
the writer process (:mod:`bastion.service.analytics_writer`), off the serving path.

When the writer cannot be reached, shipped requests are dropped and counted
(``bastion_analytics_dropped_total{reason="writer_unreachable"}``); the shipper tries to
reconnect at most once per ``retry_s``. The log is sampled analytics: dropping it never
affects a request's answer.
"""

from __future__ import annotations

import logging
import socket
import threading
import time

from bastion.analytics import wire
from bastion.analytics.record import CaptureOptions
from bastion.analytics.sampler import Sampler
from bastion.service import metrics
from bastion.service.analytics_log import QueuedObserver, queued_count

log = logging.getLogger("bastion.analytics")


class LogShipper(QueuedObserver):
    """A scoring observer that ships sampled requests to the writer at ``socket_path``."""

    def __init__(
        self,
        socket_path: str,
        *,
        sampler: Sampler | None = None,
        options: CaptureOptions | None = None,
        queue_size: int = 20_000,
        batch_size: int = 2_000,
        ship_interval_s: float = 0.25,
        retry_s: float = 1.0,
        send_timeout_s: float = 5.0,
    ) -> None:
        super().__init__(sampler, queue_size, batch_size)
        self.socket_path = socket_path
        self.options = options or CaptureOptions()
        self.ship_interval_s = ship_interval_s
        self.retry_s = retry_s
        self.send_timeout_s = send_timeout_s
        self.shipped = 0
        self._sock: socket.socket | None = None
        self._failed_at = -1e18
        self._send_lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the shipping thread (idempotent)."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="bastion-analytics-shipper", daemon=True
            )
            self._thread.start()

    def flush(self, timeout_s: float = 10.0) -> bool:
        """Ship what is queued now; False when the writer could not take it."""
        del timeout_s  # one bounded send (send_timeout_s)
        return self._ship()

    def close(self, timeout_s: float = 10.0) -> None:
        """Ship what is queued, stop the thread and close the connection."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None
        self._ship()
        with self._send_lock:
            if self._sock is not None:
                self._sock.close()
                self._sock = None

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(self.ship_interval_s)
            self._wake.clear()
            try:
                self._ship()
            except Exception:  # never let the thread die: the next interval retries
                log.exception("analytics: shipping logged requests failed")

    def _ship(self) -> bool:
        with self._send_lock:
            items = self._drain()
            if not items:
                return True
            n = queued_count(items)
            frame = wire.pack(items, self.options)
            sock = self._connection()
            if sock is None:
                self._drop(n, "writer_unreachable")
                return False
            try:
                sock.sendall(frame)
            except OSError as exc:
                log.warning("analytics: the log writer went away (%s); %d requests dropped", exc, n)
                sock.close()
                self._sock = None
                self._failed_at = time.monotonic()
                self._drop(n, "writer_unreachable")
                return False
            self.shipped += n
            metrics.ANALYTICS_QUEUED.inc(n)
            return True

    def _connection(self) -> socket.socket | None:
        if self._sock is not None:
            return self._sock
        if time.monotonic() - self._failed_at < self.retry_s:
            return None
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.send_timeout_s)
        try:
            sock.connect(self.socket_path)
        except OSError as exc:
            sock.close()
            self._failed_at = time.monotonic()
            log.warning("analytics: cannot reach the log writer at %s (%s)", self.socket_path, exc)
            return None
        self._sock = sock
        return sock
