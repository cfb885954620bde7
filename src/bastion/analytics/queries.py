"""The analytics queries and rollups, written once in a portable SQL subset.

Every statement uses only what DuckDB and ClickHouse both understand (integer epoch
milliseconds instead of timestamp functions, ``%`` for bucketing, ``CASE``, ``UNION ALL``,
``greatest``/``least``) plus two dialect hooks that :class:`Dialect` rewrites:

* parameters are written ``:name`` and become ``$name`` (DuckDB) or ``{name:Type}``
  (ClickHouse, typed from the query's declared parameter types);
* ``STARTS_WITH(a, b)`` becomes ``starts_with`` (DuckDB) or ``startsWith`` (ClickHouse).

Identifiers and SQL fragments formatted into the text come only from this module's
constants (hence the ``S608`` exemptions); every value is a bound parameter. ``LIMIT``
values are integers formatted into the text (ClickHouse does not
bind them everywhere).

Counts use per-minute rollups (table ``request_minutes``: zone, minute, dimension, key,
count) for complete minutes below the rollup *watermark* and the raw ``requests`` table
above it, so answers are exact and fresh without scanning all raw rows.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS
#: Width of score histogram buckets (1-5, 6-10, ..., 96-99; unscored requests excluded).
HIST_WIDTH = 5
HIST_BUCKETS: tuple[int, ...] = tuple(range(1, 100, HIST_WIDTH))
VECTOR_COLUMNS: tuple[str, ...] = ("score", "sqli", "xss", "rce")
ATTACK_CLASSES: tuple[str, ...] = ("attack", "likely_attack")

ParamType = Literal["int", "str"]

_PARAM = re.compile(r"(?<![:\w]):([a-z_][a-z0-9_]*)")
_CH_TYPES = {"int": "Int64", "str": "String"}


@dataclass(frozen=True)
class Dialect:
    """How one engine spells parameters and the few functions that differ."""

    name: Literal["duckdb", "clickhouse"]

    def render(self, sql: str, types: Mapping[str, ParamType]) -> str:
        """``sql`` in this dialect; every ``:name`` must be declared in ``types``."""

        def param(m: re.Match[str]) -> str:
            name = m.group(1)
            if name not in types:
                raise KeyError(f"parameter :{name} has no declared type")
            if self.name == "duckdb":
                return f"${name}"
            return f"{{{name}:{_CH_TYPES[types[name]]}}}"

        out = _PARAM.sub(param, sql)
        fn = "starts_with" if self.name == "duckdb" else "startsWith"
        return out.replace("STARTS_WITH(", f"{fn}(")


DUCKDB = Dialect("duckdb")
CLICKHOUSE = Dialect("clickhouse")


@dataclass(frozen=True)
class Query:
    """One statement with its parameters (values and portable types)."""

    sql: str
    params: dict[str, Any] = field(default_factory=dict)
    types: dict[str, ParamType] = field(default_factory=dict)

    def render(self, dialect: Dialect) -> str:
        """The statement in ``dialect``."""
        return dialect.render(self.sql, self.types)

    def bound(self) -> dict[str, Any]:
        """The parameters the statement uses (engines refuse unused ones)."""
        names = set(_PARAM.findall(self.sql))
        return {k: v for k, v in self.params.items() if k in names}


def _band(col: str) -> str:
    return (
        f"CASE WHEN {col} >= 100 THEN 'unscored' WHEN {col} <= 20 THEN 'attack' "
        f"WHEN {col} <= 50 THEN 'likely_attack' WHEN {col} <= 80 THEN 'likely_clean' "
        "ELSE 'clean' END"
    )


def _hist_key(col: str) -> str:
    return f"CAST({col} - ({col} - 1) % {HIST_WIDTH} AS VARCHAR)"


@dataclass(frozen=True)
class Dimension:
    """One rollup dimension: the key expression over ``requests`` and a row filter."""

    name: str
    key: str
    where: str = "1 = 1"


_ATTACKED = "cls IN ('attack', 'likely_attack')"
#: What the per-minute rollups count, per zone.
DIMENSIONS: dict[str, Dimension] = {
    d.name: d
    for d in (
        Dimension("class", "cls"),
        Dimension("action", "action"),
        *(Dimension(f"{v}_class", _band(v)) for v in ("sqli", "xss", "rce")),
        *(Dimension(f"hist_{v}", _hist_key(v), f"{v} < 100") for v in VECTOR_COLUMNS),
        Dimension("path", "path"),
        Dimension("attacked_path", "path", _ATTACKED),
        Dimension("client", "client"),
        Dimension("attacked_client", "client", _ATTACKED),
    )
}


def rollup_insert(lo_ms: int, hi_ms: int) -> Query:
    """Insert the per-minute counts of ``[lo_ms, hi_ms)`` (whole minutes) into the rollup."""
    parts = [
        f"SELECT zone, ts_ms - ts_ms % {MINUTE_MS} AS minute_ms, '{d.name}' AS dim, "  # noqa: S608
        f"{d.key} AS key, count(*) AS n FROM requests "
        f"WHERE ts_ms >= :lo AND ts_ms < :hi AND {d.where} "
        f"GROUP BY zone, ts_ms - ts_ms % {MINUTE_MS}, {d.key}"
        for d in DIMENSIONS.values()
    ]
    sql = "INSERT INTO request_minutes (zone, minute_ms, dim, key, n) " + " UNION ALL ".join(parts)
    return Query(sql, {"lo": lo_ms, "hi": hi_ms}, {"lo": "int", "hi": "int"})


# With the count: ClickHouse answers max() over no rows with 0, not NULL.
WATERMARK = Query("SELECT count(*), max(minute_ms) FROM request_minutes")
OLDEST_RAW = Query("SELECT count(*), min(ts_ms) FROM requests")


def delete_before(cutoff_ms: int) -> list[Query]:
    """Retention: the statements removing raw rows and rollups older than ``cutoff_ms``."""
    types: dict[str, ParamType] = {"cutoff": "int"}
    p = {"cutoff": cutoff_ms}
    return [
        Query("DELETE FROM requests WHERE ts_ms < :cutoff", p, types),
        Query("DELETE FROM request_minutes WHERE minute_ms < :cutoff", p, types),
    ]


@dataclass(frozen=True)
class Window:
    """A zone's time range split at the rollup watermark.

    ``[since, rolled_until)`` is answered from the rollups, ``[raw_since, until)`` from raw
    rows; ``since`` is floored to the minute so rollup minutes are whole.
    """

    zone: str
    since: int
    until: int
    rolled_until: int
    raw_since: int

    @classmethod
    def split(cls, zone: str, since_ms: int, until_ms: int, watermark: int | None) -> Window:
        """``watermark`` is the start of the newest rolled-up minute (``None``: none)."""
        since = since_ms - since_ms % MINUTE_MS
        edge = since if watermark is None else max(since, min(until_ms, watermark + MINUTE_MS))
        return cls(zone, since, until_ms, edge, edge)

    def params(self) -> tuple[dict[str, Any], dict[str, ParamType]]:
        values = {
            "zone": self.zone,
            "since": self.since,
            "until": self.until,
            "rolled_until": self.rolled_until,
            "raw_since": self.raw_since,
        }
        types: dict[str, ParamType] = {k: "int" for k in values}
        types["zone"] = "str"
        return values, types


def _hybrid(dims: Sequence[str], window: Window, bucket_ms: int | None) -> tuple[str, str]:
    """The union of rollup rows and raw rows for ``dims``: columns (bucket, dim, key, n)."""
    rolled_bucket = f"minute_ms - minute_ms % {bucket_ms}" if bucket_ms else "0"
    raw_bucket = f"ts_ms - ts_ms % {bucket_ms}" if bucket_ms else "0"
    # No constant in GROUP BY: both engines read an integer there as a column position.
    group = f"{raw_bucket}, " if bucket_ms else ""
    names = ", ".join(f"'{d}'" for d in dims)
    rolled = (
        f"SELECT {rolled_bucket} AS bucket, dim, key, n FROM request_minutes "  # noqa: S608
        f"WHERE zone = :zone AND dim IN ({names}) "
        "AND minute_ms >= :since AND minute_ms < :rolled_until"
    )
    raws = [
        f"SELECT {raw_bucket} AS bucket, '{d}' AS dim, {DIMENSIONS[d].key} AS key, "  # noqa: S608
        "count(*) AS n FROM requests WHERE zone = :zone AND ts_ms >= :raw_since "
        f"AND ts_ms < :until AND {DIMENSIONS[d].where} GROUP BY {group}{DIMENSIONS[d].key}"
        for d in dims
    ]
    return rolled, " UNION ALL ".join(raws)


def series(dim: str, window: Window, bucket_ms: int) -> Query:
    """Counts of ``dim``'s keys per time bucket: rows ``(bucket_ms, key, count)``."""
    rolled, raw = _hybrid([dim], window, bucket_ms)
    sql = (
        f"SELECT bucket, key, sum(n) AS total FROM ({rolled} UNION ALL {raw}) "  # noqa: S608
        "GROUP BY bucket, key ORDER BY bucket, key"
    )
    values, types = window.params()
    return Query(sql, values, types)


def totals(dims: Sequence[str], window: Window) -> Query:
    """Counts of each key of ``dims`` over the window: rows ``(dim, key, count)``."""
    rolled, raw = _hybrid(dims, window, None)
    sql = (
        f"SELECT dim, key, sum(n) AS total FROM ({rolled} UNION ALL {raw}) "  # noqa: S608
        "GROUP BY dim, key ORDER BY dim, key"
    )
    values, types = window.params()
    return Query(sql, values, types)


def top(dim: str, window: Window, limit: int) -> Query:
    """The ``limit`` most frequent keys of ``dim``: rows ``(key, count)``."""
    rolled, raw = _hybrid([dim], window, None)
    sql = (
        f"SELECT key, sum(n) AS total FROM ({rolled} UNION ALL {raw}) "  # noqa: S608
        f"GROUP BY key ORDER BY total DESC, key LIMIT {int(limit)}"
    )
    values, types = window.params()
    return Query(sql, values, types)


#: Columns of a sampled request in list answers (the request itself is left out).
LIST_COLUMNS: tuple[str, ...] = (
    "id",
    "ts_ms",
    "zone",
    "source",
    "request_id",
    "method",
    "host",
    "path",
    "query",
    "client",
    "score",
    "sqli",
    "xss",
    "rce",
    "cls",
    "action",
    "rule_id",
    "model_version",
    "explanation",
)


@dataclass(frozen=True)
class SampleFilter:
    """Which sampled requests a list shows."""

    classes: tuple[str, ...] = ()
    actions: tuple[str, ...] = ()
    path_prefix: str | None = None
    rule_id: str | None = None


def sampled(
    zone: str,
    since_ms: int,
    until_ms: int,
    flt: SampleFilter,
    limit: int,
    after: tuple[int, str] | None = None,
) -> Query:
    """Sampled requests, newest first, ``limit`` of them after the cursor ``after``
    (``(ts_ms, id)`` of the last row of the previous page)."""
    params: dict[str, Any] = {"zone": zone, "since": since_ms, "until": until_ms}
    types: dict[str, ParamType] = {"zone": "str", "since": "int", "until": "int"}
    where = ["zone = :zone", "ts_ms >= :since", "ts_ms < :until"]
    for column, values in (("cls", flt.classes), ("action", flt.actions)):
        if values:
            names = []
            for i, value in enumerate(values):
                key = f"{column}_{i}"
                params[key], types[key] = value, "str"
                names.append(f":{key}")
            where.append(f"{column} IN ({', '.join(names)})")
    if flt.path_prefix:
        params["path_prefix"], types["path_prefix"] = flt.path_prefix, "str"
        where.append("STARTS_WITH(path, :path_prefix)")
    if flt.rule_id is not None:
        params["rule_id"], types["rule_id"] = flt.rule_id, "str"
        where.append("rule_id = :rule_id")
    if after is not None:
        params["c_ts"], params["c_id"] = after
        types["c_ts"], types["c_id"] = "int", "str"
        where.append("(ts_ms < :c_ts OR (ts_ms = :c_ts AND id < :c_id))")
    sql = (
        f"SELECT {', '.join(LIST_COLUMNS)} FROM requests WHERE {' AND '.join(where)} "  # noqa: S608
        f"ORDER BY ts_ms DESC, id DESC LIMIT {int(limit)}"
    )
    return Query(sql, params, types)


def one(zone: str, record_id: str) -> Query:
    """One sampled request of ``zone`` by id, with the request itself.

    Raises ``ValueError`` for an id that :func:`~bastion.analytics.record.new_record_id`
    cannot have made; the time in the id lets the engines skip to the right rows.
    """
    from bastion.analytics.record import COLUMN_NAMES, record_id_time

    ts_ms = record_id_time(record_id)
    sql = (
        f"SELECT {', '.join(COLUMN_NAMES)} FROM requests "  # noqa: S608
        "WHERE zone = :zone AND ts_ms = :ts AND id = :id"
    )
    return Query(
        sql,
        {"zone": zone, "ts": ts_ms, "id": record_id},
        {"zone": "str", "ts": "int", "id": "str"},
    )


#: Columns a dry run of rules reads.
DRY_RUN_COLUMNS: tuple[str, ...] = (
    "id",
    "ts_ms",
    "method",
    "host",
    "path",
    "query",
    "score",
    "sqli",
    "xss",
    "rce",
    "cls",
    "action",
    "rule_id",
)


def minute_counts(window: Window) -> Query:
    """Requests per rolled-up minute of the window, newest first: rows ``(minute_ms, n)``."""
    values, types = window.params()
    sql = (
        "SELECT minute_ms, sum(n) AS total FROM request_minutes WHERE zone = :zone "
        "AND dim = 'class' AND minute_ms >= :since AND minute_ms < :rolled_until "
        "GROUP BY minute_ms ORDER BY minute_ms DESC"
    )
    return Query(sql, values, types)


def raw_tail_count(window: Window) -> Query:
    """How many raw rows lie above the watermark: one row ``(n,)``."""
    values, types = window.params()
    sql = (
        "SELECT count(*) FROM requests WHERE zone = :zone "
        "AND ts_ms >= :raw_since AND ts_ms < :until"
    )
    return Query(sql, values, types)


def newest_start(window: Window, limit: int, tail: int, minutes: Sequence[tuple[Any, Any]]) -> int:
    """The earliest time the newest ``limit`` requests of the window can start at, from the
    raw rows above the watermark (``tail``) and the rolled-up minute counts (newest first):
    a query for them then reads only those minutes."""
    if tail >= limit:
        return window.raw_since
    need = limit - tail
    for minute, n in minutes:
        need -= int(n)
        if need <= 0:
            return max(window.since, int(minute))
    return window.since


def recent(zone: str, since_ms: int, until_ms: int, limit: int) -> Query:
    """The newest ``limit`` sampled requests of the zone (for a rules dry run)."""
    sql = (
        f"SELECT {', '.join(DRY_RUN_COLUMNS)} FROM requests WHERE zone = :zone "  # noqa: S608
        f"AND ts_ms >= :since AND ts_ms < :until ORDER BY ts_ms DESC, id DESC LIMIT {int(limit)}"
    )
    return Query(
        sql,
        {"zone": zone, "since": since_ms, "until": until_ms},
        {"zone": "str", "since": "int", "until": "int"},
    )


def by_ids(zone: str, record_ids: Sequence[str]) -> Query:
    """Full rows (every column) of ``zone`` with these ids (a replay's input)."""
    from bastion.analytics.record import COLUMN_NAMES, record_id_time

    ids = list(dict.fromkeys(record_ids))
    if not ids:
        raise ValueError("no request ids")
    times = [record_id_time(i) for i in ids]
    params: dict[str, Any] = {"zone": zone, "lo": min(times), "hi": max(times)}
    types: dict[str, ParamType] = {"zone": "str", "lo": "int", "hi": "int"}
    names = []
    for n, record_id in enumerate(ids):
        params[f"i{n}"], types[f"i{n}"] = record_id, "str"
        names.append(f":i{n}")
    sql = (
        f"SELECT {', '.join(COLUMN_NAMES)} FROM requests WHERE zone = :zone "  # noqa: S608
        f"AND ts_ms >= :lo AND ts_ms <= :hi AND id IN ({', '.join(names)})"
    )
    return Query(sql, params, types)
