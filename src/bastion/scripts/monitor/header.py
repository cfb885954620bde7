"""The report-only CSP header that makes browsers report every script and connection.

``script-src 'none' 'report-sample'; connect-src 'none'`` in report-only mode blocks
nothing, but the browser reports each script it loads and each connection it opens to the
``report-uri`` (the ``application/csp-report`` format) and to the ``report-to`` group
(the Reporting API, whose endpoint ``Reporting-Endpoints`` names). Both are sent: browsers
that know ``report-to`` use it and ignore ``report-uri``.

Adding the header to every response is not needed to build an inventory and costs the
visitors' bandwidth, so :class:`ReportOnlyHeader` adds it to a configurable sample.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field

REPORT_ONLY_HEADER = "Content-Security-Policy-Report-Only"
REPORTING_ENDPOINTS_HEADER = "Reporting-Endpoints"
_REPORT_ONLY_LOWER = REPORT_ONLY_HEADER.lower()
DEFAULT_GROUP = "bastion-csp"
REPORT_PATH = "/v1/csp/reports/{zone}"

_GROUP_RE = re.compile(r"[A-Za-z0-9_-]{1,64}", re.ASCII)
_ZONE_RE = re.compile(r"[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?", re.ASCII)


class HeaderConfigError(ValueError):
    """An endpoint, group or sample rate that cannot go into the header."""


def report_endpoint(base_url: str, zone: str) -> str:
    """The monitor's report URL for ``zone`` on the bastion service at ``base_url``."""
    if not _ZONE_RE.fullmatch(zone):
        raise HeaderConfigError(f"zone {zone!r} is not a lower-case hostname")
    return base_url.rstrip("/") + REPORT_PATH.format(zone=zone)


def _check_endpoint(endpoint: str) -> str:
    if not endpoint.startswith(("https://", "http://", "/")):
        raise HeaderConfigError("the report endpoint must be an http(s) URL or an absolute path")
    if (
        not endpoint.isascii()
        or not endpoint.isprintable()
        or any(c in endpoint for c in " ;,\"'\\")
    ):
        raise HeaderConfigError(
            "the report endpoint has whitespace, ';', ',', quotes or non-ASCII characters"
        )
    return endpoint


@dataclass(frozen=True)
class ReportOnlyHeader:
    """The report-only headers for one report endpoint, added to ``sample_rate`` of responses.

    >>> h = ReportOnlyHeader("https://bastion.example/v1/csp/reports/shop.example", 1.0)
    >>> dict(h.headers())["Reporting-Endpoints"]
    'bastion-csp="https://bastion.example/v1/csp/reports/shop.example"'
    """

    endpoint: str
    sample_rate: float = 0.1
    group: str = DEFAULT_GROUP
    script_src: str = "'none' 'report-sample'"
    connect_src: str = "'none'"
    #: Returns a float in [0, 1); tests pass their own.
    rng: Callable[[], float] = field(default=random.random, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check_endpoint(self.endpoint)
        if not _GROUP_RE.fullmatch(self.group):
            raise HeaderConfigError("the report-to group must be 1-64 of [A-Za-z0-9_-]")
        if not 0.0 <= self.sample_rate <= 1.0:
            raise HeaderConfigError(f"sample_rate must be in [0, 1], got {self.sample_rate}")
        for name in ("script_src", "connect_src"):
            value = getattr(self, name)
            if not value.isascii() or not value.isprintable() or any(c in value for c in ";,"):
                raise HeaderConfigError(f"{name} must be CSP sources without ';' or ','")

    @property
    def policy(self) -> str:
        """The report-only policy's value."""
        return (
            f"script-src {self.script_src}; connect-src {self.connect_src}; "
            f"report-uri {self.endpoint}; report-to {self.group}"
        )

    def headers(self) -> list[tuple[str, str]]:
        """The two response headers: the report-only policy and ``Reporting-Endpoints``."""
        return [
            (REPORT_ONLY_HEADER, self.policy),
            (REPORTING_ENDPOINTS_HEADER, f'{self.group}="{self.endpoint}"'),
        ]

    def sampled(self) -> bool:
        """Whether this response is in the sample."""
        if self.sample_rate >= 1.0:
            return True
        return self.sample_rate > 0.0 and self.rng() < self.sample_rate

    def headers_for_response(self, existing: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """The headers to add to a response that already has ``existing`` ones: none when it
        is not sampled or already carries a report-only policy (the site's own wins).

        A ``Reporting-Endpoints`` header of the site's own stays: the field is a structured
        dictionary, so a second field line adds this group to it."""
        if any(name.lower() == _REPORT_ONLY_LOWER for name, _ in existing):
            return []
        return self.headers() if self.sampled() else []
