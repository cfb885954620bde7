"""Models of content scanning: blocks, their appeals, evidence, and the delivery outbox.

Imported at the bottom of :mod:`bastion.store.models` so ``Base.metadata`` (and so Alembic
and the migration test) sees them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bastion.store.models import Base, BigIntId

#: States of a block; the edge answers 451 in every state but ``resolved``.
BLOCK_STATES = ("active", "pending", "in_review", "resolved")
#: Kinds of outbox rows.
OUTBOX_KINDS = ("notification", "report")


class ContentBlock(Base):
    """A URL of a zone that served matching content: one row per (zone, URL path)."""

    __tablename__ = "content_blocks"
    __table_args__ = (UniqueConstraint("zone", "url", name="uq_content_blocks_zone_url"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    zone: Mapped[str] = mapped_column(String(253))
    #: The URL's path (the edge check matches Host + path).
    url: Mapped[str] = mapped_column(String(2048))
    sha256: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), index=True)
    bank: Mapped[str] = mapped_column(String(64))
    distance: Mapped[int] = mapped_column(Integer())
    #: ``[{"bank", "hash", "indicator_id", "descriptor_id"}, ...]`` of the matched entries.
    entry_ids: Mapped[list[dict[str, Any]]] = mapped_column(JSON())
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime] = mapped_column(index=True)


class ContentAppeal(Base):
    """A site owner's request for review of a block, and trust & safety's decision."""

    __tablename__ = "content_appeals"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    block_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("content_blocks.id", ondelete="CASCADE"), index=True
    )
    statement: Mapped[str] = mapped_column(Text())
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime]
    reviewer: Mapped[str | None] = mapped_column(String(64))
    review_started_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(64))
    #: ``resolved`` (block lifted) or ``active`` (upheld).
    decision: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text())
    decided_at: Mapped[datetime | None]


class ContentEvidence(Base):
    """What was seen: hashes, URL, matches and times (never the image bytes)."""

    __tablename__ = "content_evidence"
    __table_args__ = (
        UniqueConstraint("block_id", "sha256", name="uq_content_evidence_block_id_sha256"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    block_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("content_blocks.id", ondelete="CASCADE")
    )
    zone: Mapped[str] = mapped_column(String(253))
    url: Mapped[str] = mapped_column(String(2048))
    sha256: Mapped[str] = mapped_column(String(64))
    md5: Mapped[str | None] = mapped_column(String(32))
    pdq: Mapped[str | None] = mapped_column(String(64))
    quality: Mapped[int | None] = mapped_column(Integer())
    matches: Mapped[list[dict[str, Any]]] = mapped_column(JSON())
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]


class OutboxMessage(Base):
    """A message to deliver at least once (receivers deduplicate on ``key``).

    ``key`` is unique: one ``notification`` per zone per UTC day
    (``notification:<zone>:<day>``), one ``report`` per evidence row.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "delivered_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(512), unique=True)
    zone: Mapped[str | None] = mapped_column(String(253))
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer())
    next_attempt_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text())
