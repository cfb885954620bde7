"""SQL helpers shared by the abuse desk's storage modules (parameterized statements only)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bastion.abuse.routing import Recipient
from bastion.store.abuse_models import (
    AbuseCase,
    AbuseCaseAction,
    AbuseCaseReport,
    AbuseReport,
    AbuseReporter,
)
from bastion.store.content_models import OutboxMessage

#: Outbox kind of notices to site owners and hosts (delivered to ``content_notify_url``).
NOTICE_KIND = "abuse_notice"
#: Outbox kind of CSAM reports: the content scanner's report adapter.
CSAM_KIND = "report"
CHUNK = 500

REPORTS = cast(Table, AbuseReport.__table__)
CASES = cast(Table, AbuseCase.__table__)
LINKS = cast(Table, AbuseCaseReport.__table__)
ACTIONS = cast(Table, AbuseCaseAction.__table__)
REPORTERS = cast(Table, AbuseReporter.__table__)
OUTBOX = cast(Table, OutboxMessage.__table__)


def now_utc() -> datetime:
    return datetime.now(UTC)


def insert(session: Session, table: Table) -> Any:
    """The dialect's INSERT (for ``ON CONFLICT``)."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def notice_row(
    key: str,
    recipient: Recipient,
    zone: str | None,
    body: dict[str, Any],
    now: datetime,
    due: datetime,
) -> dict[str, Any]:
    return {
        "kind": NOTICE_KIND,
        "key": key,
        "zone": zone,
        "payload": {
            "recipient": recipient.id,
            "audience": recipient.audience.value,
            "contact": recipient.contact,
            **body,
        },
        "created_at": now,
        "attempts": 0,
        "next_attempt_at": due,
        "delivered_at": None,
        "last_error": None,
    }
