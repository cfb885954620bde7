"""Routing: where a new case goes and who is told about it.

=====================  ===========================================================
type                   route
=====================  ===========================================================
``csam``               the CSAM report adapter (the content scanner's ``report``
                       outbox rows), and the host and owner at once
``phishing``,          the analyst queue, and the host and owner at once
``malware``
``violent_extremism``  the analyst queue, and the host and owner at once
``copyright``          forwarded to the host and owner without action (daily digest)
others                 the triage queue; host and owner in the daily digest
=====================  ===========================================================

A URL of no registered zone goes to the ``unattributed`` queue: there is nobody to tell
(a CSAM report is still filed). Notices are *held* (queue ``review``, nobody told until an
analyst sends them with the ``notify`` action) when the reporter is untrusted or the target
is flooded, so the desk cannot be used to bombard a site.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from bastion.abuse.cases import policy_of
from bastion.abuse.reports import ReportType
from bastion.abuse.zones import ZoneInfo


class Queue(StrEnum):
    ANALYST = "analyst"
    TRIAGE = "triage"
    UNATTRIBUTED = "unattributed"
    REVIEW = "review"
    FORWARDED = "forwarded"


class Audience(StrEnum):
    """Who reads a case or a notice; decides how much of the reporter it shows."""

    STAFF = "staff"
    OWNER = "owner"
    HOST = "host"


@dataclass(frozen=True, slots=True)
class Recipient:
    """Someone to notify: the site owner of a zone or a hosting provider."""

    audience: Audience
    #: ``owner:<zone>`` or ``host:<host name>``; also the outbox's dedup scope.
    id: str
    contact: str | None


@dataclass(frozen=True, slots=True)
class Routing:
    """The decision for one new case."""

    queue: Queue
    recipients: tuple[Recipient, ...]
    #: Notify at once (otherwise: the recipient's daily digest).
    urgent: bool
    #: File a CSAM report through the report adapter.
    csam_report: bool
    #: Notices held for review, and why (``untrusted_reporter``, ``flood``).
    held: tuple[str, ...] = ()


_ANALYST_TYPES = frozenset({ReportType.PHISHING, ReportType.MALWARE, ReportType.VIOLENT_EXTREMISM})


def recipients_of(zone: ZoneInfo | None) -> tuple[Recipient, ...]:
    """The owner and the host of ``zone`` (those with a known contact or name)."""
    if zone is None:
        return ()
    out = [Recipient(Audience.OWNER, f"owner:{zone.name}", zone.owner_contact)]
    if zone.host:
        out.append(Recipient(Audience.HOST, f"host:{zone.host}", zone.host_contact))
    return tuple(out)


@lru_cache(maxsize=4096)
def route(
    report_type: ReportType,
    zone: ZoneInfo | None,
    *,
    untrusted_reporter: bool = False,
    flooded: bool = False,
) -> Routing:
    """Where a new case of ``report_type`` about a URL of ``zone`` goes (cached: a pure
    function of its arguments, and zones are immutable)."""
    urgent = policy_of(report_type).urgent
    csam = report_type is ReportType.CSAM
    held = tuple(
        reason
        for reason, on in (("untrusted_reporter", untrusted_reporter), ("flood", flooded))
        if on
    )
    if zone is None:
        return Routing(Queue.UNATTRIBUTED, (), urgent, csam, held)
    recipients = recipients_of(zone)
    if csam:
        # CSAM is never held back: the report and the host's removal come first.
        return Routing(Queue.ANALYST, recipients, True, True, ())
    if held:
        return Routing(Queue.REVIEW, (), urgent, False, held)
    if report_type in _ANALYST_TYPES:
        queue = Queue.ANALYST
    elif report_type is ReportType.COPYRIGHT:
        queue = Queue.FORWARDED
    else:
        queue = Queue.TRIAGE
    return Routing(queue, recipients, urgent, False, ())
