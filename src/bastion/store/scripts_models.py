"""Models of the client-side script monitor: inventory, versions, pages, hosts, alerts,
allow policies.

Imported at the bottom of :mod:`bastion.store.models` so ``Base.metadata`` (and so Alembic
and the migration test) sees them. Alerts reach site owners through the shared ``outbox``
table (:class:`~bastion.store.content_models.OutboxMessage`), written in the same
transaction as the alert row.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bastion.store.models import Base, BigIntId

#: ``fetch_state`` values of a script: waiting, leased by a worker, done, failed (retried).
FETCH_STATES = ("pending", "fetching", "fetched", "failed")


class CspResource(Base):
    """A script or connection one zone's pages load: one row per (zone, kind, URL).

    ``url`` is normalized without query string or fragment; ``url_hash`` (SHA-256 of
    ``url``) is the unique key because a 2048-character index entry is too wide for
    PostgreSQL's B-tree. Scripts carry the fetch bookkeeping and their current version.
    """

    __tablename__ = "csp_resources"
    __table_args__ = (
        UniqueConstraint("zone", "kind", "url_hash", name="uq_csp_resources_zone_kind_url"),
        Index("ix_csp_resources_zone_last_seen", "zone", "last_seen_at"),
        Index("ix_csp_resources_fetch_due", "fetch_due_at"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    zone: Mapped[str] = mapped_column(String(253))
    #: ``script`` or ``connection``.
    kind: Mapped[str] = mapped_column(String(16))
    url: Mapped[str] = mapped_column(String(2048))
    url_hash: Mapped[str] = mapped_column(String(64))
    host: Mapped[str] = mapped_column(String(253))
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    report_count: Mapped[int] = mapped_column(BigInteger())
    #: Scripts: the last reported URL with its query string (what is fetched).
    fetch_url: Mapped[str | None] = mapped_column(String(2048))
    fetch_state: Mapped[str | None] = mapped_column(String(16))
    #: When a worker should fetch it next (``None``: never, e.g. connections).
    fetch_due_at: Mapped[datetime | None]
    fetch_attempts: Mapped[int] = mapped_column(Integer(), default=0)
    fetched_at: Mapped[datetime | None]
    fetch_error: Mapped[str | None] = mapped_column(Text())
    current_version_id: Mapped[int | None] = mapped_column(BigIntId)


class CspScriptVersion(Base):
    """One body of a script, by SHA-256, with the classifier's verdict on it."""

    __tablename__ = "csp_script_versions"
    __table_args__ = (
        UniqueConstraint("resource_id", "content_hash", name="uq_csp_script_versions_content"),
        Index("ix_csp_script_versions_content_hash", "content_hash"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    resource_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("csp_resources.id", ondelete="CASCADE")
    )
    content_hash: Mapped[str] = mapped_column(String(64))
    #: The classifier's normalized-AST hash (stable across formatting and minification).
    ast_hash: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger())
    #: ``benign``, ``magecart``, ``cryptomining`` or ``malware``.
    verdict: Mapped[str] = mapped_column(String(16))
    js_integrity: Mapped[int] = mapped_column(Integer())
    magecart: Mapped[int] = mapped_column(Integer())
    cryptomining: Mapped[int] = mapped_column(Integer())
    malware: Mapped[int] = mapped_column(Integer())
    model: Mapped[str] = mapped_column(String(64))
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]


class CspPage(Base):
    """A page URL a resource was reported on; the store keeps the 10 most recent."""

    __tablename__ = "csp_pages"
    __table_args__ = (
        UniqueConstraint("resource_id", "url_hash", name="uq_csp_pages_resource_url"),
        Index("ix_csp_pages_resource_seen", "resource_id", "last_seen_at"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    resource_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("csp_resources.id", ondelete="CASCADE")
    )
    url: Mapped[str] = mapped_column(String(2048))
    url_hash: Mapped[str] = mapped_column(String(64))
    last_seen_at: Mapped[datetime]


class CspHost(Base):
    """A host one zone's scripts or connections have named (new-domain alerts)."""

    __tablename__ = "csp_hosts"
    __table_args__ = (UniqueConstraint("zone", "host", name="uq_csp_hosts_zone_host"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    zone: Mapped[str] = mapped_column(String(253))
    host: Mapped[str] = mapped_column(String(253))
    first_seen_at: Mapped[datetime]


class CspAlert(Base):
    """An alert for a site owner; ``key`` makes a repeated event one alert."""

    __tablename__ = "csp_alerts"
    __table_args__ = (Index("ix_csp_alerts_zone_created", "zone", "created_at"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    zone: Mapped[str] = mapped_column(String(253))
    #: ``new_script``, ``new_domain``, ``code_change`` or ``malicious``.
    kind: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(512), unique=True)
    url: Mapped[str] = mapped_column(String(2048))
    resource_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("csp_resources.id", ondelete="SET NULL")
    )
    detail: Mapped[dict[str, Any]] = mapped_column(JSON())
    created_at: Mapped[datetime]


class CspPolicy(Base):
    """A zone's allow policy (the sources its enforcing CSP allows)."""

    __tablename__ = "csp_policies"

    zone: Mapped[str] = mapped_column(String(253), primary_key=True)
    #: ``AllowPolicy.to_json()``.
    policy: Mapped[dict[str, Any]] = mapped_column(JSON())
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(64))
