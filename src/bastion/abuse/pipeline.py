"""Processing of one report: canonicalize, resolve the zone, key the case, prioritize, route.

:class:`Processor` is pure (no I/O): it turns a :class:`Report` into one
:class:`CaseEntry` per URL. Storing entries (deduplicating into cases, counting reports and
reporters, queueing notices only for a case's first report) is the sink's job:
:class:`bastion.abuse.memory.MemoryCaseSink` in memory, ``bastion.store.abuse`` in a
database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bastion.abuse.cases import DEFAULT_WINDOW, CaseKeys, Priority, case_keys, policy_of
from bastion.abuse.errors import InvalidUrlError
from bastion.abuse.reports import Report, ReportType
from bastion.abuse.reputation import UNKNOWN, FloodDetector, Reputation
from bastion.abuse.routing import Routing, route
from bastion.abuse.urls import parse_url
from bastion.abuse.zones import UNATTRIBUTED, ZoneDirectory


@dataclass(frozen=True, slots=True)
class CaseEntry:
    """One (report, URL): the case it belongs to and what to do if it opens the case."""

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


@dataclass(frozen=True, slots=True)
class Processed:
    """A report and its entries; URLs that could not be canonicalized are in ``errors``."""

    report: Report
    entries: tuple[CaseEntry, ...]
    errors: tuple[str, ...] = ()


class Processor:
    """Turns reports into case entries against a zone directory."""

    def __init__(
        self,
        zones: ZoneDirectory,
        *,
        window: timedelta = DEFAULT_WINDOW,
        flood: FloodDetector | None = None,
    ) -> None:
        self.zones = zones
        self.window = window
        self.flood = flood if flood is not None else FloodDetector()

    def process(self, report: Report, reputation: Reputation = UNKNOWN) -> Processed:
        """The case entries of ``report`` (``reputation`` is its reporter's record)."""
        policy = policy_of(report.type)
        untrusted = reputation.untrusted()
        reporter = report.reporter_key
        at = report.received_at
        entries: list[CaseEntry] = []
        errors: list[str] = []
        seen: set[str] = set()
        for raw in report.urls:
            try:
                parsed = parse_url(raw)
            except InvalidUrlError as exc:
                errors.append(f"{raw[:200]!r}: {exc}")
                continue
            if parsed.url in seen:
                continue
            seen.add(parsed.url)
            zone = self.zones.resolve(parsed.host)
            target = zone.name if zone is not None else f"host:{parsed.host}"
            flooded = self.flood.observe(target, at)
            entries.append(
                CaseEntry(
                    report_id=report.id,
                    reporter_key=reporter,
                    type=report.type,
                    url=parsed.url,
                    host=parsed.host,
                    zone=zone.name if zone is not None else UNATTRIBUTED,
                    keys=case_keys(parsed.url, report.type, at, self.window),
                    at=at,
                    priority=policy.priority,
                    sla_due=at + policy.sla,
                    routing=route(report.type, zone, untrusted_reporter=untrusted, flooded=flooded),
                )
            )
        return Processed(report, tuple(entries), tuple(errors))
