"""The request log: sampling, privacy, batching, flush on close, drops that never block."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

from analytics_kit import FakeVerdict

from bastion.analytics import CaptureOptions, JudgedBatch, Sampler, ZoneIndex
from bastion.analytics.queries import Query
from bastion.analytics.record import records_from
from bastion.rules import Decision
from bastion.service import metrics
from bastion.service.analytics_log import RequestLog
from bastion.store.analytics import DuckDBStore
from bastion.waf.request import HttpRequest
from bastion.waf.result import WafResult


def _batch(n: int, host: str = "www.shop.example", **kw: Any) -> JudgedBatch:
    reqs = [
        HttpRequest(
            "POST",
            f"/p{i}?a=1",
            (
                ("Host", host),
                ("Authorization", "Bearer secret-token"),
                ("Cookie", "session=abc"),
                ("X-Forwarded-For", "203.0.113.9, 10.0.0.1"),
            ),
            b"x" * 100,
        )
        for i in range(n)
    ]
    verdicts = [FakeVerdict(WafResult(90, 90, 90, 90), Decision("allow")) for _ in reqs]
    return JudgedBatch(time.time(), "api", reqs, verdicts, "m1", **kw)


class SlowStore(DuckDBStore):
    """A real in-memory DuckDB store whose inserts wait on a gate (a stuck disk)."""

    def __init__(self) -> None:
        super().__init__(":memory:")
        self.gate = threading.Event()
        self.inserts: list[int] = []

    def insert_columns(self, columns: Mapping[str, Sequence[Any]]) -> None:
        self.gate.wait(30)
        self.inserts.append(len(columns["id"]))
        super().insert_columns(columns)


def _count(store: DuckDBStore) -> int:
    return int(store.fetch(Query("SELECT count(*) FROM requests"))[0][0])


def test_sampler_is_deterministic_and_keeps_about_the_rate() -> None:
    reqs = [HttpRequest("GET", f"/item/{i}") for i in range(20_000)]
    half = Sampler(0.25)
    kept = [half.keep(r) for r in reqs]
    assert kept == [Sampler(0.25).keep(r) for r in reqs]
    assert 0.23 < sum(kept) / len(kept) < 0.27
    assert all(Sampler(1.0).keep(r) for r in reqs[:100])
    assert not any(Sampler(0.0).keep(r) for r in reqs[:100])


def test_records_drop_credentials_and_honour_privacy_switches() -> None:
    zones = ZoneIndex(["shop.example"])
    (rec,) = records_from(_batch(1), zones, CaptureOptions(max_body_bytes=10))
    assert rec.zone == "shop.example" and rec.host == "www.shop.example"
    assert rec.client == "203.0.113.9"
    assert "secret-token" not in rec.headers and "Authorization" not in rec.headers
    assert "session=abc" in rec.headers
    assert rec.body_size == 100 and rec.body_truncated == 1 and len(rec.body_b64) == 16
    private = CaptureOptions(keep_bodies=False, keep_cookies=False)
    (rec,) = records_from(_batch(1, host="evil.test"), zones, private)
    assert rec.zone == "" and rec.body_b64 == "" and "session" not in rec.headers
    (rec,) = records_from(_batch(1, clients=["198.51.100.1"]), zones, private)
    assert rec.client == "198.51.100.1"


def test_batches_are_written_together_and_flushed_on_close() -> None:
    store = SlowStore()
    store.gate.set()
    log = RequestLog(store, zones=lambda: ["shop.example"], batch_size=1000, flush_interval_s=30)
    log.start()
    for _ in range(10):
        log(_batch(50))
    assert log.flush(10)
    assert store.inserts == [500]  # one write for ten judged batches
    log(_batch(7))
    log.close()
    assert store.inserts == [500, 7] and log.written == 507


def test_a_full_queue_drops_and_counts_without_blocking() -> None:
    store = SlowStore()
    log = RequestLog(store, queue_size=2, batch_size=1, flush_interval_s=0.01)
    log.start()
    before = metrics.ANALYTICS_DROPPED.labels("queue_full")._value.get()
    log(_batch(3))  # taken by the writer, which then waits on the gate
    deadline = time.monotonic() + 5
    while len(log._buffer) and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.perf_counter()
    for _ in range(50):
        log(_batch(3))
    elapsed = time.perf_counter() - started
    assert elapsed < 0.5  # the writer is stuck, scoring is not
    assert log.dropped == 48 * 3
    assert metrics.ANALYTICS_DROPPED.labels("queue_full")._value.get() - before == 48 * 3
    store.gate.set()
    log.close()
    assert log.written == 3 * 3


def test_sampled_out_requests_are_not_queued() -> None:
    store = DuckDBStore(":memory:")
    log = RequestLog(store, sampler=Sampler(0.0))
    log(_batch(10))
    log.close()
    assert log.written == 0
