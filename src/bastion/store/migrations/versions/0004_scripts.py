"""Script monitor: inventory of scripts and connections, script versions with verdicts,
page URLs, hosts, alerts and allow policies.

Alerts are delivered through the ``outbox`` table of 0002.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-09
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "csp_resources",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("zone", sa.String(length=253), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("url_hash", sa.String(length=64), nullable=False),
        sa.Column("host", sa.String(length=253), nullable=False),
        sa.Column("first_seen_at", _TIME, nullable=False),
        sa.Column("last_seen_at", _TIME, nullable=False),
        sa.Column("report_count", sa.BigInteger(), nullable=False),
        sa.Column("fetch_url", sa.String(length=2048), nullable=True),
        sa.Column("fetch_state", sa.String(length=16), nullable=True),
        sa.Column("fetch_due_at", _TIME, nullable=True),
        sa.Column("fetch_attempts", sa.Integer(), nullable=False),
        sa.Column("fetched_at", _TIME, nullable=True),
        sa.Column("fetch_error", sa.Text(), nullable=True),
        sa.Column("current_version_id", _ID, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_csp_resources")),
        sa.UniqueConstraint("zone", "kind", "url_hash", name="uq_csp_resources_zone_kind_url"),
    )
    op.create_index("ix_csp_resources_zone_last_seen", "csp_resources", ["zone", "last_seen_at"])
    op.create_index("ix_csp_resources_fetch_due", "csp_resources", ["fetch_due_at"])
    op.create_table(
        "csp_script_versions",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("resource_id", _ID, nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("ast_hash", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("js_integrity", sa.Integer(), nullable=False),
        sa.Column("magecart", sa.Integer(), nullable=False),
        sa.Column("cryptomining", sa.Integer(), nullable=False),
        sa.Column("malware", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(length=64), nullable=False),
        sa.Column("first_seen_at", _TIME, nullable=False),
        sa.Column("last_seen_at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["csp_resources.id"],
            name=op.f("fk_csp_script_versions_resource_id_csp_resources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_csp_script_versions")),
        sa.UniqueConstraint("resource_id", "content_hash", name="uq_csp_script_versions_content"),
    )
    op.create_index("ix_csp_script_versions_content_hash", "csp_script_versions", ["content_hash"])
    op.create_table(
        "csp_pages",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("resource_id", _ID, nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("url_hash", sa.String(length=64), nullable=False),
        sa.Column("last_seen_at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["csp_resources.id"],
            name=op.f("fk_csp_pages_resource_id_csp_resources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_csp_pages")),
        sa.UniqueConstraint("resource_id", "url_hash", name="uq_csp_pages_resource_url"),
    )
    op.create_index("ix_csp_pages_resource_seen", "csp_pages", ["resource_id", "last_seen_at"])
    op.create_table(
        "csp_hosts",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("zone", sa.String(length=253), nullable=False),
        sa.Column("host", sa.String(length=253), nullable=False),
        sa.Column("first_seen_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_csp_hosts")),
        sa.UniqueConstraint("zone", "host", name="uq_csp_hosts_zone_host"),
    )
    op.create_table(
        "csp_alerts",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("zone", sa.String(length=253), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=512), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("resource_id", _ID, nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["csp_resources.id"],
            name=op.f("fk_csp_alerts_resource_id_csp_resources"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_csp_alerts")),
        sa.UniqueConstraint("key", name=op.f("uq_csp_alerts_key")),
    )
    op.create_index("ix_csp_alerts_zone_created", "csp_alerts", ["zone", "created_at"])
    op.create_table(
        "csp_policies",
        sa.Column("zone", sa.String(length=253), nullable=False),
        sa.Column("policy", sa.JSON(), nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("zone", name=op.f("pk_csp_policies")),
    )


def downgrade() -> None:
    op.drop_table("csp_policies")
    op.drop_table("csp_alerts")
    op.drop_table("csp_hosts")
    op.drop_table("csp_pages")
    op.drop_table("csp_script_versions")
    op.drop_table("csp_resources")
