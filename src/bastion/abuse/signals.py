"""bastion's own signals as reports on the abuse stream: content-scan matches, malicious
script verdicts and WAF attack bursts per zone.

Each signal becomes an ordinary report (kind ``abuse.report``), so it is deduplicated into
cases, routed and counted like any other. Its reporter is the producing component (a
stable key, so its reputation accrues: if staff reject what a producer sends, its notices
are held for review like an untrusted reporter's). Report ids derive from the producer,
the URL and the hour, so a signal repeated within the hour is one report.

* content-scan match -> type ``other`` (the content scanner files CSAM reports itself,
  through its own adapter: the desk must not file them twice), the blocked URL;
* malicious script verdict -> type ``malware``, the script's URL;
* WAF attack burst -> type ``other``, ``https://<zone>/``, when a zone sees at least
  ``threshold`` attack-class requests within ``window_s`` seconds
  (:class:`BurstDetector`, once per zone and window).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime

from bastion.abuse.errors import AbuseError
from bastion.abuse.reports import Report, Reporter, ReportType
from bastion.abuse.urls import canonical_host, canonicalize_url

PRODUCERS = {
    "content": Reporter(name="bastion content scanner", email="content@signals.bastion.invalid"),
    "scripts": Reporter(name="bastion script monitor", email="scripts@signals.bastion.invalid"),
    "waf": Reporter(name="bastion WAF", email="waf@signals.bastion.invalid"),
}
#: Most zones the burst detector follows at once (the oldest are forgotten first).
MAX_ZONES = 100_000


def signal_report(
    producer: str, report_type: ReportType, url: str, description: str, at: datetime
) -> Report | None:
    """The report of one signal (``None`` when ``url`` cannot be canonicalized)."""
    try:
        canonical = canonicalize_url(url)
    except AbuseError:
        return None
    hour = int(at.timestamp()) // 3600
    digest = hashlib.sha256(f"{producer}\x1f{report_type}\x1f{canonical}\x1f{hour}".encode())
    return Report(
        id="s" + digest.hexdigest()[:31],
        type=report_type,
        urls=[canonical],
        description=description[:10_000],
        reporter=PRODUCERS[producer],
        source=f"signal:{producer}",
        received_at=at,
    )


def content_match(url: str, at: datetime, bank: str = "", sha256: str = "") -> Report | None:
    what = f" (bank {bank!r}, sha256 {sha256})" if bank else ""
    return signal_report(
        "content", ReportType.OTHER, url,
        f"Content scanning matched this URL's content and blocked it{what}.", at,
    )  # fmt: skip


def malicious_script(url: str, zone: str, detail: str, at: datetime) -> Report | None:
    return signal_report(
        "scripts", ReportType.MALWARE, url,
        f"The script monitor classified this script (seen on {zone}) as malicious. {detail}",
        at,
    )  # fmt: skip


class BurstDetector:
    """Counts attack-class requests per zone in fixed windows; reports a zone once per
    window when it reaches ``threshold``."""

    def __init__(self, threshold: int, window_s: int) -> None:
        if threshold < 1 or window_s < 1:
            raise ValueError("threshold and window_s must be positive")
        self.threshold = threshold
        self.window_s = window_s
        self._counts: dict[str, tuple[int, int]] = {}  # zone -> (window, count)

    def observe(self, hosts: Iterable[str], at: float) -> list[tuple[str, int]]:
        """Count one attack per host; the ``(zone, count)`` that just reached the
        threshold."""
        window = int(at) // self.window_s
        fired = []
        for host in hosts:
            zone = host.split(":", 1)[0].strip().lower().rstrip(".")
            if not zone:
                continue
            seen, count = self._counts.get(zone, (window, 0))
            count = count + 1 if seen == window else 1
            self._counts[zone] = (window, count)
            if count == self.threshold:
                fired.append((zone, count))
        if len(self._counts) > MAX_ZONES:
            for stale in [z for z, (w, _) in self._counts.items() if w != window]:
                del self._counts[stale]
        return fired


def waf_burst(zone: str, count: int, window_s: int, at: datetime) -> Report | None:
    try:
        host = canonical_host(zone)
    except AbuseError:
        return None
    return signal_report(
        "waf", ReportType.OTHER, f"https://{host}/",
        f"WAF attack burst: at least {count} attack-class requests to {host} within "
        f"{window_s} s.",
        at,
    )  # fmt: skip


def utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)
