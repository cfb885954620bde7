"""Models of the abuse desk: reports, cases, their links, actions, reporters, zone contacts.

Imported at the bottom of :mod:`bastion.store.models` so ``Base.metadata`` sees them.
Notices and CSAM reports are rows of the shared ``outbox`` table
(:class:`~bastion.store.content_models.OutboxMessage`), never a table of their own.

Idempotency rests on unique keys: a report's id is its event's id (primary key), a case's
``key`` is unique, and ``(case_id, report_id)`` is the primary key of the link; outbox rows
have unique keys too. Processing an event twice therefore writes nothing the second time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bastion.store.models import Base, BigIntId


class AbuseReport(Base):
    """One accepted report, as submitted (the reporter's contact details included: only
    staff views show them; see ``bastion.abuse.privacy``)."""

    __tablename__ = "abuse_reports"

    #: The report's (and its event's) id.
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    type: Mapped[str] = mapped_column(String(32), index=True)
    received_at: Mapped[datetime] = mapped_column(index=True)
    processed_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(80))
    reporter_key: Mapped[str] = mapped_column(String(32), index=True)
    reporter_name: Mapped[str] = mapped_column(String(200))
    reporter_email: Mapped[str] = mapped_column(String(200))
    reporter_org: Mapped[str] = mapped_column(String(200))
    consent: Mapped[bool] = mapped_column(Boolean())
    description: Mapped[str] = mapped_column(Text())
    urls: Mapped[list[str]] = mapped_column(JSON())
    #: ``{"copyright": {...} | None, "trademark": str, "errors": [...]}``.
    details: Mapped[dict[str, Any]]


class AbuseCase(Base):
    """Reports of one type about one canonical URL within the dedup window."""

    __tablename__ = "abuse_cases"
    __table_args__ = (Index("ix_abuse_cases_work", "state", "priority", "sla_due_at"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(128), unique=True)
    type: Mapped[str] = mapped_column(String(32), index=True)
    url: Mapped[str] = mapped_column(String(2048))
    host: Mapped[str] = mapped_column(String(253))
    zone: Mapped[str] = mapped_column(String(253), index=True)
    state: Mapped[str] = mapped_column(String(16))
    queue: Mapped[str] = mapped_column(String(16), index=True)
    priority: Mapped[int] = mapped_column(Integer())
    sla_due_at: Mapped[datetime]
    report_count: Mapped[int] = mapped_column(Integer())
    reporter_count: Mapped[int] = mapped_column(Integer())
    opened_at: Mapped[datetime]
    last_report_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    assignee: Mapped[str | None] = mapped_column(String(64))
    #: The edge action in force: ``{"action": "block" | ..., "countries": [...]}``.
    enforcement: Mapped[dict[str, Any] | None] = mapped_column(JSON())
    #: Why notices were held back (``untrusted_reporter``, ``flood``).
    held: Mapped[list[str]] = mapped_column(JSON())


class AbuseCaseReport(Base):
    """A report counted in a case (once: the pair is the primary key)."""

    __tablename__ = "abuse_case_reports"
    __table_args__ = (Index("ix_abuse_case_reports_reporters", "case_id", "reporter_key"),)

    case_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("abuse_cases.id", ondelete="CASCADE"), primary_key=True
    )
    report_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("abuse_reports.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    reporter_key: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime]


class AbuseCaseAction(Base):
    """The case's own history: opened by the pipeline, then every staff action."""

    __tablename__ = "abuse_case_actions"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("abuse_cases.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime]
    #: A token id, ``cli``, or ``pipeline``.
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text())
    detail: Mapped[dict[str, Any]]


class AbuseReporter(Base):
    """A reporter's track record, by pseudonymous key (``sha256`` of the email)."""

    __tablename__ = "abuse_reporters"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    reports: Mapped[int] = mapped_column(Integer())
    actioned: Mapped[int] = mapped_column(Integer())
    rejected: Mapped[int] = mapped_column(Integer())
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]


class AbuseZoneContact(Base):
    """Who hears about abuse on a zone: the owner's and the hosting provider's contacts."""

    __tablename__ = "abuse_zone_contacts"

    zone_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("zones.id", ondelete="CASCADE"), primary_key=True
    )
    owner_contact: Mapped[str | None] = mapped_column(String(320))
    host: Mapped[str | None] = mapped_column(String(200))
    host_contact: Mapped[str | None] = mapped_column(String(320))
    updated_at: Mapped[datetime]
