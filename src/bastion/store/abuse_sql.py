"""SQL helpers shared by the abuse desk's storage modules (parameterized statements only)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, cast

from psycopg import sql as pgsql
from sqlalchemy import JSON, BigInteger, Integer, Table, any_, bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from bastion.abuse.routing import Recipient
from bastion.store.abuse_models import (
    AbuseCase,
    AbuseCaseAction,
    AbuseCaseReport,
    AbuseReport,
    AbuseReporter,
)
from bastion.store.content_models import OutboxMessage

#: Outbox kind of notices to site owners and hosts (delivered to ``content_notify_url``).
NOTICE_KIND = "abuse_notice"
#: Outbox kind of CSAM reports: the content scanner's report adapter.
CSAM_KIND = "report"
CHUNK = 500

REPORTS = cast(Table, AbuseReport.__table__)
CASES = cast(Table, AbuseCase.__table__)
LINKS = cast(Table, AbuseCaseReport.__table__)
ACTIONS = cast(Table, AbuseCaseAction.__table__)
REPORTERS = cast(Table, AbuseReporter.__table__)
OUTBOX = cast(Table, OutboxMessage.__table__)


def now_utc() -> datetime:
    return datetime.now(UTC)


def insert(session: Session, table: Table) -> Any:
    """The dialect's INSERT (for ``ON CONFLICT``)."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def notice_row(
    key: str,
    recipient: Recipient,
    zone: str | None,
    body: dict[str, Any],
    now: datetime,
    due: datetime,
) -> dict[str, Any]:
    return {
        "kind": NOTICE_KIND,
        "key": key,
        "zone": zone,
        "payload": {
            "recipient": recipient.id,
            "audience": recipient.audience.value,
            "contact": recipient.contact,
            **body,
        },
        "created_at": now,
        "attempts": 0,
        "next_attempt_at": due,
        "delivered_at": None,
        "last_error": None,
    }


def bulk_insert(
    session: Session,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    conflict: Sequence[str] = (),
    add: Sequence[str] = (),
    replace: Sequence[str] = (),
    returning: Sequence[str] = (),
) -> list[tuple[Any, ...]]:
    """INSERT ``rows`` with ``ON CONFLICT (conflict) DO NOTHING`` (or ``DO UPDATE``: the
    ``add`` columns summed, the ``replace`` columns overwritten); the ``returning`` columns
    of the rows actually inserted (or updated).

    PostgreSQL: the rows are COPied into a temporary staging table of this connection, then
    moved with one ``INSERT ... SELECT ... ON CONFLICT`` (values travel as COPY data, never
    as SQL text; identifiers are the models' own, quoted by ``psycopg.sql``). SQLite:
    SQLAlchemy's multi-row INSERT with bound parameters.
    """
    if not rows:
        return []
    names = list(rows[0])
    unknown = {*names, *conflict, *add, *replace, *returning} - set(table.c.keys())
    if unknown:
        raise ValueError(f"not columns of {table.name}: {sorted(unknown)}")
    if session.get_bind().dialect.name == "postgresql":
        return _pg_bulk_insert(session, table, rows, names, conflict, add, replace, returning)
    stmt = sqlite.insert(table)
    if add or replace:
        updates = {c: table.c[c] + stmt.excluded[c] for c in add}
        updates |= {c: stmt.excluded[c] for c in replace}
        stmt = stmt.on_conflict_do_update(index_elements=list(conflict), set_=updates)
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(conflict) or None)
    conn = session.connection()
    out: list[tuple[Any, ...]] = []
    for chunk in chunks(rows):
        if returning:
            result = conn.execute(stmt.returning(*[table.c[c] for c in returning]), chunk)
            out.extend(tuple(r) for r in result)
        else:
            conn.execute(stmt, chunk)
    return out


def _idents(names: Iterable[str]) -> pgsql.Composed:
    return pgsql.SQL(", ").join(pgsql.Identifier(n) for n in names)


def _pg_bulk_insert(
    session: Session,
    table: Table,
    rows: Sequence[dict[str, Any]],
    names: list[str],
    conflict: Sequence[str],
    add: Sequence[str],
    replace: Sequence[str],
    returning: Sequence[str],
) -> list[tuple[Any, ...]]:
    cols = _idents(names)
    digest = hashlib.sha256(",".join(names).encode()).hexdigest()[:8]
    stage = pgsql.Identifier(f"_bastion_stage_{table.name}_{digest}")
    target = pgsql.Identifier(table.name)
    raw = session.connection().connection.driver_connection
    assert raw is not None
    json_cols = {n for n in names if isinstance(table.c[n].type, JSON)}
    with raw.cursor() as cur:
        cur.execute(
            pgsql.SQL(
                "CREATE TEMP TABLE IF NOT EXISTS {} ON COMMIT DELETE ROWS AS "
                "SELECT {} FROM {} WITH NO DATA"
            ).format(stage, cols, target)
        )
        cur.execute(pgsql.SQL("TRUNCATE {}").format(stage))
        with cur.copy(pgsql.SQL("COPY {} ({}) FROM STDIN").format(stage, cols)) as copy:
            for row in rows:
                copy.write_row(
                    [
                        json.dumps(row[n]) if n in json_cols and row[n] is not None else row[n]
                        for n in names
                    ]
                )
        # Rows go in in key order, so concurrent batches lock keys in the same order and
        # cannot deadlock on them.
        order = _idents(conflict or names[:1])
        parts: list[pgsql.Composable] = [
            pgsql.SQL("INSERT INTO {} ({}) SELECT {} FROM {} ORDER BY {} ON CONFLICT").format(
                target, cols, cols, stage, order
            )
        ]
        if conflict:
            parts.append(pgsql.SQL("({})").format(_idents(conflict)))
        if add or replace:
            sets = [
                pgsql.SQL("{} = {}.{} + EXCLUDED.{}").format(
                    pgsql.Identifier(c), target, pgsql.Identifier(c), pgsql.Identifier(c)
                )
                for c in add
            ] + [
                pgsql.SQL("{} = EXCLUDED.{}").format(pgsql.Identifier(c), pgsql.Identifier(c))
                for c in replace
            ]
            parts.append(pgsql.SQL("DO UPDATE SET {}").format(pgsql.SQL(", ").join(sets)))
        else:
            parts.append(pgsql.SQL("DO NOTHING"))
        if returning:
            parts.append(pgsql.SQL("RETURNING {}").format(_idents(returning)))
        cur.execute(pgsql.SQL(" ").join(parts))
        return [tuple(r) for r in cur.fetchall()] if returning else []


def one_of(session: Session, column: Any, values: Iterable[Any]) -> Any:
    """``column IN values``: one array parameter on PostgreSQL (``= ANY(%s)``, an index
    scan whatever the count, and one statement text), a bound list on SQLite."""
    items = list(values)
    if session.get_bind().dialect.name == "postgresql":
        element = column.type
        if isinstance(element, Integer):
            element = BigInteger()
        return column == any_(bindparam(None, items, type_=ARRAY(element)))
    return column.in_(items)
