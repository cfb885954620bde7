"""An in-memory case sink: the database sink's semantics without a database.

Used by tests of the core and by the benchmark's processing-only mode. Effects are
idempotent by report id: applying a report a second time changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bastion.abuse.cases import DEFAULT_WINDOW, CaseState, Priority
from bastion.abuse.pipeline import CaseEntry, Processed
from bastion.abuse.routing import Queue, Recipient


@dataclass(slots=True)
class MemoryCase:
    id: int
    key: str
    type: str
    url: str
    zone: str
    state: CaseState
    priority: Priority
    queue: Queue
    opened_at: datetime
    last_report_at: datetime
    sla_due: datetime
    report_ids: set[str] = field(default_factory=set)
    reporter_keys: set[str] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class Notice:
    """One queued notice: the outbox key is what makes it unique."""

    key: str
    recipient: Recipient
    case_id: int
    urgent: bool


@dataclass(frozen=True, slots=True)
class ApplyResult:
    """What one batch changed."""

    new_reports: int
    duplicate_reports: int
    new_cases: int
    case_entries: int
    notices: int


def notice_key(recipient: Recipient, entry: CaseEntry, case_key: str) -> str:
    """Urgent: one notice per recipient and case; otherwise the recipient's daily digest."""
    if entry.routing.urgent:
        return f"abuse:notify:{recipient.id}:{case_key}"
    return f"abuse:digest:{recipient.id}:{entry.at.date().isoformat()}"


class MemoryCaseSink:
    """Cases, reports and notices in dicts."""

    def __init__(self, window: timedelta = DEFAULT_WINDOW) -> None:
        self.window = window
        self.cases: dict[str, MemoryCase] = {}
        self.report_ids: set[str] = set()
        self.notices: list[Notice] = []
        self.csam_reports: dict[int, str] = {}
        self._notice_keys: set[tuple[str, int]] = set()

    def _case_for(self, entry: CaseEntry) -> tuple[MemoryCase, bool]:
        previous = self.cases.get(entry.keys.previous)
        if previous is not None and previous.last_report_at >= entry.at - self.window:
            return previous, False
        case = self.cases.get(entry.keys.current)
        if case is not None:
            return case, False
        case = self.cases[entry.keys.current] = MemoryCase(
            id=len(self.cases) + 1,
            key=entry.keys.current,
            type=str(entry.type),
            url=entry.url,
            zone=entry.zone,
            state=CaseState.NEW,
            priority=entry.priority,
            queue=entry.routing.queue,
            opened_at=entry.at,
            last_report_at=entry.at,
            sla_due=entry.sla_due,
        )
        return case, True

    def apply(self, batch: Iterable[Processed]) -> ApplyResult:
        new_reports = duplicates = new_cases = entries = notices = 0
        for processed in batch:
            if processed.report.id in self.report_ids:
                duplicates += 1
                continue
            self.report_ids.add(processed.report.id)
            new_reports += 1
            for entry in processed.entries:
                case, created = self._case_for(entry)
                entries += 1
                case.report_ids.add(entry.report_id)
                case.reporter_keys.add(entry.reporter_key)
                case.last_report_at = max(case.last_report_at, entry.at)
                if not created:
                    continue
                new_cases += 1
                if entry.routing.csam_report:
                    self.csam_reports[case.id] = f"abuse:csam:{case.key}"
                for recipient in entry.routing.recipients:
                    key = (notice_key(recipient, entry, case.key), case.id)
                    if key not in self._notice_keys:
                        self._notice_keys.add(key)
                        self.notices.append(
                            Notice(key[0], recipient, case.id, entry.routing.urgent)
                        )
                        notices += 1
        return ApplyResult(new_reports, duplicates, new_cases, entries, notices)
