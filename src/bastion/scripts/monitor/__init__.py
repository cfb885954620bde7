"""The client-side script monitor's pure core: no HTTP server, no database.

* :mod:`~bastion.scripts.monitor.reports`: CSP violation reports in both wire formats ->
  :class:`CspReport`, bounded, with :class:`ReportError` naming what is wrong;
* :mod:`~bastion.scripts.monitor.urls`: inventory URLs (normalized, no query strings);
* :mod:`~bastion.scripts.monitor.inventory`: observations, item counters, statuses;
* :mod:`~bastion.scripts.monitor.alerts`: new script, new domain, code change, malicious;
* :mod:`~bastion.scripts.monitor.policy`: allow policies -> enforcing CSP header;
* :mod:`~bastion.scripts.monitor.header`: the sampled report-only header.

The service (``bastion.service.scripts_api``) and the store
(``bastion.store.scripts_models``) are built on these.
"""

from bastion.scripts.monitor.alerts import ALERT_KINDS, AlertKind, AlertSpec
from bastion.scripts.monitor.header import ReportOnlyHeader, report_endpoint
from bastion.scripts.monitor.inventory import (
    ItemState,
    ItemStatus,
    Observation,
    ResourceKind,
    apply,
    observe,
    status,
)
from bastion.scripts.monitor.policy import AllowPolicy, PolicyError, enforcing_header
from bastion.scripts.monitor.reports import (
    CspReport,
    ParsedReports,
    ReportError,
    ReportLimits,
    parse_reports,
)

__all__ = [
    "ALERT_KINDS",
    "AlertKind",
    "AlertSpec",
    "AllowPolicy",
    "CspReport",
    "ItemState",
    "ItemStatus",
    "Observation",
    "ParsedReports",
    "PolicyError",
    "ReportError",
    "ReportLimits",
    "ReportOnlyHeader",
    "ResourceKind",
    "apply",
    "enforcing_header",
    "observe",
    "parse_reports",
    "report_endpoint",
    "status",
]
