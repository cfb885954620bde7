"""The monitor's storage on SQLite and PostgreSQL: inventory upserts, statuses, pages, the
fetch queue, versions and verdicts, alerts through the outbox, policies, concurrency."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, func, inspect, select

from bastion.scripts.monitor.inventory import Observation
from bastion.scripts.monitor.policy import AllowPolicy
from bastion.scripts.result import ScriptResult
from bastion.service.outbox import Message, OutboxDeliverer
from bastion.store import Base, Database
from bastion.store.content_models import OutboxMessage
from bastion.store.scripts_inventory import FetchJob, ScriptInventory
from bastion.store.scripts_models import CspAlert, CspPage, CspResource

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ZONE = "shop.example"
CSP_TABLES = {
    "csp_resources",
    "csp_script_versions",
    "csp_pages",
    "csp_hosts",
    "csp_alerts",
    "csp_policies",
}


def _obs(
    url: str,
    at: datetime = T0,
    page: str | None = "https://shop.example/",
    kind: str = "script",
) -> Observation:
    host = url.split("/")[2]
    return Observation(kind, url, host, page, at, url + "?v=1" if kind == "script" else None)  # type: ignore[arg-type]


def _result(cls: str = "benign", ast_hash: str = "a" * 32) -> ScriptResult:
    low = cls != "benign"
    return ScriptResult(5 if low else 97, 4 if cls == "magecart" else 97, 97, 97, cls, ast_hash)  # type: ignore[arg-type]


def _alerts(db: Database) -> list[tuple[str, str]]:
    with db.session() as s:
        return [(a.kind, a.url) for a in s.scalars(select(CspAlert).order_by(CspAlert.id))]


def _outbox(db: Database) -> list[OutboxMessage]:
    with db.session() as s:
        return list(s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_migration_builds_the_models(clean_database: Database) -> None:
    assert set(inspect(clean_database.engine).get_table_names()) >= CSP_TABLES
    mine = MetaData()
    for name in CSP_TABLES:
        Base.metadata.tables[name].to_metadata(mine)
    with clean_database.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), mine)
    # Other tables (not in ``mine``) show up as removals; nothing may concern ours.
    assert [d for d in diff if _table_of(d) in CSP_TABLES] == []
    assert any(_table_of(d) == "outbox" for d in diff)  # the filter sees table names


def _table_of(diff: Any) -> str:
    if isinstance(diff, list):  # modify_* entries: [(op, schema, table, column, ...)]
        return str(diff[0][2])
    obj = diff[1]
    table = getattr(obj, "table", obj)
    return str(getattr(table, "name", ""))


def test_downgrade_removes_the_tables(database: Database) -> None:
    with database.engine.begin() as conn:
        # To the revision before 0004_scripts (later migrations go down on the way).
        command.downgrade(database._alembic_config(conn), "0003")
    assert not CSP_TABLES & set(inspect(database.engine).get_table_names())
    database.upgrade()
    assert set(inspect(database.engine).get_table_names()) >= CSP_TABLES


def test_ingest_counts_and_alerts_once(clean_database: Database) -> None:
    inv = ScriptInventory(clean_database)
    first = inv.ingest(
        ZONE,
        [
            _obs("https://cdn.example/lib.js"),
            _obs("https://cdn.example/lib.js", T0 + timedelta(seconds=5)),
            _obs("https://shop.example/app.js"),
            _obs("https://api.example/collect", kind="connection"),
        ],
    )
    assert (first.observations, first.new_resources, first.dropped) == (4, 3, 0)
    kinds = sorted((a.kind, a.url) for a in first.alerts)
    assert kinds == [
        ("new_domain", "https://api.example/collect"),
        ("new_domain", "https://cdn.example/lib.js"),
        ("new_script", "https://cdn.example/lib.js"),
        ("new_script", "https://shop.example/app.js"),
    ]
    again = inv.ingest(ZONE, [_obs("https://cdn.example/lib.js", T0 + timedelta(minutes=1))])
    assert again.new_resources == 0 and again.alerts == ()
    assert len(_alerts(clean_database)) == 4
    # The same URL in another zone is another resource, with its own alerts.
    other = inv.ingest("else.example", [_obs("https://cdn.example/lib.js")])
    assert other.new_resources == 1 and len(other.alerts) == 2
    # Every alert has its outbox message, keyed like the alert.
    messages = _outbox(clean_database)
    with clean_database.session() as s:
        keys = set(s.scalars(select(CspAlert.key)))
    assert {m.key for m in messages} == keys and len(messages) == 6
    assert all(m.kind == "notification" and m.payload["type"] == "scripts.alert" for m in messages)

    (lib,) = inv.list_resources(ZONE, T0 + timedelta(minutes=2), host="cdn.example")
    assert lib["report_count"] == 3 and lib["status"] == "active"
    assert lib["first_seen"] == T0.isoformat()
    assert lib["last_seen"] == (T0 + timedelta(minutes=1)).isoformat()
    assert lib["fetch"]["state"] == "pending" and lib["current_version"] is None
    (conn,) = inv.list_resources(ZONE, T0, kind="connection")
    assert conn["url"] == "https://api.example/collect" and "fetch" not in conn
    assert conn["status"] == "infrequent"


def test_pages_keep_the_ten_most_recent(clean_database: Database) -> None:
    inv = ScriptInventory(clean_database)
    url = "https://cdn.example/lib.js"
    for i in range(14):
        inv.ingest(ZONE, [_obs(url, T0 + timedelta(minutes=i), f"https://shop.example/p{i}")])
    # A late report of an old page does not push a newer one out.
    inv.ingest(ZONE, [_obs(url, T0 - timedelta(days=1), "https://shop.example/old")])
    (item,) = inv.list_resources(ZONE, T0 + timedelta(hours=1))
    assert item["pages"] == [f"https://shop.example/p{i}" for i in range(13, 3, -1)]
    with clean_database.session() as s:
        assert s.scalar(select(func.count()).select_from(CspPage)) == 10
    assert item["first_seen"] == (T0 - timedelta(days=1)).isoformat()


def test_status_filters(clean_database: Database) -> None:
    inv = ScriptInventory(clean_database)
    now = T0 + timedelta(days=10)
    inv.ingest(ZONE, [_obs("https://a.example/old.js", T0)] * 5)  # inactive
    inv.ingest(ZONE, [_obs("https://a.example/busy.js", now - timedelta(hours=1))] * 3)
    inv.ingest(ZONE, [_obs("https://a.example/rare.js", now - timedelta(days=6))] * 2)
    got = {
        state: [r["url"].rsplit("/", 1)[1] for r in inv.list_resources(ZONE, now, state=state)]
        for state in ("active", "infrequent", "inactive")
    }
    assert got == {"active": ["busy.js"], "infrequent": ["rare.js"], "inactive": ["old.js"]}
    listed = {r["url"].rsplit("/", 1)[1]: r["status"] for r in inv.list_resources(ZONE, now)}
    assert listed == {"old.js": "inactive", "busy.js": "active", "rare.js": "infrequent"}
    page = inv.list_resources(ZONE, now, limit=1)
    assert len(page) == 1
    assert len(inv.list_resources(ZONE, now, after_id=page[0]["id"])) == 2


def test_a_full_inventory_drops_new_resources(clean_database: Database) -> None:
    inv = ScriptInventory(clean_database, max_resources_per_zone=2)
    result = inv.ingest(
        ZONE,
        [_obs(f"https://a.example/{i}.js") for i in range(4)] + [_obs("https://a.example/0.js")],
    )
    assert result.new_resources == 2 and result.dropped == 2
    # Known resources are still counted.
    later = inv.ingest(ZONE, [_obs("https://a.example/0.js"), _obs("https://a.example/9.js")])
    assert later.dropped == 1 and later.new_resources == 0
    assert len(inv.list_resources(ZONE, T0)) == 2


def test_fetch_queue_versions_and_verdict_alerts(clean_database: Database) -> None:
    inv = ScriptInventory(clean_database, refetch_after=timedelta(hours=24))
    url = "https://cdn.example/lib.js"
    inv.ingest(ZONE, [_obs(url), _obs("https://api.example/x", kind="connection")])
    (job,) = inv.claim_due(T0)
    assert (job.url, job.fetch_url, job.attempts) == (url, url + "?v=1", 1)
    assert inv.claim_due(T0) == []  # leased
    alerts = inv.record_version(job, "c1", 100, _result(), "m1", T0)
    assert alerts == []  # a benign first version
    assert inv.claim_due(T0 + timedelta(hours=1)) == []
    # Re-fetched after a day (it is still reported): a new body with a new tree.
    inv.ingest(ZONE, [_obs(url, T0 + timedelta(hours=23))])
    (job,) = inv.claim_due(T0 + timedelta(hours=25))
    alerts = inv.record_version(
        job, "c2", 120, _result("magecart", "b" * 32), "m1", T0 + timedelta(hours=25)
    )
    assert [a.kind for a in alerts] == ["code_change", "malicious"]
    assert alerts[1].detail["class"] == "magecart"
    # The same body again: no new version, no new alert.
    again = inv.record_version(
        job, "c2", 120, _result("magecart", "b" * 32), "m1", T0 + timedelta(hours=26)
    )
    assert again == []
    (item,) = inv.list_resources(ZONE, T0 + timedelta(hours=26), kind="script")
    assert item["version_count"] == 2
    assert item["current_version"]["content_hash"] == "c2"
    assert item["current_version"]["class"] == "magecart"
    full = inv.get_resource(ZONE, item["id"], T0)
    assert full is not None and [v["content_hash"] for v in full["versions"]] == ["c2", "c1"]
    assert inv.get_resource("else.example", item["id"], T0) is None
    known = inv.known_verdict("c2", "m1")
    assert known is not None and known.result.cls == "magecart"
    assert inv.known_verdict("c2", "m2") is None
    kinds = [kind for kind, _ in _alerts(clean_database)]
    assert kinds.count("malicious") == 1 and kinds.count("code_change") == 1
    assert {m.payload["alert"] for m in _outbox(clean_database)} >= {"malicious", "code_change"}
    listed = inv.list_alerts(ZONE, kind="malicious")
    assert len(listed) == 1 and listed[0]["severity"] == "critical"
    assert inv.list_alerts("else.example") == []


def test_failed_fetches_back_off(clean_database: Database) -> None:
    inv = ScriptInventory(clean_database, max_fetch_attempts=3)
    inv.ingest(ZONE, [_obs("https://cdn.example/a.js")])
    now = T0
    waits = []
    for _ in range(4):
        (job,) = inv.claim_due(now)
        inv.record_failure(job, "connect: refused", now)
        with clean_database.session() as s:
            row = s.scalars(select(CspResource)).one()
        assert row.fetch_state == "failed" and row.fetch_error == "connect: refused"
        assert row.fetch_due_at is not None
        waits.append(row.fetch_due_at - now)
        now = row.fetch_due_at
    assert waits[:3] == [timedelta(minutes=1), timedelta(minutes=2), timedelta(hours=24)]


def test_inactive_scripts_are_not_fetched(clean_database: Database) -> None:
    inv = ScriptInventory(clean_database)
    inv.ingest(ZONE, [_obs("https://cdn.example/a.js", T0)])
    assert inv.claim_due(T0 + timedelta(days=8)) == []


def test_policies(clean_database: Database) -> None:
    inv = ScriptInventory(clean_database)
    assert inv.get_policy(ZONE) is None
    policy = AllowPolicy(("'self'", "https://cdn.example"), ("'self'",))
    inv.put_policy(ZONE, policy, "tok1", T0)
    inv.put_policy(ZONE, AllowPolicy(("'none'",), ()), "tok2", T0 + timedelta(hours=1))
    got = inv.get_policy(ZONE)
    assert got is not None
    assert got[0] == AllowPolicy(("'none'",), ()) and got[2] == "tok2"
    assert inv.script_urls(ZONE, T0) == ([], [])


def test_concurrent_ingest_of_one_new_script(clean_database: Database) -> None:
    """Workers racing on the same new script: every report counted, one alert of each."""
    inv = ScriptInventory(clean_database)
    url = "https://race.example/x.js"
    barrier = threading.Barrier(6)
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            barrier.wait()
            for j in range(5):
                inv.ingest(ZONE, [_obs(url, T0 + timedelta(seconds=i * 10 + j))] * 2)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    (item,) = inv.list_resources(ZONE, T0)
    assert item["report_count"] == 60
    assert sorted(k for k, _ in _alerts(clean_database)) == ["new_domain", "new_script"]


def test_alerts_are_delivered_by_the_outbox(clean_database: Database) -> None:
    inv = ScriptInventory(clean_database)
    inv.ingest(ZONE, [_obs("https://cdn.example/a.js")])
    sent: list[Message] = []
    deliverer = OutboxDeliverer(clean_database, {"notification": sent.append}, clock=lambda: T0)
    assert deliverer.run_once() == (2, 0)
    assert sorted(m.payload["alert"] for m in sent) == ["new_domain", "new_script"]
    assert all(m.zone == ZONE for m in sent)
    assert deliverer.run_once() == (0, 0)


def test_job_for_a_deleted_resource_is_ignored(clean_database: Database) -> None:
    inv = ScriptInventory(clean_database)
    job = FetchJob(999_999, ZONE, "https://x.example/a.js", "https://x.example/a.js", 1)
    assert inv.record_version(job, "c", 1, _result(), "m", T0) == []
