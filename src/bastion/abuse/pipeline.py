"""Processing of one report: canonicalize, resolve the zone, key the case, prioritize, route.

:class:`Processor` is pure (no I/O): it turns a :class:`Report` into one
:class:`CaseEntry` per URL. Storing entries (deduplicating into cases, counting reports and
reporters, queueing notices only for a case's first report) is the sink's job:
:class:`bastion.abuse.memory.MemoryCaseSink` in memory, ``bastion.store.abuse`` in a
database.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import islice
from typing import NamedTuple

from bastion.abuse.cases import (
    DEFAULT_WINDOW,
    CaseKeys,
    Priority,
    SlaClocks,
    case_keys,
    policy_of,
    url_digest,
)
from bastion.abuse.errors import InvalidUrlError
from bastion.abuse.reports import Report, ReportType
from bastion.abuse.reputation import UNKNOWN, FloodDetector, Reputation
from bastion.abuse.routing import Routing, route
from bastion.abuse.urls import parse_url, parse_url_reference
from bastion.abuse.zones import UNATTRIBUTED, ZoneDirectory, ZoneInfo


class CaseEntry(NamedTuple):
    """One (report, URL): the case it belongs to and what to do if it opens the case
    (immutable; a named tuple because the consumer makes one per report and URL)."""

    report_id: str
    reporter_key: str
    type: ReportType
    url: str
    host: str
    #: The zone's name, or ``unattributed``.
    zone: str
    keys: CaseKeys
    at: datetime
    priority: Priority
    sla_due: datetime
    routing: Routing


class Processed(NamedTuple):
    """A report and its entries; URLs that could not be canonicalized are in ``errors``."""

    report: Report
    entries: tuple[CaseEntry, ...]
    errors: tuple[str, ...] = ()


#: What the processor keeps per raw URL: canonical URL, host, zone (or ``None``), the
#: zone's name (or :data:`UNATTRIBUTED`), the flood target and the URL's digest.
_UrlInfo = tuple[str, str, ZoneInfo | None, str, str, str]


class Processor:
    """Turns reports into case entries against a zone directory.

    :meth:`process` keeps, per processor, what depends only on a raw URL (its canonical
    form, host, zone and digest; at most ``url_cache`` URLs) and the routing decisions,
    so a URL seen before costs a dictionary probe. :func:`process_reference` is the same
    computation written plainly, step by step; the tests compare the two.
    """

    def __init__(
        self,
        zones: ZoneDirectory,
        *,
        window: timedelta = DEFAULT_WINDOW,
        flood: FloodDetector | None = None,
        url_cache: int = 65_536,
        clocks: SlaClocks | None = None,
    ) -> None:
        self.zones = zones
        self.window = window
        self.flood = flood if flood is not None else FloodDetector()
        #: SLA clocks per type and jurisdiction (``None``: the type's clock).
        self.clocks = clocks
        self.url_cache = max(1, url_cache)
        self._window_s = int(window.total_seconds())
        self._urls: dict[str, _UrlInfo] = {}
        self._routes: dict[tuple[str, str | None, bool, bool], Routing] = {}
        self._reporters: dict[str, str] = {}

    def _url_info(self, raw: str) -> _UrlInfo:
        parsed = parse_url(raw)
        zone = self.zones.resolve(parsed.host)
        info: _UrlInfo = (
            parsed.url,
            parsed.host,
            zone,
            zone.name if zone is not None else UNATTRIBUTED,
            zone.name if zone is not None else f"host:{parsed.host}",
            url_digest(parsed.url),
        )
        cache = self._urls
        if len(cache) >= self.url_cache:
            for old in list(islice(cache, len(cache) // 2 + 1)):  # oldest half first
                del cache[old]
        cache[raw] = info
        return info

    def process(self, report: Report, reputation: Reputation = UNKNOWN) -> Processed:
        """The case entries of ``report`` (``reputation`` is its reporter's record)."""
        if self._window_s <= 0:
            raise ValueError("the dedup window must be positive")
        kind = report.type
        kind_text = str(kind)
        policy = policy_of(kind)
        untrusted = False if reputation is UNKNOWN else reputation.untrusted()
        email = report.reporter.email
        reporter = self._reporters.get(email) if email else None
        if reporter is None:
            reporter = report.reporter_key
            if email:  # an identified reporter's key depends on the email only
                if len(self._reporters) >= self.url_cache:
                    self._reporters.clear()
                self._reporters[email] = reporter
        report_id = report.id
        at = report.received_at
        now = at.timestamp()
        bucket = int(now) // self._window_s
        due = at + policy.sla
        clocks = self.clocks
        priority = policy.priority
        urls, routes, flood = self._urls, self._routes, self.flood
        entries: list[CaseEntry] = []
        errors: list[str] = []
        seen: set[str] = set()
        for raw in report.urls:
            info = urls.get(raw)
            if info is None:
                try:
                    info = self._url_info(raw)
                except InvalidUrlError as exc:
                    errors.append(f"{raw[:200]!r}: {exc}")
                    continue
            url, host, zone, zone_name, target, digest = info
            if url in seen:
                continue
            seen.add(url)
            flooded = flood.observe_at(target, now)
            route_key = (kind_text, None if zone is None else zone_name, untrusted, flooded)
            routing = routes.get(route_key)
            if routing is None:
                routing = routes[route_key] = route(
                    kind, zone, untrusted_reporter=untrusted, flooded=flooded
                )
            entries.append(
                CaseEntry(
                    report_id,
                    reporter,
                    kind,
                    url,
                    host,
                    zone_name,
                    CaseKeys(
                        f"{kind_text}:{digest}:{bucket}", f"{kind_text}:{digest}:{bucket - 1}"
                    ),
                    at,
                    priority,
                    due if clocks is None else at + clocks.sla(kind, zone_name),
                    routing,
                )
            )
        return Processed(report, tuple(entries), tuple(errors))


def process_reference(
    processor: Processor, report: Report, reputation: Reputation = UNKNOWN
) -> Processed:
    """:meth:`Processor.process` without its caches: canonicalize with the full parser,
    resolve the zone, key the case, route (the reference the tests compare it with)."""
    policy = policy_of(report.type)
    untrusted = reputation.untrusted()
    reporter = report.reporter_key
    at = report.received_at
    entries: list[CaseEntry] = []
    errors: list[str] = []
    seen: set[str] = set()
    for raw in report.urls:
        try:
            if not isinstance(raw, str):
                raise InvalidUrlError("a URL must be a string")
            parsed = parse_url_reference(raw)
        except InvalidUrlError as exc:
            errors.append(f"{raw[:200]!r}: {exc}")
            continue
        if parsed.url in seen:
            continue
        seen.add(parsed.url)
        zone = processor.zones.resolve(parsed.host)
        target = zone.name if zone is not None else f"host:{parsed.host}"
        flooded = processor.flood.observe(target, at)
        entries.append(
            CaseEntry(
                report_id=report.id,
                reporter_key=reporter,
                type=report.type,
                url=parsed.url,
                host=parsed.host,
                zone=zone.name if zone is not None else UNATTRIBUTED,
                keys=case_keys(parsed.url, report.type, at, processor.window),
                at=at,
                priority=policy.priority,
                sla_due=at
                + (
                    policy.sla
                    if processor.clocks is None
                    else processor.clocks.sla(report.type, zone.name if zone else UNATTRIBUTED)
                ),
                routing=route(report.type, zone, untrusted_reporter=untrusted, flooded=flooded),
            )
        )
    return Processed(report, tuple(entries), tuple(errors))
