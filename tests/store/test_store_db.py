"""Database: URLs, sessions, pragmas, readiness, timestamps and the audit helper."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError, StatementError

from bastion.store import (
    ApiToken,
    AuditEntry,
    Database,
    DatabaseError,
    TokenZone,
    Zone,
    normalize_url,
    record_audit,
)

NOW = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u:p@h:5432/d", "postgresql+psycopg://u:p@h:5432/d"),
        ("postgres://u@h/d", "postgresql+psycopg://u@h/d"),
        (
            "postgresql+psycopg://u@h/d?sslmode=require",
            "postgresql+psycopg://u@h/d?sslmode=require",
        ),
        ("sqlite:///x.db", "sqlite:///x.db"),
        ("sqlite://", "sqlite://"),
        ("sqlite+pysqlite:///x.db", "sqlite+pysqlite:///x.db"),
    ],
)
def test_normalize_url(url: str, expected: str) -> None:
    assert normalize_url(url).render_as_string(hide_password=False) == expected


@pytest.mark.parametrize(
    "url",
    [
        "mysql://u@h/d",
        "not a url",
        "redis://h",
        "postgresql+psycopg2://u@h/d",
        "sqlite+aiosqlite://",
    ],
)
def test_unsupported_urls_are_refused(url: str) -> None:
    with pytest.raises(DatabaseError):
        Database(url)


def test_repr_and_safe_url_hide_the_password() -> None:
    db = Database("postgresql://bob:hunter2@127.0.0.1:1/x")
    assert "hunter2" not in repr(db) and "hunter2" not in db.safe_url
    db.dispose()


def _zone(name: str) -> Zone:
    return Zone(name=name, created_at=NOW)


def test_session_commits_on_success_and_rolls_back_on_error(database: Database) -> None:
    with database.session(write=True) as s:
        s.add(_zone("a.example"))
    with pytest.raises(RuntimeError), database.session(write=True) as s:
        s.add(_zone("b.example"))
        s.flush()
        raise RuntimeError("boom")
    with database.session() as s:
        assert s.scalars(select(Zone.name)).all() == ["a.example"]


def test_unique_zone_name_is_enforced(database: Database) -> None:
    with database.session(write=True) as s:
        s.add(_zone("a.example"))
    with pytest.raises(IntegrityError), database.session(write=True) as s:
        s.add(_zone("a.example"))


def test_foreign_keys_are_enforced_and_cascade(database: Database) -> None:
    with pytest.raises(IntegrityError), database.session(write=True) as s:
        s.add(TokenZone(token_id="nope", zone_id=12345))
    with database.session(write=True) as s:
        zone = _zone("a.example")
        tok = ApiToken(id="t1", name="n", token_hash="0" * 64, roles=["site_owner"], created_at=NOW)
        tok.zones.append(zone)
        s.add(tok)
    with database.session(write=True) as s:
        s.delete(s.get_one(ApiToken, "t1"))
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(TokenZone)) == 0
        assert s.scalar(select(func.count()).select_from(Zone)) == 1


def test_timestamps_come_back_aware_in_utc(database: Database) -> None:
    plus2 = NOW.astimezone(timezone(timedelta(hours=2)))
    with database.session(write=True) as s:
        s.add(Zone(name="a.example", created_at=plus2))
    with database.session() as s:
        got = s.scalars(select(Zone.created_at)).one()
    assert got == NOW and got.tzinfo is not None and got.utcoffset() == timedelta(0)


def test_naive_timestamps_are_refused(database: Database) -> None:
    with pytest.raises(StatementError, match="timezone-aware"), database.session(write=True) as s:
        s.add(Zone(name="a.example", created_at=NOW.replace(tzinfo=None)))


def test_json_and_audit_rows_roll_back_with_their_transaction(database: Database) -> None:
    detail = {"roles": ["admin"], "n": 1.5, "nested": {"ok": True, "none": None}}
    with database.session(write=True) as s:
        record_audit(s, actor="cli", action="zone.create", target="a.example", detail=detail)
    with pytest.raises(IntegrityError), database.session(write=True) as s:
        record_audit(s, actor="cli", action="zone.create", target="dup.example")
        s.add(_zone("x.example"))
        s.add(_zone("x.example"))
    with database.session() as s:
        rows = s.scalars(select(AuditEntry)).all()
    assert [(r.actor, r.action, r.target, r.detail) for r in rows] == [
        ("cli", "zone.create", "a.example", detail)
    ]
    assert rows[0].at.tzinfo is not None


def test_ping(database: Database) -> None:
    assert database.ping() is True


def test_ping_is_false_when_postgres_is_unreachable() -> None:
    db = Database("postgresql://postgres@127.0.0.1:1/x")
    t0 = time.monotonic()
    assert db.ping() is False
    assert time.monotonic() - t0 < 5
    db.dispose()


def test_sqlite_file_uses_wal_and_foreign_keys(tmp_path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'b.db'}")
    with db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 1000
    db.dispose()


def test_in_memory_sqlite_is_one_shared_database() -> None:
    db = Database("sqlite://")
    db.upgrade()
    with db.session(write=True) as s:
        s.add(_zone("a.example"))
    with db.session() as s:
        assert s.scalars(select(Zone.name)).all() == ["a.example"]
    assert db.ping()
    db.dispose()


def test_sqlite_writers_wait_for_each_other(tmp_path) -> None:
    """Concurrent read-then-write transactions queue on the write lock instead of failing."""
    url = f"sqlite:///{tmp_path / 'w.db'}"
    db = Database(url)
    db.upgrade()
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def work(i: int) -> None:
        try:
            start.wait()
            for j in range(10):
                with db.session(write=True) as s:
                    n = s.scalar(select(func.count()).select_from(Zone))
                    s.add(_zone(f"z{i}-{j}-{n}.example"))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Zone)) == 40
    db.dispose()
