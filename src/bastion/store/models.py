"""Declarative models: the schema that ``migrations/versions`` creates.

Every change here needs a migration; ``tests/store`` fails when the two disagree.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Index, Integer, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from bastion.store.types import UTCDateTime

#: Deterministic constraint names, so migrations can refer to them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: 64-bit on PostgreSQL; SQLite only auto-increments a column declared INTEGER.
BigIntId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    """Base class of every bastion model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
    }


class Zone(Base):
    """A protected site, named by its hostname (``shop.example``)."""

    __tablename__ = "zones"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(253), unique=True)
    created_at: Mapped[datetime]


class TokenZone(Base):
    """Which zones a (site owner's) API token may act on."""

    __tablename__ = "token_zones"

    token_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("api_tokens.id", ondelete="CASCADE"), primary_key=True
    )
    zone_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("zones.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class ApiToken(Base):
    """An API token; only the SHA-256 of the whole token is stored, never the token."""

    __tablename__ = "api_tokens"

    #: The public id, also embedded in the token (``bst_<id>_<secret>``).
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: Role names (``bastion.auth.roles.Role`` values), sorted.
    roles: Mapped[list[str]] = mapped_column(JSON())
    #: Requests per second; ``None`` means the service default.
    rate_limit: Mapped[float | None] = mapped_column(Float())
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    created_by: Mapped[str | None] = mapped_column(String(64))

    zones: Mapped[list[Zone]] = relationship(
        secondary="token_zones", lazy="selectin", order_by=Zone.name
    )


class AuditEntry(Base):
    """One administrative action: who did what to which object, and the details."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_target_at", "target", "at"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    #: A token id, or ``"cli"`` for the command line.
    actor: Mapped[str] = mapped_column(String(64))
    #: ``<object>.<verb>``, e.g. ``token.create``.
    action: Mapped[str] = mapped_column(String(64), index=True)
    target: Mapped[str] = mapped_column(String(255))
    detail: Mapped[dict[str, Any]]


# Content scanning's, the abuse desk's and the script monitor's tables, registered on
# Base.metadata (modules of their own).
from bastion.store import (  # noqa: E402, F401
    abuse_models,
    abuse_orders_models,
    content_models,
    modelops_models,
    rules_models,
    scripts_models,
)
