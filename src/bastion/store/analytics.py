"""The analytics store: the request log and its rollups on DuckDB or ClickHouse.

``open_analytics(url)`` picks the engine from the URL:

* ``duckdb:///path/file.duckdb`` (or ``duckdb:///:memory:``): embedded, the default;
* ``clickhouse://user:password@host:8123/database`` (``clickhouses://`` for TLS): a
  ClickHouse server through ``clickhouse-connect``;
* ``chdb:///path/dir``: ClickHouse's own engine embedded in the process (``chdb``), which
  runs exactly the ClickHouse statements (used by the tests, as no server runs there).

Both engines run the same statements from :mod:`bastion.analytics.queries`; only the
table definitions and bulk inserts differ. An embedded DuckDB file can be opened by one
process at a time, so each operation opens it, works and closes it, waiting (bounded)
while another worker process holds it.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import orjson
from sqlalchemy import text

from bastion.analytics.queries import (
    CLICKHOUSE,
    DUCKDB,
    MINUTE_MS,
    OLDEST_RAW,
    WATERMARK,
    Dialect,
    Query,
    delete_before,
    rollup_insert,
)
from bastion.analytics.record import COLUMN_NAMES, COLUMNS, RequestRecord
from bastion.store.db import Database

#: How long an operation waits for another process holding the DuckDB file.
_LOCK_WAIT_S = 10.0
#: Most minutes one rollup pass covers (a store that was down catches up in steps, and
#: the DuckDB file is not held for long).
_ROLLUP_MAX_MINUTES = 60


class AnalyticsError(RuntimeError):
    """The analytics store is misconfigured or unreachable."""


_DUCK_TYPES = {"str": "VARCHAR", "int": "BIGINT"}
_SMALL = {"score", "sqli", "xss", "rce", "body_truncated"}


class AnalyticsStore(ABC):
    """A request log with rollups; subclasses provide the engine."""

    dialect: Dialect
    #: The URL with any password removed (for logs).
    label: str

    @abstractmethod
    def fetch(self, query: Query) -> list[tuple[Any, ...]]:
        """The rows of a query."""

    @abstractmethod
    def execute(self, query: Query) -> None:
        """Run a statement that returns nothing."""

    @abstractmethod
    def insert_columns(self, columns: Mapping[str, Sequence[Any]]) -> None:
        """Append rows given column-wise (every column of :data:`COLUMNS`)."""

    def close(self) -> None:  # noqa: B027 - optional
        """Release connections."""

    @contextmanager
    def session(self) -> Iterator[None]:
        """Keep the store open across several operations (a no-op where that is free)."""
        yield

    def insert(self, records: Sequence[RequestRecord]) -> None:
        """Append logged requests."""
        if not records:
            return
        rows = [r.as_row() for r in records]
        columns = {name: [row[i] for row in rows] for i, name in enumerate(COLUMN_NAMES)}
        self.insert_columns(columns)

    def watermark(self) -> int | None:
        """Start (epoch ms) of the newest rolled-up minute, ``None`` before any rollup."""
        count, value = self.fetch(WATERMARK)[0]
        return int(value) if int(count) and value is not None else None

    def rollup(self, now_ms: int, *, grace_ms: int = MINUTE_MS) -> int:
        """Roll up every whole minute that ended ``grace_ms`` before ``now_ms`` and is not
        rolled up yet; returns how many minutes were covered."""
        mark = self.watermark()
        if mark is None:
            count, oldest = self.fetch(OLDEST_RAW)[0]
            if not int(count) or oldest is None:
                return 0
            lo = int(oldest) - int(oldest) % MINUTE_MS
        else:
            lo = mark + MINUTE_MS
        end = now_ms - grace_ms
        hi = end - end % MINUTE_MS
        hi = min(hi, lo + _ROLLUP_MAX_MINUTES * MINUTE_MS)
        if hi <= lo:
            return 0
        self.execute(rollup_insert(lo, hi))
        # A marker row for the last minute rolled: the watermark advances even when that
        # minute had no traffic, so it is not scanned again.
        self._mark(hi - MINUTE_MS)
        return (hi - lo) // MINUTE_MS

    def _mark(self, minute_ms: int) -> None:
        self.execute(
            Query(
                "INSERT INTO request_minutes (zone, minute_ms, dim, key, n) "
                "VALUES ('', :m, 'watermark', '', 0)",
                {"m": minute_ms},
                {"m": "int"},
            )
        )

    def apply_retention(self, now_ms: int, days: float) -> None:
        """Delete raw rows and rollups older than ``days``."""
        cutoff = now_ms - int(days * 86_400_000)
        for statement in delete_before(cutoff):
            self.execute(statement)


class DuckDBStore(AnalyticsStore):
    """The embedded engine: one DuckDB file (or memory)."""

    dialect = DUCKDB

    def __init__(self, path: str, *, exclusive: bool = False) -> None:
        """``exclusive``: hold the file open for the store's lifetime (one process uses
        it; each write is then a WAL append instead of an open, insert, checkpoint and
        close, about 5 times cheaper); otherwise open it per operation."""
        import duckdb

        self._duckdb = duckdb
        self.path = path
        self.label = f"duckdb:///{path}"
        self._lock = threading.RLock()
        self._memory = path in ("", ":memory:")
        self._conn: Any = duckdb.connect(":memory:") if self._memory else None
        if not self._memory:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            if exclusive:
                with self._connection() as conn:
                    self._create(conn)
                self._conn = self._open()
        with self._connection() as conn:
            self._create(conn)

    def _open(self) -> Any:
        deadline = time.monotonic() + _LOCK_WAIT_S
        delay = 0.002
        while True:
            try:
                return self._duckdb.connect(self.path)
            except self._duckdb.IOException as exc:
                if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                    raise AnalyticsError(f"cannot open {self.path}: {exc}") from None
                time.sleep(delay)
                delay = min(delay * 2, 0.05)

    @staticmethod
    def _create(conn: Any) -> None:
        cols = ", ".join(
            f"{name} {'SMALLINT' if name in _SMALL else _DUCK_TYPES[kind]}"
            for name, kind in COLUMNS
        )
        conn.execute(f"CREATE TABLE IF NOT EXISTS requests ({cols})")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS request_minutes (zone VARCHAR, minute_ms BIGINT, "
            "dim VARCHAR, key VARCHAR, n BIGINT)"
        )

    @contextmanager
    def _connection(self) -> Iterator[Any]:
        with self._lock:
            if self._conn is not None:
                yield self._conn
                return
            conn = self._open()
            try:
                yield conn
            finally:
                conn.close()

    @contextmanager
    def session(self) -> Iterator[None]:
        """Keep the file open across several operations (one open instead of many)."""
        with self._lock:
            if self._conn is not None:
                yield
                return
            with self._connection() as conn:
                self._conn = conn
                try:
                    yield
                finally:
                    self._conn = None

    def rollup(self, now_ms: int, *, grace_ms: int = MINUTE_MS) -> int:
        with self.session():  # one open of the file for the whole pass, on one thread
            with self._connection() as conn:
                conn.execute("SET threads TO 1")
            try:
                return super().rollup(now_ms, grace_ms=grace_ms)
            finally:
                with self._connection() as conn:
                    conn.execute("RESET threads")

    def fetch(self, query: Query) -> list[tuple[Any, ...]]:
        with self._connection() as conn:
            rows: list[tuple[Any, ...]] = conn.execute(
                query.render(self.dialect), query.bound()
            ).fetchall()
            return rows

    def execute(self, query: Query) -> None:
        with self._connection() as conn:
            conn.execute(query.render(self.dialect), query.bound())

    def insert_columns(self, columns: Mapping[str, Sequence[Any]]) -> None:
        """Rows go through a temporary Parquet file: DuckDB reads it natively, without the
        GIL, where scanning an in-memory Arrow table holds the GIL for tens of
        milliseconds per batch and stalls the worker's event loop."""
        import pyarrow as pa  # type: ignore[import-untyped]
        import pyarrow.parquet as pq  # type: ignore[import-untyped]

        schema = pa.schema(
            [(name, pa.string() if kind == "str" else pa.int64()) for name, kind in COLUMNS]
        )
        batch = pa.table({name: columns[name] for name in COLUMN_NAMES}, schema=schema)
        fd, spool = tempfile.mkstemp(prefix="bastion-analytics-", suffix=".parquet")
        os.close(fd)
        try:
            pq.write_table(batch, spool, compression="none", write_statistics=False)
            with self._connection() as conn:
                held = conn is self._conn
                # One thread for writes (and the checkpoint when the file is closed): the
                # service's workers keep the other cores while the log is written.
                conn.execute("SET threads TO 1")
                try:
                    conn.execute(
                        "INSERT INTO requests SELECT * FROM read_parquet($f)", {"f": spool}
                    )
                finally:
                    if held:
                        conn.execute("RESET threads")
        finally:
            os.unlink(spool)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


_CH_TYPES = {"str": "String", "int": "Int64"}
_CH_LOW = {"zone", "source", "method", "host", "cls", "action", "rule_id", "model_version"}


def clickhouse_ddl() -> list[str]:
    """The ClickHouse tables: raw rows partitioned by day, sorted by zone and time."""
    cols = []
    for name, kind in COLUMNS:
        if name in _SMALL:
            cols.append(f"{name} Int16")
        elif name in _CH_LOW:
            cols.append(f"{name} LowCardinality(String)")
        else:
            cols.append(f"{name} {_CH_TYPES[kind]}")
    return [
        f"CREATE TABLE IF NOT EXISTS requests ({', '.join(cols)}) ENGINE = MergeTree "
        "PARTITION BY intDiv(ts_ms, 86400000) ORDER BY (zone, ts_ms, id)",
        "CREATE TABLE IF NOT EXISTS request_minutes (zone LowCardinality(String), "
        "minute_ms Int64, dim LowCardinality(String), key String, n UInt64) "
        "ENGINE = SummingMergeTree(n) ORDER BY (zone, dim, minute_ms, key)",
    ]


class ClickHouseStore(AnalyticsStore):
    """A ClickHouse server through ``clickhouse-connect`` (HTTP interface)."""

    dialect = CLICKHOUSE

    def __init__(self, url: str) -> None:
        import clickhouse_connect

        parts = urlsplit(url)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        database = parts.path.lstrip("/") or "default"
        try:
            self._client: Any = clickhouse_connect.get_client(
                host=parts.hostname or "localhost",
                port=parts.port or (8443 if parts.scheme == "clickhouses" else 8123),
                username=unquote(parts.username or "default"),
                password=unquote(parts.password or ""),
                database=database,
                secure=parts.scheme == "clickhouses",
                autogenerate_session_id=False,
                connect_timeout=float(query.get("connect_timeout", 10)),
            )
        except Exception as exc:
            raise AnalyticsError(f"cannot reach ClickHouse at {parts.hostname}: {exc}") from None
        self.label = f"{parts.scheme}://{parts.hostname}:{parts.port or ''}/{database}"
        self._lock = threading.Lock()
        for statement in clickhouse_ddl():
            self._client.command(statement)

    def fetch(self, query: Query) -> list[tuple[Any, ...]]:
        with self._lock:
            result = self._client.query(query.render(self.dialect), parameters=query.bound())
            return [tuple(row) for row in result.result_rows]

    def execute(self, query: Query) -> None:
        with self._lock:
            self._client.command(query.render(self.dialect), parameters=query.bound())

    def insert_columns(self, columns: Mapping[str, Sequence[Any]]) -> None:
        data = [list(columns[name]) for name in COLUMN_NAMES]
        with self._lock:
            self._client.insert(
                "requests", data, column_names=list(COLUMN_NAMES), column_oriented=True
            )

    def close(self) -> None:
        self._client.close()


class ChdbStore(AnalyticsStore):
    """ClickHouse's engine embedded in the process (``chdb``), data in a directory.

    chDB allows one session per process; this store is meant for tests and single-process
    use of the ClickHouse statements.
    """

    dialect = CLICKHOUSE

    def __init__(self, path: str) -> None:
        import chdb.session

        Path(path).mkdir(parents=True, exist_ok=True)
        self.label = f"chdb:///{path}"
        make: Any = chdb.session.Session
        self._session: Any = make(path)
        self._lock = threading.Lock()
        for statement in clickhouse_ddl():
            self._session.query(statement, "CSV")

    def _run(self, sql: str, params: dict[str, Any], fmt: str) -> Any:
        # chDB binds {name:Type} parameters like the server; values go as text.
        bound = {k: str(v) for k, v in params.items()}
        with self._lock:
            return self._session.query(sql, fmt, params=bound)

    def fetch(self, query: Query) -> list[tuple[Any, ...]]:
        result = self._run(query.render(self.dialect), query.bound(), "JSONCompact")
        text = result.bytes() if hasattr(result, "bytes") else bytes(result)
        if not text:
            return []
        return [tuple(row) for row in orjson.loads(text)["data"]]

    def execute(self, query: Query) -> None:
        self._run(query.render(self.dialect), query.bound(), "CSV")

    def insert_columns(self, columns: Mapping[str, Sequence[Any]]) -> None:
        n = len(columns[COLUMN_NAMES[0]])
        lines = b"\n".join(
            orjson.dumps({name: columns[name][i] for name in COLUMN_NAMES}) for i in range(n)
        )
        with self._lock:
            self._session.query(
                "INSERT INTO requests FORMAT JSONEachRow\n" + lines.decode("utf-8"), "CSV"
            )

    def close(self) -> None:
        with self._lock:
            self._session.close()


#: PostgreSQL advisory lock key of analytics maintenance ("bastion-a").
_MAINTENANCE_KEY = 0x62617374696F6E61


def maintenance_lock(database: Database) -> Callable[[], AbstractContextManager[bool]]:
    """A lock shared by every process of a deployment, taken without waiting around
    rollups: a PostgreSQL advisory lock, or a lock file beside the SQLite database (its
    workers share one host). The context yields whether this process got it."""
    url = database.engine.url
    if url.get_backend_name() == "postgresql":

        @contextmanager
        def advisory() -> Iterator[bool]:
            with database.engine.connect() as conn:
                got = bool(
                    conn.execute(
                        text("SELECT pg_try_advisory_lock(:k)"), {"k": _MAINTENANCE_KEY}
                    ).scalar()
                )
                try:
                    yield got
                finally:
                    if got:
                        conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _MAINTENANCE_KEY})
                    conn.commit()

        return advisory
    path = url.database
    if not path or path == ":memory:":
        lock = threading.Lock()

        @contextmanager
        def local() -> Iterator[bool]:
            got = lock.acquire(blocking=False)
            try:
                yield got
            finally:
                if got:
                    lock.release()

        return local
    lock_path = Path(path).with_name(Path(path).name + ".analytics-lock")

    @contextmanager
    def file_lock() -> Iterator[bool]:
        with open(lock_path, "a+b") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    return file_lock


def default_url(database_url: str) -> str:
    """The embedded store beside the SQLite database file; in memory otherwise (with
    PostgreSQL, set ``analytics_url``: each worker would keep its own in-memory store)."""
    if database_url.startswith("sqlite:///") and ":memory:" not in database_url:
        db_path = Path(database_url.removeprefix("sqlite:///").split("?", 1)[0])
        return f"duckdb:///{db_path.with_name(db_path.stem + '-analytics.duckdb')}"
    return "duckdb:///:memory:"


def open_analytics(url: str, *, exclusive: bool = False) -> AnalyticsStore:
    """The store a URL names (see the module docstring); ``exclusive``: this process alone
    uses it (a DuckDB file is then held open)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise AnalyticsError(
            f"analytics URL {url!r} has no scheme: use duckdb:///path, chdb:///path or "
            "clickhouse://host:8123/database"
        )
    if scheme == "duckdb":
        path = rest.removeprefix("/") if rest.startswith("/:memory:") else rest
        return DuckDBStore(path, exclusive=exclusive)
    if scheme == "chdb":
        return ChdbStore(rest)
    if scheme in ("clickhouse", "clickhouses"):
        return ClickHouseStore(url)
    raise AnalyticsError(
        f"unknown analytics engine {scheme!r}: use duckdb://, chdb:// or clickhouse://"
    )
