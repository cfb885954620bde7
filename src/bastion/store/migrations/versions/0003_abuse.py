"""Abuse desk: reports, cases, case reports and actions, reporters, zone contacts.

Notices and CSAM reports use the ``outbox`` table of 0002.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "abuse_reports",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("received_at", _TIME, nullable=False),
        sa.Column("processed_at", _TIME, nullable=False),
        sa.Column("source", sa.String(length=80), nullable=False),
        sa.Column("reporter_key", sa.String(length=32), nullable=False),
        sa.Column("reporter_name", sa.String(length=200), nullable=False),
        sa.Column("reporter_email", sa.String(length=200), nullable=False),
        sa.Column("reporter_org", sa.String(length=200), nullable=False),
        sa.Column("consent", sa.Boolean(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("urls", sa.JSON(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_abuse_reports")),
    )
    op.create_index(op.f("ix_abuse_reports_type"), "abuse_reports", ["type"])
    op.create_index(op.f("ix_abuse_reports_received_at"), "abuse_reports", ["received_at"])
    op.create_index(op.f("ix_abuse_reports_reporter_key"), "abuse_reports", ["reporter_key"])
    op.create_table(
        "abuse_cases",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("host", sa.String(length=253), nullable=False),
        sa.Column("zone", sa.String(length=253), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("queue", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("sla_due_at", _TIME, nullable=False),
        sa.Column("report_count", sa.Integer(), nullable=False),
        sa.Column("reporter_count", sa.Integer(), nullable=False),
        sa.Column("opened_at", _TIME, nullable=False),
        sa.Column("last_report_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.Column("assignee", sa.String(length=64), nullable=True),
        sa.Column("enforcement", sa.JSON(), nullable=True),
        sa.Column("held", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_abuse_cases")),
        sa.UniqueConstraint("key", name=op.f("uq_abuse_cases_key")),
    )
    op.create_index(op.f("ix_abuse_cases_type"), "abuse_cases", ["type"])
    op.create_index(op.f("ix_abuse_cases_zone"), "abuse_cases", ["zone"])
    op.create_index(op.f("ix_abuse_cases_queue"), "abuse_cases", ["queue"])
    op.create_index("ix_abuse_cases_work", "abuse_cases", ["state", "priority", "sla_due_at"])
    op.create_table(
        "abuse_case_reports",
        sa.Column("case_id", _ID, nullable=False),
        sa.Column("report_id", sa.String(length=40), nullable=False),
        sa.Column("reporter_key", sa.String(length=32), nullable=False),
        sa.Column("at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["abuse_cases.id"],
            name=op.f("fk_abuse_case_reports_case_id_abuse_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["abuse_reports.id"],
            name=op.f("fk_abuse_case_reports_report_id_abuse_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("case_id", "report_id", name=op.f("pk_abuse_case_reports")),
    )
    op.create_index(op.f("ix_abuse_case_reports_report_id"), "abuse_case_reports", ["report_id"])
    op.create_index(
        "ix_abuse_case_reports_reporters", "abuse_case_reports", ["case_id", "reporter_key"]
    )
    op.create_table(
        "abuse_case_actions",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("case_id", _ID, nullable=False),
        sa.Column("at", _TIME, nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=True),
        sa.Column("to_state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["abuse_cases.id"],
            name=op.f("fk_abuse_case_actions_case_id_abuse_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_abuse_case_actions")),
    )
    op.create_index(op.f("ix_abuse_case_actions_case_id"), "abuse_case_actions", ["case_id"])
    op.create_table(
        "abuse_reporters",
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("reports", sa.Integer(), nullable=False),
        sa.Column("actioned", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("first_seen_at", _TIME, nullable=False),
        sa.Column("last_seen_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_abuse_reporters")),
    )
    op.create_table(
        "abuse_zone_contacts",
        sa.Column("zone_id", _ID, nullable=False),
        sa.Column("owner_contact", sa.String(length=320), nullable=True),
        sa.Column("host", sa.String(length=200), nullable=True),
        sa.Column("host_contact", sa.String(length=320), nullable=True),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["zone_id"],
            ["zones.id"],
            name=op.f("fk_abuse_zone_contacts_zone_id_zones"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("zone_id", name=op.f("pk_abuse_zone_contacts")),
    )


def downgrade() -> None:
    op.drop_table("abuse_zone_contacts")
    op.drop_table("abuse_reporters")
    op.drop_table("abuse_case_actions")
    op.drop_table("abuse_case_reports")
    op.drop_table("abuse_cases")
    op.drop_table("abuse_reports")
