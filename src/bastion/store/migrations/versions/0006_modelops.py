"""Model registry: versions, artifacts, rollout state, status history, shadow tallies,
per-minute score histograms, analysts' feedback.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "model_versions",
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("featurizer", sa.String(length=64), nullable=False),
        sa.Column("pipeline", sa.String(length=64), nullable=False),
        sa.Column("data_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("card", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("registered_at", _TIME, nullable=False),
        sa.Column("registered_by", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=1024), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_model_versions")),
    )
    op.create_index("ix_model_versions_kind_status", "model_versions", ["kind", "status"])
    op.create_table(
        "model_artifacts",
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["version"],
            ["model_versions.version"],
            name=op.f("fk_model_artifacts_version_model_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_model_artifacts")),
    )
    op.create_table(
        "model_rollouts",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("kind", name=op.f("pk_model_rollouts")),
    )
    op.create_table(
        "model_status_events",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("at", _TIME, nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_status_events")),
    )
    op.create_index("ix_model_status_events_kind_at", "model_status_events", ["kind", "at"])
    op.create_index(op.f("ix_model_status_events_version"), "model_status_events", ["version"])
    op.create_table(
        "model_shadow_stats",
        sa.Column("candidate", sa.String(length=64), nullable=False),
        sa.Column("baseline", sa.String(length=64), nullable=False),
        sa.Column("vector", sa.String(length=16), nullable=False),
        sa.Column("active_class", sa.String(length=16), nullable=False),
        sa.Column("candidate_class", sa.String(length=16), nullable=False),
        sa.Column("requests", sa.BigInteger(), nullable=False),
        sa.Column("sum_delta", sa.BigInteger(), nullable=False),
        sa.Column("sum_abs_delta", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "candidate",
            "baseline",
            "vector",
            "active_class",
            "candidate_class",
            name=op.f("pk_model_shadow_stats"),
        ),
    )
    op.create_table(
        "model_score_minutes",
        sa.Column("minute", _TIME, nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("zone", sa.String(length=253), nullable=False),
        sa.Column("worker", sa.String(length=64), nullable=False),
        sa.Column("requests", sa.BigInteger(), nullable=False),
        sa.Column("blocked", sa.BigInteger(), nullable=False),
        sa.Column("hist", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint(
            "minute", "version", "zone", "worker", name=op.f("pk_model_score_minutes")
        ),
    )
    op.create_index(
        "ix_model_score_minutes_version_minute", "model_score_minutes", ["version", "minute"]
    )
    op.create_table(
        "model_feedback",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("zone", sa.String(length=253), nullable=False),
        sa.Column("label", sa.String(length=16), nullable=False),
        sa.Column("vector", sa.String(length=16), nullable=True),
        sa.Column("model_version", sa.String(length=64), nullable=True),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("scores", sa.JSON(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_feedback")),
    )
    op.create_index("ix_model_feedback_created_at", "model_feedback", ["created_at"])


def downgrade() -> None:
    op.drop_table("model_feedback")
    op.drop_index("ix_model_score_minutes_version_minute", table_name="model_score_minutes")
    op.drop_table("model_score_minutes")
    op.drop_table("model_shadow_stats")
    op.drop_index(op.f("ix_model_status_events_version"), table_name="model_status_events")
    op.drop_index("ix_model_status_events_kind_at", table_name="model_status_events")
    op.drop_table("model_status_events")
    op.drop_table("model_rollouts")
    op.drop_table("model_artifacts")
    op.drop_index("ix_model_versions_kind_status", table_name="model_versions")
    op.drop_table("model_versions")
