"""DB-backed rule sets on SQLite and PostgreSQL: versions, the live set, audit, reload."""

from __future__ import annotations

import threading

from sqlalchemy import select

from bastion.config import load_settings
from bastion.rules import compile_rules
from bastion.service.analytics_api import AnalyticsContext, reload_rules
from bastion.service.scoring import ScoringService
from bastion.store.db import Database
from bastion.store.models import AuditEntry
from bastion.store.rules_store import RuleStore
from bastion.waf.scorer import load_scorer

RULE = {"id": "r", "expression": "waf.score < 30", "action": "block", "description": ""}


def test_versions_grow_and_the_newest_is_live(database: Database) -> None:
    store = RuleStore(database)
    assert store.version() == 0 and store.current() is None
    v1 = store.publish([RULE], actor="tok1", comment="first")
    v2 = store.publish([RULE | {"action": "log"}], actor="tok2")
    assert (v1, v2) == (1, 2) and store.version() == 2
    live = store.current()
    assert live is not None and live.rules[0]["action"] == "log" and live.created_by == "tok2"
    assert [s.version for s in store.history()] == [2, 1]
    with database.session() as session:
        audit = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(a.action, a.actor, a.target) for a in audit] == [
        ("rules.publish", "tok1", "rules:v1"),
        ("rules.publish", "tok2", "rules:v2"),
    ]
    assert audit[0].detail == {"version": 1, "rules": 1, "comment": "first"}


def test_concurrent_publishers_get_distinct_versions(database: Database) -> None:
    store = RuleStore(database)
    versions: list[int] = []
    lock = threading.Lock()

    def publish(i: int) -> None:
        v = store.publish([RULE | {"id": f"r{i}"}], actor=f"t{i}")
        with lock:
            versions.append(v)

    threads = [threading.Thread(target=publish, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(versions) == list(range(1, 9))
    live = store.current()
    assert live is not None and live.version == 8


def test_reload_swaps_scoring_rules_and_falls_back_to_config(database: Database) -> None:
    settings = load_settings(None, database_url="sqlite://")
    scoring = ScoringService(load_scorer(), compile_rules([]))
    ctx = AnalyticsContext(None, None, RuleStore(database), settings, scoring)
    assert reload_rules(ctx) and ctx.rules_source == "default" and len(scoring.rules) == 2
    assert not reload_rules(ctx)  # nothing changed
    ctx.rules.publish([RULE], actor="t")
    assert reload_rules(ctx) and ctx.rules_source == "database"
    assert [r.id for r in scoring.rules.rules] == ["r"] and ctx.rules_version == 1


def test_one_process_at_a_time_holds_the_maintenance_lock(database: Database) -> None:
    from bastion.store.analytics import maintenance_lock

    first, second = maintenance_lock(database), maintenance_lock(database)
    with first() as got:
        assert got
        with second() as other:  # another worker (own file handle / own connection)
            assert not other
    with second() as again:
        assert again
