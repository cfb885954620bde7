"""The abuse desk's pure core: reports, URLs, zones, cases, routing, privacy, reputation.

No HTTP server and no database here (the service, ``bastion.store.abuse`` and the CLI use
it). The pieces, in processing order:

* :mod:`~bastion.abuse.reports`: the report model per type (DMCA notice fields for
  copyright) and its validation;
* :mod:`~bastion.abuse.urls`: URL canonicalization (IDNA, percent-encoding, ports, dots);
* :mod:`~bastion.abuse.zones`: longest-suffix zone resolution (``unattributed`` otherwise);
* :mod:`~bastion.abuse.cases`: dedup keys, priority and SLA per type, the case state machine;
* :mod:`~bastion.abuse.routing`: queues and recipients of a new case;
* :mod:`~bastion.abuse.privacy`: what each audience sees of a reporter;
* :mod:`~bastion.abuse.reputation`: reporter reputation and flood detection;
* :mod:`~bastion.abuse.pipeline`: all of it applied to one report;
* :mod:`~bastion.abuse.events`: the stream's event format.
"""

from __future__ import annotations

from bastion.abuse.cases import (
    DEFAULT_WINDOW,
    POLICIES,
    ActionRequest,
    CaseAction,
    CaseKeys,
    CaseState,
    Policy,
    Priority,
    case_keys,
    next_state,
    policy_of,
    sla_due,
)
from bastion.abuse.errors import (
    AbuseError,
    ActionStateError,
    InvalidActionError,
    InvalidReportError,
    InvalidUrlError,
    RecheckRequiredError,
)
from bastion.abuse.events import Event, EventFormatError, report_event
from bastion.abuse.pipeline import CaseEntry, Processed, Processor
from bastion.abuse.privacy import report_view, reporter_view, scrub_contacts
from bastion.abuse.reports import (
    CopyrightNotice,
    Report,
    Reporter,
    ReportSubmission,
    ReportType,
)
from bastion.abuse.reputation import FloodDetector, Reputation
from bastion.abuse.routing import Audience, Queue, Recipient, Routing, route
from bastion.abuse.urls import canonicalize_url, parse_url
from bastion.abuse.zones import UNATTRIBUTED, ZoneDirectory, ZoneInfo

__all__ = [
    "DEFAULT_WINDOW",
    "POLICIES",
    "UNATTRIBUTED",
    "AbuseError",
    "ActionRequest",
    "ActionStateError",
    "Audience",
    "CaseAction",
    "CaseEntry",
    "CaseKeys",
    "CaseState",
    "CopyrightNotice",
    "Event",
    "EventFormatError",
    "FloodDetector",
    "InvalidActionError",
    "InvalidReportError",
    "InvalidUrlError",
    "Policy",
    "Priority",
    "Processed",
    "Processor",
    "Queue",
    "RecheckRequiredError",
    "Recipient",
    "Report",
    "ReportSubmission",
    "ReportType",
    "Reporter",
    "Reputation",
    "Routing",
    "ZoneDirectory",
    "ZoneInfo",
    "canonicalize_url",
    "case_keys",
    "next_state",
    "parse_url",
    "policy_of",
    "report_event",
    "report_view",
    "reporter_view",
    "route",
    "scrub_contacts",
    "sla_due",
]
