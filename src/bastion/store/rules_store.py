"""WAF rule sets kept in the database: publish a new version, read the live one.

The newest row of ``rule_sets`` is live; workers poll :meth:`RuleStore.version` (a primary
key lookup) and reload when it changes. With no row the config file's rules apply.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from bastion.store.audit import record_audit
from bastion.store.db import Database
from bastion.store.rules_models import RuleSetRow


@dataclass(frozen=True, slots=True)
class StoredRuleSet:
    """One published rule set."""

    version: int
    created_at: datetime
    created_by: str
    comment: str
    rules: list[dict[str, Any]]


def _stored(row: RuleSetRow) -> StoredRuleSet:
    return StoredRuleSet(row.version, row.created_at, row.created_by, row.comment, row.rules)


class RuleStore:
    """Rule sets in the ``rule_sets`` table."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def version(self) -> int:
        """The live version (0 when the database holds no rule set)."""
        with self.database.session() as session:
            return int(session.scalar(select(func.max(RuleSetRow.version))) or 0)

    def current(self) -> StoredRuleSet | None:
        """The live rule set, or ``None``."""
        with self.database.session() as session:
            row = session.scalars(
                select(RuleSetRow).order_by(RuleSetRow.version.desc()).limit(1)
            ).first()
            return _stored(row) if row is not None else None

    def history(self, limit: int = 50) -> list[StoredRuleSet]:
        """Published rule sets, newest first."""
        with self.database.session() as session:
            rows = session.scalars(
                select(RuleSetRow).order_by(RuleSetRow.version.desc()).limit(limit)
            ).all()
            return [_stored(r) for r in rows]

    def publish(self, rules: list[dict[str, Any]], *, actor: str, comment: str = "") -> int:
        """Store ``rules`` (already validated) as the new live version, audited."""
        with self.database.session(write=True) as session:
            row = RuleSetRow(
                created_at=datetime.now(UTC), created_by=actor, comment=comment, rules=rules
            )
            session.add(row)
            session.flush()
            record_audit(
                session,
                actor=actor,
                action="rules.publish",
                target=f"rules:v{row.version}",
                detail={"version": row.version, "rules": len(rules), "comment": comment},
            )
            return int(row.version)
