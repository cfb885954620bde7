"""Database fixtures shared by the whole suite: SQLite and a real PostgreSQL, plus Redis.

* ``database_url``: a fresh, empty database, once per backend (``sqlite``, ``postgresql``).
* ``database``: the same, migrated, as a :class:`bastion.store.Database` (disposed after).
* ``clean_database``: a migrated :class:`Database` per backend shared by a test module and
  emptied (every table truncated) before each test: much cheaper than ``database``.
* ``postgres_url``: a fresh, empty PostgreSQL database only.
* ``make_database_url("sqlite" | "postgresql")``: session-scoped factory, for module-scoped
  fixtures (``@pytest.fixture(scope="module")`` calling it once).
* ``redis_url``: the real Redis; use a unique key prefix (``unique_prefix``) per test.

PostgreSQL: one database ``bastion_test_<random>`` is created per test session from the
maintenance database (``$BASTION_TEST_POSTGRES_URL``, default
``postgresql://postgres@127.0.0.1:5432/postgres``) and dropped at the end; each "fresh
database" is a new schema in it, selected by ``search_path`` in the URL's ``options`` (cheap:
milliseconds). An unreachable PostgreSQL or Redis fails the tests that need it (never a skip).
"""

from __future__ import annotations

import itertools
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError

from bastion.store import Database, normalize_url

POSTGRES_ENV = "BASTION_TEST_POSTGRES_URL"
REDIS_ENV = "BASTION_TEST_REDIS_URL"
_DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
_DEFAULT_REDIS = "redis://127.0.0.1:6379/15"

BACKENDS = ("sqlite", "postgresql")


def _admin_url() -> URL:
    url = normalize_url(os.environ.get(POSTGRES_ENV, _DEFAULT_POSTGRES))
    if url.get_backend_name() != "postgresql":
        pytest.fail(f"{POSTGRES_ENV} must be a postgresql:// URL", pytrace=False)
    return url.set(query={**url.query, "connect_timeout": "5"})


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[URL]:
    """A PostgreSQL database created for this test session (dropped at its end)."""
    admin = _admin_url()
    name = f"bastion_test_{secrets.token_hex(6)}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    problem = None
    try:
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except SQLAlchemyError as exc:
        engine.dispose()
        problem = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
    if problem is not None:
        where = admin.render_as_string(hide_password=True)
        pytest.fail(
            f"PostgreSQL is required for these tests but {where} is unusable: {problem} "
            f"(start it or point {POSTGRES_ENV} at a maintenance database)",
            pytrace=False,
        )
    try:
        yield admin.set(database=name, query={})
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


@pytest.fixture(scope="session")
def make_database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], str]:
    """``make_database_url(backend)`` -> the URL of a new, empty database on that backend."""
    counter = itertools.count()

    def make(backend: str) -> str:
        n = next(counter)
        if backend == "sqlite":
            path: Path = tmp_path_factory.mktemp("db") / f"bastion_{n}.db"
            return f"sqlite:///{path}"
        if backend != "postgresql":
            raise ValueError(f"unknown backend {backend!r}; expected one of {BACKENDS}")
        base: URL = request.getfixturevalue("postgres_database")
        schema = f"t{n}_{secrets.token_hex(4)}"
        engine = create_engine(base, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        finally:
            engine.dispose()
        url = base.set(query={"options": f"-csearch_path={schema}"})
        return url.render_as_string(hide_password=False)

    return make


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, make_database_url: Callable[[str], str]) -> str:
    """A fresh, empty database: once on SQLite (a temp file), once on PostgreSQL."""
    return make_database_url(request.param)


@pytest.fixture
def postgres_url(make_database_url: Callable[[str], str]) -> str:
    """A fresh, empty PostgreSQL database (``postgresql+psycopg://`` URL)."""
    return make_database_url("postgresql")


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """A migrated :class:`Database` on each backend, disposed after the test."""
    db = Database(database_url)
    db.upgrade()
    try:
        yield db
    finally:
        db.dispose()


@pytest.fixture(scope="module", params=BACKENDS)
def module_database(
    request: pytest.FixtureRequest, make_database_url: Callable[[str], str]
) -> Iterator[Database]:
    """A migrated :class:`Database` per backend, shared by the tests of one module."""
    db = Database(make_database_url(request.param))
    db.upgrade()
    try:
        yield db
    finally:
        db.dispose()


@pytest.fixture
def clean_database(module_database: Database) -> Database:
    """``module_database`` with every table emptied (the schema stays at head)."""
    tables = [
        t for t in inspect(module_database.engine).get_table_names() if t != "alembic_version"
    ]
    if module_database.dialect == "postgresql":
        with module_database.engine.begin() as conn:
            names = ", ".join(f'"{t}"' for t in tables)
            conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    else:
        with module_database.engine.connect() as conn:
            raw = conn.connection.driver_connection
            assert raw is not None
            raw.execute("PRAGMA foreign_keys = OFF")  # in autocommit mode, so it takes effect
            try:
                for table in tables:
                    raw.execute(f'DELETE FROM "{table}"')
            finally:
                raw.execute("PRAGMA foreign_keys = ON")
    return module_database


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The real Redis (``$BASTION_TEST_REDIS_URL``, default db 15 on 127.0.0.1:6379)."""
    import redis

    url = os.environ.get(REDIS_ENV, _DEFAULT_REDIS)
    client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
    problem = None
    try:
        client.ping()
    except redis.RedisError as exc:
        problem = str(exc)
    finally:
        client.close()
    if problem is not None:
        pytest.fail(
            f"Redis is required for these tests but {_mask_password(url)} is unusable: "
            f"{problem} (start it or set {REDIS_ENV})",
            pytrace=False,
        )
    return url


@pytest.fixture
def unique_prefix() -> str:
    """A key prefix no other test (or test run) shares: ``bastion-test:<random>:``."""
    return f"bastion-test:{secrets.token_hex(6)}:"


def _mask_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return parts._replace(netloc=netloc).geturl()
