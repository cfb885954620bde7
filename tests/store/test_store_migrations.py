"""Migrations: they build exactly the models' schema, on both backends, even concurrently."""

from __future__ import annotations

import multiprocessing
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from bastion.store import Base, Database
from bastion.store.db import MIGRATIONS_DIR

TABLES = {
    "zones",
    "api_tokens",
    "token_zones",
    "audit_log",
    "content_blocks",
    "content_appeals",
    "content_evidence",
    "outbox",
    "abuse_reports",
    "abuse_cases",
    "abuse_case_reports",
    "abuse_case_actions",
    "abuse_reporters",
    "abuse_zone_contacts",
    "csp_resources",
    "csp_script_versions",
    "csp_pages",
    "csp_hosts",
    "csp_alerts",
    "csp_policies",
    "rule_sets",
    "model_versions",
    "model_artifacts",
    "model_rollouts",
    "model_status_events",
    "model_shadow_stats",
    "model_score_minutes",
    "model_feedback",
    "abuse_legal_orders",
    "abuse_partners",
    "abuse_secrets",
    "abuse_evidence",
    "abuse_report_evidence",
}


def _tables(db: Database) -> set[str]:
    return set(inspect(db.engine).get_table_names()) - {"alembic_version"}


def _diff(db: Database) -> list[Any]:
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(ctx, Base.metadata))


def test_upgrade_creates_the_schema_once(database_url: str) -> None:
    db = Database(database_url)
    assert db.current_revision() is None
    assert _tables(db) == set()
    db.upgrade()
    assert db.current_revision() == db.head_revision() == "0007"
    assert _tables(db) == TABLES
    db.upgrade()  # already at head: nothing to do
    assert db.current_revision() == "0007"
    db.dispose()


def test_migrations_match_the_models(database: Database) -> None:
    assert _diff(database) == []


def test_the_diff_check_notices_a_model_change(database: Database) -> None:
    """The check above can fail: an extra table in the models shows up in the diff."""
    from sqlalchemy import Column, Integer, MetaData, Table

    extra = MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(extra)
    Table("not_migrated", extra, Column("id", Integer, primary_key=True))
    with database.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), extra)
    assert [d[0] for d in diff] == ["add_table"]


def test_downgrade_to_base_and_back(database: Database) -> None:
    with database.engine.begin() as conn:
        command.downgrade(database._alembic_config(conn), "base")
    assert database.current_revision() is None
    assert _tables(database) == set()
    database.upgrade()
    assert _tables(database) == TABLES


def test_migrations_ship_as_packages() -> None:
    assert (MIGRATIONS_DIR / "__init__.py").is_file()
    assert (MIGRATIONS_DIR / "versions" / "__init__.py").is_file()
    assert (MIGRATIONS_DIR / "script.py.mako").is_file()
    assert (MIGRATIONS_DIR / "env.py").is_file()


def _upgrade_in_child(url: str, barrier: Any, results: Any) -> None:
    try:
        db = Database(url)
        barrier.wait(timeout=30)
        db.upgrade()
        results.put(("ok", db.current_revision()))
        db.dispose()
    except BaseException as exc:
        results.put(("error", repr(exc)))


def test_concurrent_upgrades_from_several_processes(database_url: str) -> None:
    ctx = multiprocessing.get_context("spawn")
    n = 3
    barrier = ctx.Barrier(n)
    results = ctx.Queue()
    procs = [
        ctx.Process(target=_upgrade_in_child, args=(database_url, barrier, results))
        for _ in range(n)
    ]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    assert outcomes == [("ok", "0007")] * n
    db = Database(database_url)
    assert _tables(db) == TABLES
    assert _diff(db) == []
    db.dispose()
