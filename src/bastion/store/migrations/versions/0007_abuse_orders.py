"""Abuse desk: legal orders, sharing partners, shared secrets (interstitial pass key),
evidence attachments, and an index on case actions for the edge's change check.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "abuse_legal_orders",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("authority", sa.String(length=200), nullable=False),
        sa.Column("jurisdiction", sa.String(length=64), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=False),
        sa.Column("urls", sa.JSON(), nullable=False),
        sa.Column("hosts", sa.JSON(), nullable=False),
        sa.Column("countries", sa.JSON(), nullable=False),
        sa.Column("valid_from", _TIME, nullable=False),
        sa.Column("valid_until", _TIME, nullable=True),
        sa.Column("blocked_by", sa.String(length=2048), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_abuse_legal_orders")),
    )
    op.create_index(
        op.f("ix_abuse_legal_orders_jurisdiction"), "abuse_legal_orders", ["jurisdiction"]
    )
    op.create_index(op.f("ix_abuse_legal_orders_state"), "abuse_legal_orders", ["state"])
    op.create_index(op.f("ix_abuse_legal_orders_created_at"), "abuse_legal_orders", ["created_at"])
    op.create_table(
        "abuse_partners",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("trust", sa.Integer(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("revoked_at", _TIME, nullable=True),
        sa.Column("last_pull_at", _TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_abuse_partners")),
        sa.UniqueConstraint("name", name=op.f("uq_abuse_partners_name")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_abuse_partners_token_hash")),
    )
    op.create_table(
        "abuse_secrets",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=128), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_abuse_secrets")),
    )

    op.create_table(
        "abuse_evidence",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("media_type", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_abuse_evidence")),
    )
    op.create_table(
        "abuse_report_evidence",
        sa.Column("report_id", sa.String(length=40), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=100), nullable=False),
        sa.Column("added_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("report_id", "sha256", name=op.f("pk_abuse_report_evidence")),
    )
    op.create_index(op.f("ix_abuse_report_evidence_sha256"), "abuse_report_evidence", ["sha256"])
    # The edge's change check: the newest enforcement-changing action, by index.
    op.create_index("ix_abuse_case_actions_action_id", "abuse_case_actions", ["action", "id"])


def downgrade() -> None:
    op.drop_index("ix_abuse_case_actions_action_id", table_name="abuse_case_actions")
    op.drop_table("abuse_report_evidence")
    op.drop_table("abuse_evidence")
    op.drop_table("abuse_secrets")
    op.drop_table("abuse_partners")
    op.drop_table("abuse_legal_orders")
