"""The model of WAF rule sets kept in the database (migration 0005).

Imported at the bottom of :mod:`bastion.store.models` so ``Base.metadata`` sees it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bastion.store.models import Base, BigIntId


class RuleSetRow(Base):
    """One published rule set; ``version`` grows with every publication, newest is live."""

    __tablename__ = "rule_sets"

    version: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime]
    #: A token id, or ``"cli"``.
    created_by: Mapped[str] = mapped_column(String(64))
    comment: Mapped[str] = mapped_column(Text())
    #: ``[{"id", "expression", "action", "description"}, ...]`` in evaluation order.
    rules: Mapped[list[dict[str, Any]]] = mapped_column(JSON())
