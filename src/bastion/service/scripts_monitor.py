"""The script monitor in the service: admit and ingest CSP reports, fetch and classify
new scripts in the background.

Report path (public: browsers send no token), cheapest check first:

1. the zone in the URL must be a hostname (400) that bastion knows: a zone of some API
   token or one with a stored policy (404 otherwise, so nobody fills the database with
   made-up zones); known zones are cached per worker for :data:`ZONE_CACHE_S`;
2. per client address (IPv6: per /64) and per zone token buckets, shared across workers
   when Redis is configured (429 with ``Retry-After``);
3. ``Content-Type`` (415), size while reading (413), JSON and shape (400): see
   :mod:`bastion.scripts.monitor.reports`;
4. the observations go into the inventory in one transaction; new scripts are queued.

Fetch path (off the request path): :meth:`ScriptMonitor.run_forever` leases due scripts,
fetches each with the SSRF-safe :class:`~bastion.net.fetch.SafeFetcher`, classifies the
body with the :class:`~bastion.scripts.ScriptScorer` (a body seen before, in any zone, reuses
its stored verdict; the scorer caches by bytes and by normalized-AST hash) and stores the
version; alerts go to the outbox in the same transaction. JavaScript is parsed, never run.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import logging
import math
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from bastion.auth import InvalidZoneError, LocalRateLimiter, RedisRateLimiter, normalize_zone
from bastion.config import Settings
from bastion.net.fetch import FetchError, FetchPolicy, SafeFetcher
from bastion.scripts import ScriptScorer, SourceError, load_scorer
from bastion.scripts.monitor.inventory import observe
from bastion.scripts.monitor.reports import ReportLimits, parse_reports
from bastion.service.abuse_signals import script_alert_hook
from bastion.store.db import Database
from bastion.store.models import Zone
from bastion.store.scripts_inventory import FetchJob, ScriptInventory
from bastion.store.scripts_models import CspPolicy

log = logging.getLogger("bastion.service.scripts")

#: Seconds a worker trusts its list of known zones.
ZONE_CACHE_S = 30.0


class ReportRefused(Exception):
    """A report request refused before parsing: HTTP status, message, headers."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def client_address(
    peer: str | None,
    forwarded_for: str | None,
    trusted: Iterable[ipaddress.IPv4Network | ipaddress.IPv6Network],
) -> str:
    """The client's address: the peer, or when the peer is a trusted proxy the right-most
    ``X-Forwarded-For`` entry that is not one (entries left of it are client-controlled)."""
    nets = list(trusted)

    def is_trusted(text: str) -> bool:
        try:
            ip = ipaddress.ip_address(text)
        except ValueError:
            return False
        return any(ip in net for net in nets)

    if peer is None:
        return "unknown"
    if not forwarded_for or not is_trusted(peer):
        return peer
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    for hop in reversed(hops):
        if not is_trusted(hop):
            return hop
    return peer


def rate_key(address: str) -> str:
    """The bucket of a client address: IPv4 as is, IPv6 by /64 (one subscriber's block)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is None:
        return str(ipaddress.IPv6Network((int(ip) >> 64 << 64, 64)))
    return str(ip.ipv4_mapped or ip) if isinstance(ip, ipaddress.IPv6Address) else str(ip)


@dataclass(frozen=True)
class IngestOutcome:
    """The answer to a report request."""

    received: int
    skipped: int
    recorded: int
    ignored: int
    dropped: int
    new_resources: int
    alerts: int

    def to_json(self) -> dict[str, int]:
        return {
            "received": self.received,
            "skipped": self.skipped,
            "recorded": self.recorded,
            "ignored": self.ignored,
            "dropped": self.dropped,
            "new_resources": self.new_resources,
            "alerts": self.alerts,
        }


class ScriptMonitor:
    """One worker's monitor: report admission and ingest, and the fetch loop."""

    def __init__(
        self,
        settings: Settings,
        database: Database,
        limiter: LocalRateLimiter | RedisRateLimiter,
        *,
        rate_share: float = 1.0,
        scorer: ScriptScorer | None = None,
        fetcher: SafeFetcher | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.database = database
        self.limiter = limiter
        self.rate_share = rate_share
        self.clock = clock
        self.limits = ReportLimits(max_body_bytes=settings.csp_report_max_bytes)
        self.trusted = [ipaddress.ip_network(n, strict=False) for n in settings.csp_trusted_proxies]
        self.inventory = ScriptInventory(
            database,
            max_resources_per_zone=settings.csp_max_resources_per_zone,
            refetch_after=timedelta(hours=settings.csp_refetch_hours),
        )
        self.fetcher = fetcher or SafeFetcher(
            FetchPolicy(
                allow=frozenset(settings.csp_fetch_allow),
                max_bytes=settings.csp_fetch_max_bytes,
                timeout_s=settings.csp_fetch_timeout_s,
                max_redirects=settings.csp_fetch_max_redirects,
            )
        )
        self._scorer = scorer
        self._scorer_lock = threading.Lock()
        self._zones: frozenset[str] = frozenset()
        self._zones_at = -math.inf
        self._zones_lock = threading.Lock()
        #: Called with each alert recorded by the fetch loop (the abuse desk's signals).
        self.on_alert: Callable[[Any], None] | None = None

    # -- admission ------------------------------------------------------------------------

    def zone_of(self, raw: str) -> str:
        """``raw`` as a zone name, or :class:`ReportRefused` (400)."""
        try:
            return normalize_zone(raw)
        except InvalidZoneError as exc:
            raise ReportRefused(400, str(exc)) from None

    def admit_client(self, address: str) -> None:
        """Charge the client's bucket; :class:`ReportRefused` (429) when it is empty."""
        s = self.settings
        self._charge(f"csp:ip:{rate_key(address)}", s.csp_ip_rate, s.csp_ip_burst, "this address")

    def admit_zone(self, zone: str) -> None:
        """404 for a zone bastion does not know, 429 when the zone's bucket is empty."""
        if zone not in self.known_zones():
            raise ReportRefused(404, f"zone {zone!r} is not monitored by this service")
        s = self.settings
        self._charge(f"csp:zone:{zone}", s.csp_zone_rate, s.csp_zone_burst, f"zone {zone}")

    def _charge(self, key: str, rate: float, burst: float, who: str) -> None:
        share = self.rate_share
        decision = self.limiter.allow(key, rate * share, max(1.0, burst * share))
        if not decision.allowed:
            raise ReportRefused(
                429,
                f"too many reports from {who}: at most {rate:g}/s (bursts of {burst:g})",
                {"Retry-After": str(max(1, math.ceil(decision.retry_after_s)))},
            )

    def known_zones(self) -> frozenset[str]:
        """Zones of API tokens and zones with a policy (cached for :data:`ZONE_CACHE_S`)."""
        now = time.monotonic()
        if now - self._zones_at < ZONE_CACHE_S:
            return self._zones
        with self._zones_lock:
            if now - self._zones_at >= ZONE_CACHE_S:
                with self.database.session() as session:
                    names = set(session.scalars(select(Zone.name)))
                    names.update(session.scalars(select(CspPolicy.zone)))
                self._zones, self._zones_at = frozenset(names), time.monotonic()
        return self._zones

    def forget_zones(self) -> None:
        """Re-read the known zones on the next report (after a policy creates one)."""
        self._zones_at = -math.inf

    # -- ingest ---------------------------------------------------------------------------

    def ingest(self, zone: str, body: bytes, content_type: str | None) -> IngestOutcome:
        """Parse and record one request's reports (raises ``ReportError`` for bad ones)."""
        parsed = parse_reports(body, content_type, self.limits)
        now = self.clock()
        observations = [o for r in parsed.reports if (o := observe(r, now)) is not None]
        result = self.inventory.ingest(zone, observations)
        return IngestOutcome(
            received=len(parsed.reports) + parsed.skipped,
            skipped=parsed.skipped,
            recorded=len(observations) - result.dropped,
            ignored=len(parsed.reports) - len(observations),
            dropped=result.dropped,
            new_resources=result.new_resources,
            alerts=len(result.alerts),
        )

    # -- fetch and classify ---------------------------------------------------------------

    @property
    def scorer(self) -> ScriptScorer:
        """The classifier, loaded on first use."""
        if self._scorer is None:
            with self._scorer_lock:
                if self._scorer is None:
                    self._scorer = load_scorer()
        return self._scorer

    def process_due(self, limit: int = 10) -> int:
        """Fetch and classify up to ``limit`` due scripts; returns how many were handled."""
        jobs = self.inventory.claim_due(self.clock(), limit)
        for job in jobs:
            try:
                self._process(job)
            except Exception as exc:  # one bad job must not stop the others
                log.exception("script %s: processing failed", job.url)
                self.inventory.record_failure(job, f"{type(exc).__name__}: {exc}", self.clock())
        return len(jobs)

    def _process(self, job: FetchJob) -> None:
        try:
            fetched = self.fetcher.fetch(job.fetch_url, accept="application/javascript, */*;q=0.1")
        except FetchError as exc:
            self.inventory.record_failure(job, f"{exc.code}: {exc}", self.clock())
            return
        if fetched.status != 200:
            self.inventory.record_failure(job, f"http: status {fetched.status}", self.clock())
            return
        content_hash = hashlib.sha256(fetched.body).hexdigest()
        scorer = self.scorer
        known = self.inventory.known_verdict(content_hash, scorer.version)
        if known is not None:
            result = known.result
        else:
            try:
                result = scorer.scan(fetched.body)
            except SourceError as exc:
                self.inventory.record_failure(job, f"not a script: {exc}", self.clock())
                return
        alerts = self.inventory.record_version(
            job, content_hash, len(fetched.body), result, scorer.version, self.clock()
        )
        for alert in alerts:
            log.info("script alert %s for %s in %s", alert.kind, alert.url, alert.zone)
            if self.on_alert is not None:
                self.on_alert(alert)

    async def run_forever(self, interval_s: float) -> None:
        """Work the fetch queue until cancelled: at once while jobs are due, else every
        ``interval_s`` seconds."""
        while True:
            try:
                handled = await asyncio.to_thread(self.process_due)
            except Exception:
                log.exception("script fetch loop failed")
                handled = 0
            if not handled:
                await asyncio.sleep(interval_s)


def build_monitor(app_state: Any) -> ScriptMonitor:
    """The monitor for an app built by :func:`bastion.service.app.create_app`."""
    state = app_state.bastion
    gate = app_state.gate
    monitor = ScriptMonitor(
        state.settings, state.database, gate.limiter, rate_share=gate.rate_share
    )
    monitor.on_alert = script_alert_hook(app_state)
    return monitor
