"""Cases: the dedup key, priority and SLA per type, and the state machine of actions.

Deduplication: reports of the same type about the same canonical URL within a window
belong to one case. The window is cut into fixed buckets of ``window`` seconds counted
from the epoch, and a case's key is ``<type>:<sha256(url)[:40]>:<bucket>``: the same
inputs always give the same key (so a replayed event finds its case again) and the key
can be unique in a database, so two consumers never open two cases for one key. A report
that falls just after a bucket boundary joins the previous bucket's case when that case
last saw a report within ``window`` (:func:`case_keys` returns both keys).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import IntEnum, StrEnum
from functools import lru_cache
from typing import NamedTuple, cast

from bastion.abuse.errors import ActionStateError, InvalidActionError
from bastion.abuse.reports import ReportType

DEFAULT_WINDOW = timedelta(hours=72)


class CaseKeys(NamedTuple):
    """The key of the bucket a report falls in, and of the bucket before it."""

    current: str
    previous: str


def case_keys(url: str, report_type: ReportType | str, at: datetime, window: timedelta) -> CaseKeys:
    """Dedup keys for a canonical ``url`` and a type at time ``at`` (timezone-aware)."""
    seconds = int(window.total_seconds())
    if seconds <= 0:
        raise ValueError("the dedup window must be positive")
    bucket = int(at.timestamp()) // seconds
    digest = url_digest(url)
    kind = str(report_type)
    return CaseKeys(f"{kind}:{digest}:{bucket}", f"{kind}:{digest}:{bucket - 1}")


@lru_cache(maxsize=65_536)
def url_digest(url: str) -> str:
    """The first 40 hex digits of the URL's SHA-256 (the URL part of a case key)."""
    return hashlib.sha256(url.encode()).hexdigest()[:40]


class Priority(IntEnum):
    """Lower is more urgent; cases are worked in this order."""

    P0 = 0
    P1 = 1
    P2 = 2
    P3 = 3


@dataclass(frozen=True, slots=True)
class Policy:
    """How a type is handled: priority, time to first action, urgency of notices."""

    priority: Priority
    sla: timedelta
    #: Urgent types notify at once; the others go into one daily digest per recipient.
    urgent: bool


#: CSAM first; then content that harms people now (extremism, credential theft, malware).
POLICIES: dict[ReportType, Policy] = {
    ReportType.CSAM: Policy(Priority.P0, timedelta(hours=1), True),
    ReportType.VIOLENT_EXTREMISM: Policy(Priority.P1, timedelta(hours=1), True),
    ReportType.PHISHING: Policy(Priority.P1, timedelta(hours=4), True),
    ReportType.MALWARE: Policy(Priority.P1, timedelta(hours=4), True),
    ReportType.HARASSMENT: Policy(Priority.P2, timedelta(hours=24), False),
    ReportType.COPYRIGHT: Policy(Priority.P2, timedelta(hours=24), False),
    ReportType.TRADEMARK: Policy(Priority.P3, timedelta(hours=72), False),
    ReportType.SPAM: Policy(Priority.P3, timedelta(hours=72), False),
    ReportType.OTHER: Policy(Priority.P3, timedelta(hours=72), False),
}


def policy_of(report_type: ReportType | str) -> Policy:
    """The type's policy (a plain string works: ``ReportType`` members hash as strings)."""
    policy = POLICIES.get(cast(ReportType, report_type))
    return policy if policy is not None else POLICIES[ReportType(report_type)]


def sla_due(report_type: ReportType | str, opened_at: datetime) -> datetime:
    """When the case must have had its first action."""
    return opened_at + policy_of(report_type).sla


_T = ReportType
#: Clocks the law of a jurisdiction sets for a type; a case's clock is the shorter of this
#: and its type's own (:data:`POLICIES`), so a law can only make a clock stricter. Sources:
#: the EU's Terrorist Content Online Regulation ((EU) 2021/784, art. 3(3): one hour; the
#: Digital Services Act, art. 16, asks for notices to be handled "in a timely manner", no
#: fixed hours, so the types' clocks); Germany's NetzDG (section 3(2) no. 2: manifestly
#: unlawful content removed within 24 hours of the complaint: harassment and other content
#: must be judged within 24 hours); India's IT Rules 2021 (rule 3(2)(b): intimate images of
#: a person within 24 hours). Operators add or change entries with ``abuse_sla_hours``.
JURISDICTION_SLA: dict[str, dict[ReportType, timedelta]] = {
    "EU": {_T.CSAM: timedelta(hours=1), _T.VIOLENT_EXTREMISM: timedelta(hours=1)},
    "DE": {
        _T.CSAM: timedelta(hours=1),
        _T.VIOLENT_EXTREMISM: timedelta(hours=1),
        _T.HARASSMENT: timedelta(hours=24),
        _T.OTHER: timedelta(hours=24),
    },
    "IN": {_T.HARASSMENT: timedelta(hours=24)},
}


class SlaClocks:
    """The SLA clock of a case by type and jurisdiction.

    A case's jurisdiction is its zone's (``zones``: zone name -> jurisdiction code), else
    ``default``; its clock is the shorter of its type's (:data:`POLICIES`) and the
    jurisdiction's (:data:`JURISDICTION_SLA`, with ``hours`` replacing or adding entries:
    ``{"EU:harassment": 12, "*:spam": 48}``, ``*`` for every jurisdiction). Raises
    ``ValueError`` for an entry that names no type."""

    def __init__(
        self,
        default: str = "",
        *,
        zones: Mapping[str, str] | None = None,
        hours: Mapping[str, float] | None = None,
    ) -> None:
        self.default = default.strip().upper()
        self.zones = {k.strip().lower().rstrip("."): v.strip().upper() for k, v in
                      (zones or {}).items()}  # fmt: skip
        self.table = {j: dict(clocks) for j, clocks in JURISDICTION_SLA.items()}
        for key, value in (hours or {}).items():
            where, sep, kind = key.partition(":")
            if not sep or kind not in _TYPE_VALUES or value <= 0:
                raise ValueError(
                    f"abuse_sla_hours: {key!r}: {value!r} is not '<JURISDICTION or *>:<type>': "
                    "<hours > 0>"
                )
            self.table.setdefault(where.strip().upper(), {})[ReportType(kind)] = timedelta(
                hours=value
            )
        self._cache: dict[tuple[str, str], timedelta] = {}

    def jurisdiction(self, zone: str) -> str:
        """The jurisdiction of a case of ``zone`` (``""``: none)."""
        return self.zones.get(zone, self.default)

    def sla(self, report_type: ReportType | str, zone: str) -> timedelta:
        """The clock of a new case of ``report_type`` in ``zone``."""
        key = (str(report_type), zone)
        clock = self._cache.get(key)
        if clock is None:
            kind = ReportType(report_type)
            clock = policy_of(kind).sla
            for where in ("*", self.jurisdiction(zone)):
                law = self.table.get(where, {}).get(kind)
                if law is not None:
                    clock = min(clock, law)
            self._cache[key] = clock
        return clock


_TYPE_VALUES = frozenset(t.value for t in ReportType)


class CaseState(StrEnum):
    NEW = "new"
    TRIAGED = "triaged"
    ACTIONED = "actioned"
    REJECTED = "rejected"
    CLOSED = "closed"


class CaseAction(StrEnum):
    """What staff do to a case (``interstitial``, ``block`` and ``geo_block`` act at the
    edge; ``notify`` re-sends the notices; ``reject`` needs a reason)."""

    TRIAGE = "triage"
    ASSIGN = "assign"
    NOTIFY = "notify"
    INTERSTITIAL = "interstitial"
    BLOCK = "block"
    GEO_BLOCK = "geo_block"
    ESCALATE = "escalate"
    REJECT = "reject"
    CLOSE = "close"


S, A = CaseState, CaseAction
_OPEN = frozenset({S.NEW, S.TRIAGED, S.ACTIONED})
#: action -> (states it applies to, the state it leads to; None keeps the state but
#: moves ``new`` to ``triaged``).
_TRANSITIONS: dict[CaseAction, tuple[frozenset[CaseState], CaseState | None]] = {
    A.TRIAGE: (frozenset({S.NEW}), S.TRIAGED),
    A.ASSIGN: (_OPEN, None),
    A.NOTIFY: (_OPEN, None),
    A.INTERSTITIAL: (_OPEN, S.ACTIONED),
    A.BLOCK: (_OPEN, S.ACTIONED),
    A.GEO_BLOCK: (_OPEN, S.ACTIONED),
    A.ESCALATE: (frozenset({S.NEW, S.TRIAGED}), S.TRIAGED),
    A.REJECT: (frozenset({S.NEW, S.TRIAGED}), S.REJECTED),
    A.CLOSE: (frozenset({S.TRIAGED, S.ACTIONED, S.REJECTED}), S.CLOSED),
}
#: Actions that are enforcement (they count as "actioned" for reporter reputation).
ENFORCEMENT = frozenset({A.INTERSTITIAL, A.BLOCK, A.GEO_BLOCK})


#: A ``close`` needs the case's latest re-check to have found the URL gone within this
#: time (or an override); a rejected case closes without one (nothing was found abusive).
RECHECK_VALID = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class ActionRequest:
    """An action with what it needs: a reason (reject, and a close override), an assignee,
    countries (geo_block). ``override`` closes a case without a re-check that found the
    URL gone (the API allows it to the ``admin`` role only; audited)."""

    action: CaseAction
    reason: str = ""
    assignee: str | None = None
    countries: tuple[str, ...] = ()
    override: bool = False


def next_state(state: CaseState | str, request: ActionRequest) -> CaseState:
    """The state after ``request``; raises :class:`InvalidActionError` saying why not."""
    current = CaseState(state)
    allowed, target = _TRANSITIONS[request.action]
    if current not in allowed:
        names = ", ".join(sorted(s.value for s in allowed))
        raise ActionStateError(
            f"cannot {request.action.value} a case that is '{current.value}' (only when {names})"
        )
    if request.action is A.REJECT and not request.reason.strip():
        raise InvalidActionError("reject needs a reason")
    if request.override and request.action is not A.CLOSE:
        raise InvalidActionError("only close takes an override (of its re-check)")
    if request.override and not request.reason.strip():
        raise InvalidActionError("closing without a re-check (override) needs a reason")
    if request.action is A.ASSIGN and not (request.assignee or "").strip():
        raise InvalidActionError("assign needs an assignee")
    if request.action is A.GEO_BLOCK:
        bad = [c for c in request.countries if len(c) != 2 or not c.isalpha() or not c.isascii()]
        if not request.countries or bad:
            raise InvalidActionError(
                "geo_block needs countries as ISO 3166-1 alpha-2 codes (e.g. DE, FR)"
                + (f"; invalid: {', '.join(bad)}" if bad else "")
            )
    if target is None:
        return S.TRIAGED if current is S.NEW else current
    return target


def escalated(priority: Priority | int) -> Priority:
    """One step more urgent (P0 stays P0)."""
    return Priority(max(0, int(priority) - 1))
