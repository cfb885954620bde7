"""Models of the abuse desk's edge and sharing side: legal orders, partners, secrets,
evidence attachments.

Imported at the bottom of :mod:`bastion.store.models` so ``Base.metadata`` sees them
(migration 0007).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bastion.store.abuse_models import AbuseCaseAction
from bastion.store.models import Base, BigIntId

#: The edge's change check reads the newest enforcement-changing action through this index.
ACTION_ID_INDEX = Index(
    "ix_abuse_case_actions_action_id", AbuseCaseAction.action, AbuseCaseAction.id
)


class AbuseLegalOrder(Base):
    """A legal order (see :mod:`bastion.abuse.orders`); never deleted, only withdrawn."""

    __tablename__ = "abuse_legal_orders"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    authority: Mapped[str] = mapped_column(String(200))
    jurisdiction: Mapped[str] = mapped_column(String(64), index=True)
    reference: Mapped[str] = mapped_column(String(200))
    urls: Mapped[list[str]] = mapped_column(JSON())
    hosts: Mapped[list[str]] = mapped_column(JSON())
    countries: Mapped[list[str]] = mapped_column(JSON())
    valid_from: Mapped[datetime]
    valid_until: Mapped[datetime | None]
    blocked_by: Mapped[str] = mapped_column(String(2048))
    description: Mapped[str] = mapped_column(Text())
    #: ``active`` or ``withdrawn``.
    state: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime] = mapped_column(index=True)
    created_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime]


class AbusePartner(Base):
    """A sharing partner: pulls the indicator feed with its token (stored as SHA-256 like
    API tokens), and its own indicators are imported with its trust level."""

    __tablename__ = "abuse_partners"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: 0 (unknown) .. 100 (fully trusted); imported indicators carry it.
    trust: Mapped[int] = mapped_column(Integer())
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    last_pull_at: Mapped[datetime | None]


class AbuseSecret(Base):
    """Keys the workers share (the interstitial pass key), created once on first use."""

    __tablename__ = "abuse_secrets"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]


class AbuseEvidence(Base):
    """An attachment's bytes, once per content (SHA-256); see ``bastion.abuse.evidence``."""

    __tablename__ = "abuse_evidence"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    media_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer())
    data: Mapped[bytes] = mapped_column(LargeBinary())
    created_at: Mapped[datetime]


class AbuseReportEvidence(Base):
    """An attachment of a report (the report may not be stored yet: no foreign key)."""

    __tablename__ = "abuse_report_evidence"

    report_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    filename: Mapped[str] = mapped_column(String(100))
    added_at: Mapped[datetime]
