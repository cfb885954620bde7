"""Helpers for the analytics tests: known logged requests (a module with a unique name:
``conftest`` is ambiguous when the whole suite runs)."""

from __future__ import annotations

from dataclasses import dataclass

from bastion.analytics.record import CaptureOptions, RequestRecord, record_of
from bastion.rules import Decision
from bastion.waf.request import HttpRequest
from bastion.waf.result import WafResult

#: A fixed "now" (epoch ms), on a minute boundary.
NOW = 1_800_000_000_000 - 1_800_000_000_000 % 60_000


@dataclass(frozen=True)
class FakeVerdict:
    """A verdict as scoring makes it (the record only reads these two fields)."""

    result: WafResult
    decision: Decision


def make_record(
    *,
    ts_ms: int,
    zone: str = "shop.example",
    path: str = "/",
    score: int = 90,
    sqli: int = 90,
    xss: int = 90,
    rce: int = 90,
    action: str = "allow",
    rule_id: str | None = None,
    client: str = "192.0.2.1",
    body: bytes = b"",
    headers: tuple[tuple[str, str], ...] = (),
    options: CaptureOptions | None = None,
) -> RequestRecord:
    request = HttpRequest("GET", path, (("Host", zone or "unknown.test"), *headers), body)
    verdict = FakeVerdict(WafResult(score, sqli, xss, rce), Decision(action, rule_id))  # type: ignore[arg-type]
    return record_of(
        request,
        verdict,
        ts_ms=ts_ms,
        zone=zone,
        source="api",
        client=client,
        model_version="m1",
        options=options or CaptureOptions(),
    )


def known_records() -> list[RequestRecord]:
    """60 minutes of traffic for shop.example plus a little for other.example.

    Per minute m (0..59 before NOW): 3 clean requests to /home from 192.0.2.1, and in even
    minutes 1 attack (score 5, sqli 3) on /login from 198.51.100.7, blocked by rule r1.
    """
    rows = []
    for m in range(60):
        base = NOW - (m + 1) * 60_000
        for i in range(3):
            rows.append(make_record(ts_ms=base + i * 1000, path="/home"))
        if m % 2 == 0:
            rows.append(
                make_record(
                    ts_ms=base + 5000,
                    path="/login",
                    score=5,
                    sqli=3,
                    action="block",
                    rule_id="r1",
                    client="198.51.100.7",
                )
            )
    for m in range(10):
        rows.append(make_record(ts_ms=NOW - (m + 1) * 60_000, zone="other.example", path="/x"))
    return rows
