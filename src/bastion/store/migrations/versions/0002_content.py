"""Content scanning: blocks, appeals, evidence, and the delivery outbox.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "content_blocks",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("zone", sa.String(length=253), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("bank", sa.String(length=64), nullable=False),
        sa.Column("distance", sa.Integer(), nullable=False),
        sa.Column("entry_ids", sa.JSON(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_blocks")),
        sa.UniqueConstraint("zone", "url", name="uq_content_blocks_zone_url"),
    )
    op.create_index(op.f("ix_content_blocks_state"), "content_blocks", ["state"])
    op.create_index(op.f("ix_content_blocks_updated_at"), "content_blocks", ["updated_at"])
    op.create_table(
        "content_appeals",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("block_id", _ID, nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("requested_at", _TIME, nullable=False),
        sa.Column("reviewer", sa.String(length=64), nullable=True),
        sa.Column("review_started_at", _TIME, nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decision", sa.String(length=16), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("decided_at", _TIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["block_id"],
            ["content_blocks.id"],
            name=op.f("fk_content_appeals_block_id_content_blocks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_appeals")),
    )
    op.create_index(op.f("ix_content_appeals_block_id"), "content_appeals", ["block_id"])
    op.create_table(
        "content_evidence",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("block_id", _ID, nullable=False),
        sa.Column("zone", sa.String(length=253), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("md5", sa.String(length=32), nullable=True),
        sa.Column("pdq", sa.String(length=64), nullable=True),
        sa.Column("quality", sa.Integer(), nullable=True),
        sa.Column("matches", sa.JSON(), nullable=False),
        sa.Column("first_seen_at", _TIME, nullable=False),
        sa.Column("last_seen_at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["block_id"],
            ["content_blocks.id"],
            name=op.f("fk_content_evidence_block_id_content_blocks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_evidence")),
        sa.UniqueConstraint("block_id", "sha256", name="uq_content_evidence_block_id_sha256"),
    )
    op.create_table(
        "outbox",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=512), nullable=False),
        sa.Column("zone", sa.String(length=253), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _TIME, nullable=False),
        sa.Column("delivered_at", _TIME, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("key", name=op.f("uq_outbox_key")),
    )
    op.create_index("ix_outbox_due", "outbox", ["delivered_at", "next_attempt_at"])


def downgrade() -> None:
    op.drop_table("outbox")
    op.drop_table("content_evidence")
    op.drop_table("content_appeals")
    op.drop_table("content_blocks")
