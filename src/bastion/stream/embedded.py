"""The embedded stream: an append-only log in an SQLite file, for a single machine.

No server to run: ``bastion serve`` uses it by default. Every process that opens the same
file shares the log and the durable consumers (SQLite's write lock serialises them), so
several workers consume one durable consumer between them, and nothing published is lost
when a process dies: a delivery that was not acknowledged is handed out again once its
``ack_wait`` has passed.

Tables (created on open): ``events`` (``seq``, unique event ``id``, body), ``consumers``
(name, cursor: the highest ``seq`` handed out), ``pending`` (deliveries not yet
acknowledged: consumer, seq, attempts, when it may be redelivered). A message that was
delivered ``max_deliver`` times without an acknowledgement stays in ``pending`` and is not
delivered again (a poison message; ``dead_letters`` lists them).
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from bastion.abuse.events import Event, EventFormatError
from bastion.stream.base import Delivery, StreamError

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  body BLOB NOT NULL,
  at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS consumers (
  name TEXT PRIMARY KEY,
  cursor INTEGER NOT NULL,
  ack_wait REAL NOT NULL,
  max_deliver INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS pending (
  consumer TEXT NOT NULL,
  seq INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  deliver_after REAL NOT NULL,
  PRIMARY KEY (consumer, seq)
);
CREATE INDEX IF NOT EXISTS ix_pending_due ON pending (consumer, deliver_after);
"""


class EmbeddedStream:
    """An :class:`~bastion.stream.base.EventStream` in one SQLite file (``None``: memory)."""

    def __init__(self, path: Path | str | None = None, *, busy_timeout_s: float = 30.0) -> None:
        self.path = None if path in (None, "", ":memory:") else Path(str(path))
        target = ":memory:" if self.path is None else str(self.path)
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(
            target, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False
        )
        self._lock = threading.Lock()
        with self._lock:
            if self.path is not None:
                self._conn.execute("PRAGMA journal_mode = WAL")
                self._conn.execute("PRAGMA synchronous = FULL")
            self._conn.executescript(_SCHEMA)

    def __repr__(self) -> str:
        return f"EmbeddedStream({str(self.path) if self.path else ':memory:'})"

    # -- plumbing -------------------------------------------------------------------

    def _write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``work`` in one ``BEGIN IMMEDIATE`` transaction."""
        with self._lock:
            conn = self._conn
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    result = work(conn)
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                raise StreamError(f"embedded stream {self!r}: {exc}") from exc
            return result

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        return await asyncio.to_thread(self._write, work)

    # -- EventStream ------------------------------------------------------------------

    async def publish_batch(self, events: Sequence[Event]) -> int:
        """Append ``events`` in one transaction; an event id already stored is skipped."""
        if not events:
            return 0
        now = time.time()
        rows = [(e.id, e.encode(), now) for e in events]

        def work(conn: sqlite3.Connection) -> int:
            conn.executemany("INSERT OR IGNORE INTO events (id, body, at) VALUES (?, ?, ?)", rows)
            return len(rows)

        return await self._run(work)

    async def consumer(
        self, durable: str, *, ack_wait_s: float = 30.0, max_deliver: int = 20
    ) -> EmbeddedConsumer:
        if not durable or len(durable) > 200:
            raise ValueError("a durable consumer needs a name of 1-200 characters")
        if ack_wait_s <= 0 or max_deliver < 1:
            raise ValueError("ack_wait_s must be > 0 and max_deliver >= 1")

        def work(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO consumers (name, cursor, ack_wait, max_deliver) VALUES (?, 0, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET ack_wait = excluded.ack_wait, "
                "max_deliver = excluded.max_deliver",
                (durable, ack_wait_s, max_deliver),
            )

        await self._run(work)
        return EmbeddedConsumer(self, durable, ack_wait_s, max_deliver)

    async def close(self) -> None:
        with self._lock:
            self._conn.close()

    # -- inspection -------------------------------------------------------------------

    def count(self) -> int:
        """Events stored."""
        with self._lock:
            (n,) = self._conn.execute("SELECT COUNT(*) FROM events").fetchone()
        return int(n)

    def dead_letters(self, durable: str) -> list[str]:
        """Ids of events ``durable`` gave up on (delivered ``max_deliver`` times)."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT e.id FROM pending p JOIN consumers c ON c.name = p.consumer "
                "JOIN events e ON e.seq = p.seq "
                "WHERE p.consumer = ? AND p.attempts >= c.max_deliver ORDER BY p.seq",
                (durable,),
            ).fetchall()
        return [r[0] for r in rows]

    def purge(self, older_than_s: float) -> int:
        """Delete events older than ``older_than_s`` that every consumer has acknowledged."""
        cutoff = time.time() - older_than_s

        def work(conn: sqlite3.Connection) -> int:
            cur = conn.execute(
                "DELETE FROM events WHERE at < ? "
                "AND seq <= (SELECT COALESCE(MIN(cursor), 0) FROM consumers) "
                "AND seq NOT IN (SELECT seq FROM pending)",
                (cutoff,),
            )
            return cur.rowcount

        return self._write(work)


class EmbeddedConsumer:
    """A durable pull consumer of an :class:`EmbeddedStream`."""

    def __init__(
        self, stream: EmbeddedStream, name: str, ack_wait_s: float, max_deliver: int
    ) -> None:
        self.stream = stream
        self.name = name
        self.ack_wait_s = ack_wait_s
        self.max_deliver = max_deliver

    def _claim(self, conn: sqlite3.Connection, limit: int) -> list[tuple[int, int, bytes]]:
        now = time.time()
        until = now + self.ack_wait_s
        due = conn.execute(
            "SELECT seq, attempts FROM pending WHERE consumer = ? AND deliver_after <= ? "
            "AND attempts < ? ORDER BY seq LIMIT ?",
            (self.name, now, self.max_deliver, limit),
        ).fetchall()
        claimed = [(seq, attempts + 1) for seq, attempts in due]
        conn.executemany(
            "UPDATE pending SET attempts = ?, deliver_after = ? WHERE consumer = ? AND seq = ?",
            [(attempts, until, self.name, seq) for seq, attempts in claimed],
        )
        room = limit - len(claimed)
        if room > 0:
            (cursor,) = conn.execute(
                "SELECT cursor FROM consumers WHERE name = ?", (self.name,)
            ).fetchone()
            fresh = conn.execute(
                "SELECT seq FROM events WHERE seq > ? ORDER BY seq LIMIT ?", (cursor, room)
            ).fetchall()
            if fresh:
                conn.executemany(
                    "INSERT INTO pending (consumer, seq, attempts, deliver_after) "
                    "VALUES (?, ?, 1, ?)",
                    [(self.name, seq, until) for (seq,) in fresh],
                )
                conn.execute(
                    "UPDATE consumers SET cursor = ? WHERE name = ?", (fresh[-1][0], self.name)
                )
                claimed += [(seq, 1) for (seq,) in fresh]
        if not claimed:
            return []
        bodies: dict[int, bytes] = {}
        seqs = [seq for seq, _ in claimed]
        for start in range(0, len(seqs), 500):
            chunk = seqs[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for seq, body in conn.execute(
                f"SELECT seq, body FROM events WHERE seq IN ({marks})",  # noqa: S608 - only '?'
                chunk,
            ):
                bodies[seq] = body
        return [(seq, attempts, bodies[seq]) for seq, attempts in claimed if seq in bodies]

    async def fetch(self, max_messages: int = 100, timeout_s: float = 1.0) -> list[Delivery]:
        if max_messages < 1:
            raise ValueError("max_messages must be >= 1")
        deadline = time.monotonic() + max(0.0, timeout_s)
        delay = 0.002
        while True:
            rows = await self.stream._run(lambda conn: self._claim(conn, max_messages))
            if rows or time.monotonic() >= deadline:
                break
            await asyncio.sleep(min(delay, max(0.0, deadline - time.monotonic())))
            delay = min(delay * 2, 0.05)
        out: list[Delivery] = []
        bad: list[int] = []
        for seq, attempts, body in rows:
            try:
                out.append(Delivery((Event.decode(body),), attempts, seq))
            except EventFormatError:
                bad.append(seq)  # cannot be processed by anyone: acknowledged at once
        if bad:
            await self._ack_seqs(bad)
        return out

    async def _ack_seqs(self, seqs: list[int]) -> None:
        def work(conn: sqlite3.Connection) -> None:
            conn.executemany(
                "DELETE FROM pending WHERE consumer = ? AND seq = ?",
                [(self.name, seq) for seq in seqs],
            )

        await self.stream._run(work)

    async def ack(self, deliveries: Sequence[Delivery]) -> None:
        if deliveries:
            await self._ack_seqs([int(d.handle) for d in deliveries])

    async def close(self) -> None:
        return None
