"""The database handle: engine, sessions, migrations and a readiness check."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

#: Key of the PostgreSQL advisory lock held while migrating (any constant 64-bit integer).
_MIGRATION_LOCK_KEY = 0x62617374696F6E  # "bastion"
#: Seconds a SQLite connection waits for another writer before giving up.
_SQLITE_BUSY_TIMEOUT_S = 30
#: Execution option asking the SQLite ``begin`` hook for ``BEGIN IMMEDIATE``.
_SQLITE_IMMEDIATE = "bastion_sqlite_immediate"


class DatabaseError(RuntimeError):
    """The database URL is unusable (unknown scheme, malformed)."""


def normalize_url(url: str | URL) -> URL:
    """Parse ``url``; ``postgresql://`` (and ``postgres://``) get the psycopg 3 driver."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseError(f"malformed database URL: {exc}") from None
    backend = parsed.get_backend_name()
    if backend == "postgres":
        parsed = parsed.set(drivername="postgresql")
        backend = "postgresql"
    if backend == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if backend not in ("sqlite", "postgresql"):
        raise DatabaseError(
            f"unsupported database {backend!r}: use sqlite:///path or postgresql://..."
        )
    if parsed.get_driver_name() not in ("pysqlite", "psycopg"):
        raise DatabaseError(
            f"unsupported database driver {parsed.drivername!r}: "
            "use sqlite:// or postgresql:// (psycopg 3)"
        )
    return parsed


def _enable_wal(cur: sqlite3.Cursor) -> None:
    """Switch the file to WAL (persistent), retrying while another connection holds a lock.

    Changing the journal mode does not wait on ``busy_timeout``: with several processes
    opening a new file at once it fails at once with "database is locked".
    """
    deadline = time.monotonic() + _SQLITE_BUSY_TIMEOUT_S
    delay = 0.002
    while True:
        try:
            if cur.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                cur.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.1)


def _sqlite_engine(url: URL, echo: bool) -> Engine:
    in_memory = url.database in (None, "", ":memory:")
    kwargs: dict[str, Any] = {}
    if in_memory:
        # One shared connection, or every session would see its own empty database.
        kwargs["poolclass"] = StaticPool
    engine = create_engine(
        url,
        echo=echo,
        connect_args={"check_same_thread": False, "timeout": _SQLITE_BUSY_TIMEOUT_S},
        **kwargs,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy (the "begin" hook below) issue BEGIN instead of the sqlite3 module,
        # which otherwise defers it and runs DDL outside transactions.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {_SQLITE_BUSY_TIMEOUT_S * 1000}")
        cur.execute("PRAGMA foreign_keys = ON")
        if not in_memory:
            _enable_wal(cur)
            cur.execute("PRAGMA synchronous = NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # IMMEDIATE takes the write lock up front: writers queue on busy_timeout instead of
        # failing when a read transaction later tries to write.
        immediate = conn.get_execution_options().get(_SQLITE_IMMEDIATE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _postgresql_engine(url: URL, echo: bool) -> Engine:
    connect_args: dict[str, Any] = {}
    if "connect_timeout" not in url.query:
        connect_args["connect_timeout"] = 10
    return create_engine(url, echo=echo, pool_pre_ping=True, connect_args=connect_args)


class Database:
    """One database: a connection pool, sessions and the migrations.

    ``Database("sqlite:///bastion.db")``, ``Database("sqlite://")`` (in memory, one shared
    connection: for single-threaded tests) or ``Database("postgresql://user@host/db")``.
    """

    def __init__(self, url: str | URL, *, echo: bool = False) -> None:
        self.url = normalize_url(url)
        self.dialect = self.url.get_backend_name()
        if self.dialect == "sqlite":
            self.engine = _sqlite_engine(self.url, echo)
        else:
            self.engine = _postgresql_engine(self.url, echo)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._write_sessions = sessionmaker(
            self.engine.execution_options(**{_SQLITE_IMMEDIATE: True}), expire_on_commit=False
        )

    def __repr__(self) -> str:
        return f"Database({self.safe_url!r})"

    @property
    def safe_url(self) -> str:
        """The URL with any password masked, for messages and logs."""
        return self.url.render_as_string(hide_password=True)

    @contextmanager
    def session(self, *, write: bool = False) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on an exception.

        Pass ``write=True`` when the transaction writes: on SQLite it then takes the write
        lock at ``BEGIN``, so concurrent writers wait their turn instead of failing.
        """
        factory = self._write_sessions if write else self._sessions
        with factory() as session, session.begin():
            yield session

    def ping(self) -> bool:
        """Whether the database answers ``SELECT 1`` (for readiness probes); never raises."""
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError:
            return False
        return True

    def _alembic_config(self, connection: Connection | None = None) -> Config:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        cfg.set_main_option("path_separator", "os")
        if connection is not None:
            cfg.attributes["connection"] = connection
        return cfg

    def head_revision(self) -> str:
        """The newest migration shipped with this version of bastion."""
        head = ScriptDirectory.from_config(self._alembic_config()).get_current_head()
        assert head is not None
        return head

    def current_revision(self) -> str | None:
        """The migration the database is at; ``None`` for an empty database."""
        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def upgrade(self, revision: str = "head") -> None:
        """Migrate to ``revision`` in one transaction; safe to call from many processes at once.

        PostgreSQL serialises concurrent callers with an advisory lock, SQLite with the
        write lock that ``BEGIN IMMEDIATE`` takes; a caller that waited finds the schema
        already migrated and does nothing.
        """
        with self.engine.connect() as conn:
            if self.dialect == "sqlite":
                conn.execution_options(**{_SQLITE_IMMEDIATE: True})
            with conn.begin():
                if self.dialect == "postgresql":
                    conn.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY}
                    )
                command.upgrade(self._alembic_config(conn), revision)

    def dispose(self) -> None:
        """Close every pooled connection (call on shutdown and after forking)."""
        self.engine.dispose()
