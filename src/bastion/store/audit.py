"""The audit log: one row per administrative action, written in the action's transaction."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from bastion.store.models import AuditEntry


def record_audit(
    session: Session,
    *,
    actor: str,
    action: str,
    target: str,
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Add an audit row to ``session``; it commits (or rolls back) with the action itself.

    ``detail`` must be JSON-serialisable and must never hold secrets.
    """
    entry = AuditEntry(
        at=at if at is not None else datetime.now(UTC),
        actor=actor,
        action=action,
        target=target,
        detail=dict(detail or {}),
    )
    session.add(entry)
    return entry
