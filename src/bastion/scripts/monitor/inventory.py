"""The per-zone inventory's rules: what a report adds, and each item's status.

An item is a script or a connection of one zone, keyed by its normalized URL (see
:mod:`~bastion.scripts.monitor.urls`). It keeps the first and last time it was reported,
the number of reports, and the :data:`RECENT_PAGES` most recent page URLs it was seen on.
Its status is

* ``inactive`` when no report named it for :data:`INACTIVE_AFTER` (7 days);
* else ``infrequent`` while it has fewer than :data:`ACTIVE_MIN_REPORTS` (3) reports;
* else ``active``.

Versions of a script are kept by content hash (SHA-256 of the fetched body), each with the
normalized-AST hash and the classifier's verdict.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal

from bastion.scripts.monitor.reports import CspReport
from bastion.scripts.monitor.urls import MAX_URL_CHARS, normalize_url, page_url

ResourceKind = Literal["script", "connection"]
ItemStatus = Literal["infrequent", "active", "inactive"]
STATUSES: tuple[ItemStatus, ...] = ("infrequent", "active", "inactive")

RECENT_PAGES = 10
ACTIVE_MIN_REPORTS = 3
INACTIVE_AFTER = timedelta(days=7)

#: Directives whose violations name a script, and those naming a connection.
SCRIPT_DIRECTIVES = frozenset(
    {"script-src", "script-src-elem", "script-src-attr", "worker-src", "child-src"}
)
CONNECTION_DIRECTIVES = frozenset({"connect-src"})


@dataclass(frozen=True, slots=True)
class Observation:
    """What one report says about one zone's inventory."""

    kind: ResourceKind
    url: str
    host: str
    page_url: str | None
    seen_at: datetime
    #: Scripts: the URL to fetch (as reported, query string kept, fragment dropped).
    fetch_url: str | None = None


def resource_kind(directive: str) -> ResourceKind | None:
    """``script``, ``connection`` or ``None`` (a directive the inventory ignores)."""
    if directive in SCRIPT_DIRECTIVES:
        return "script"
    if directive in CONNECTION_DIRECTIVES:
        return "connection"
    return None


def observe(report: CspReport, seen_at: datetime) -> Observation | None:
    """The inventory observation in ``report``, or ``None`` when it names no URL of a script
    or connection (inline code, ``eval``, images, styles, ``data:`` URLs...)."""
    kind = resource_kind(report.effective_directive)
    if kind is None:
        return None
    resource = normalize_url(report.blocked_url)
    if resource is None:
        return None
    fetch_url = None
    if kind == "script":
        if resource.scheme not in ("http", "https"):
            return None
        raw = report.blocked_url.strip().split("#", 1)[0]
        fetch_url = raw if len(raw) <= MAX_URL_CHARS and raw.isascii() else resource.url
    page = page_url(report.document_url)
    return Observation(kind, resource.url, resource.host, page, seen_at, fetch_url)


@dataclass(frozen=True, slots=True)
class ItemState:
    """An inventory item's counters, as the store keeps them."""

    kind: ResourceKind
    url: str
    host: str
    first_seen: datetime
    last_seen: datetime
    report_count: int = 0
    #: Most recent first, no duplicates, at most :data:`RECENT_PAGES`.
    pages: tuple[str, ...] = field(default=())


def recent_pages(
    pages: Sequence[str], page: str | None, limit: int = RECENT_PAGES
) -> tuple[str, ...]:
    """``pages`` with ``page`` moved (or added) to the front, cut to ``limit``."""
    if page is None:
        return tuple(pages[:limit])
    return (page, *[p for p in pages if p != page])[:limit]


def apply(state: ItemState | None, obs: Observation) -> ItemState:
    """The item after ``obs`` (a new item when ``state`` is ``None``).

    Reports can arrive out of order: ``first_seen`` only moves back, ``last_seen`` only
    forward, and an older report's page is not moved to the front.
    """
    if state is None:
        return ItemState(
            obs.kind, obs.url, obs.host, obs.seen_at, obs.seen_at, 1, recent_pages((), obs.page_url)
        )
    newer = obs.seen_at >= state.last_seen
    pages = recent_pages(state.pages, obs.page_url) if newer else state.pages
    if not newer and obs.page_url is not None and obs.page_url not in pages:
        pages = (*pages, obs.page_url)[:RECENT_PAGES]
    return replace(
        state,
        first_seen=min(state.first_seen, obs.seen_at),
        last_seen=max(state.last_seen, obs.seen_at),
        report_count=state.report_count + 1,
        pages=pages,
    )


def status(report_count: int, last_seen: datetime, now: datetime) -> ItemStatus:
    """``inactive`` after 7 days without a report, else ``infrequent`` below 3 reports,
    else ``active``."""
    if now - last_seen >= INACTIVE_AFTER:
        return "inactive"
    if report_count < ACTIVE_MIN_REPORTS:
        return "infrequent"
    return "active"


def status_bounds(
    wanted: ItemStatus, now: datetime
) -> tuple[datetime | None, datetime | None, bool | None]:
    """How to select items of status ``wanted`` in a store: ``(last_seen_after,
    last_seen_at_or_before, frequent)``; ``frequent`` is whether report_count >= 3, or
    ``None`` when it does not matter."""
    cutoff = now - INACTIVE_AFTER
    if wanted == "inactive":
        return None, cutoff, None
    return cutoff, None, wanted == "active"
