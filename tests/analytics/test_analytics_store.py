"""The analytics queries on known data, on DuckDB and on ClickHouse's engine (chDB)."""

from __future__ import annotations

import pytest
from analytics_kit import NOW, known_records, make_record

from bastion.analytics import queries as q
from bastion.store.analytics import AnalyticsError, AnalyticsStore, default_url, open_analytics

ZONE = "shop.example"


def _window(store: AnalyticsStore, since: int = NOW - 3600_000, until: int = NOW) -> q.Window:
    return q.Window.split(ZONE, since, until, store.watermark())


def _answers(store: AnalyticsStore) -> dict[str, object]:
    w = _window(store)
    return {
        "totals": store.fetch(q.totals(["class", "action", "sqli_class"], w)),
        "series": store.fetch(q.series("class", w, q.HOUR_MS)),
        "minutes": store.fetch(q.series("action", w, q.MINUTE_MS)),
        "top_paths": store.fetch(q.top("path", w, 5)),
        "attacked": store.fetch(q.top("attacked_path", w, 5)),
        "clients": store.fetch(q.top("attacked_client", w, 5)),
        "hist": store.fetch(q.totals(["hist_sqli"], w)),
    }


def test_queries_answer_known_counts(store: AnalyticsStore) -> None:
    store.insert(known_records())
    a = _answers(store)
    totals = {(d, k): int(n) for d, k, n in a["totals"]}  # type: ignore[attr-defined]
    assert totals == {
        ("class", "clean"): 180,
        ("class", "attack"): 30,
        ("action", "allow"): 180,
        ("action", "block"): 30,
        ("sqli_class", "attack"): 30,
        ("sqli_class", "clean"): 180,
    }
    assert [(k, int(n)) for k, n in a["top_paths"]] == [("/home", 180), ("/login", 30)]  # type: ignore[attr-defined]
    assert [(k, int(n)) for k, n in a["attacked"]] == [("/login", 30)]  # type: ignore[attr-defined]
    assert [(k, int(n)) for k, n in a["clients"]] == [("198.51.100.7", 30)]  # type: ignore[attr-defined]
    hist = {k: int(n) for _, k, n in a["hist"]}  # type: ignore[attr-defined]
    assert hist == {"1": 30, "86": 180}  # sqli 3 -> bucket 1-5; 90 -> 86-90
    minutes = a["minutes"]
    assert len({int(b) for b, _, _ in minutes}) == 60  # type: ignore[attr-defined]


def test_rollups_give_the_same_answers_as_raw_rows(store: AnalyticsStore) -> None:
    store.insert(known_records())
    raw = _answers(store)
    assert store.watermark() is None
    covered = store.rollup(NOW + 60_000)
    assert covered >= 60
    assert store.watermark() == NOW - 60_000
    # Rolled up and raw agree, and so does a mix (rows after the watermark are raw).
    assert _answers(store) == raw
    store.insert([make_record(ts_ms=NOW + 1000, path="/late")])
    mixed = store.fetch(q.top("path", _window(store, until=NOW + 2000), 5))
    assert [(k, int(n)) for k, n in mixed] == [("/home", 180), ("/login", 30), ("/late", 1)]
    # A second pass has nothing new to do before the next minute ends.
    assert store.rollup(NOW + 60_000) == 0


def test_ranges_not_on_minutes_and_other_zones_are_kept_apart(store: AnalyticsStore) -> None:
    store.insert(known_records())
    w = q.Window.split("other.example", NOW - 5 * 60_000 + 30_000, NOW, None)
    assert w.since == NOW - 5 * 60_000
    rows = store.fetch(q.totals(["class"], w))
    assert [(k, int(n)) for _, k, n in rows] == [("clean", 5)]
    assert store.fetch(q.totals(["class"], q.Window.split("none.example", 0, NOW, None))) == []


def test_sampled_requests_filter_and_page_newest_first(store: AnalyticsStore) -> None:
    store.insert(known_records())
    flt = q.SampleFilter(classes=("attack",), actions=("block",), path_prefix="/log")
    seen: list[tuple[int, str]] = []
    after = None
    while True:
        rows = store.fetch(q.sampled(ZONE, NOW - 3600_000, NOW, flt, 7, after))
        if not rows:
            break
        seen += [(int(r[1]), r[0]) for r in rows]
        after = seen[-1]
    assert len(seen) == 30 == len(set(seen))
    assert seen == sorted(seen, reverse=True)
    none = q.SampleFilter(path_prefix="/home", rule_id="r1")
    assert store.fetch(q.sampled(ZONE, NOW - 3600_000, NOW, none, 10)) == []
    one = store.fetch(q.one(ZONE, seen[0][1]))
    assert len(one) == 1 and one[0][0] == seen[0][1]
    assert store.fetch(q.one("other.example", seen[0][1])) == []
    with pytest.raises(ValueError, match="not a request id"):
        q.one(ZONE, "x' OR 1=1 --")


@pytest.mark.parametrize("limit", [1, 4, 5, 50, 500])
def test_newest_rows_read_only_the_minutes_they_need(store: AnalyticsStore, limit: int) -> None:
    store.insert(known_records())
    store.rollup(NOW - 10 * 60_000 + 60_000)  # the last 10 minutes stay raw
    w = _window(store)
    assert w.raw_since == NOW - 10 * 60_000
    (tail,) = store.fetch(q.raw_tail_count(w))[0]
    assert int(tail) == 10 * 3 + 5
    start = q.newest_start(w, limit, int(tail), store.fetch(q.minute_counts(w)))
    full = store.fetch(q.recent(ZONE, w.since, NOW, limit))
    narrow = store.fetch(q.recent(ZONE, start, NOW, limit))
    assert narrow == full and len(full) == min(limit, 210)
    assert (start == w.raw_since) == (limit <= 35)
    assert start > w.since or limit > 200


def test_values_are_bound_not_spliced(store: AnalyticsStore) -> None:
    evil = "/a'; DROP TABLE requests; --"
    store.insert([make_record(ts_ms=NOW - 1000, path=evil)])
    flt = q.SampleFilter(path_prefix=evil)
    rows = store.fetch(q.sampled(ZONE, NOW - 60_000, NOW, flt, 5))
    assert [r[7] for r in rows] == [evil]


def test_retention_deletes_old_rows_and_rollups(store: AnalyticsStore) -> None:
    store.insert(known_records())
    store.rollup(NOW + 60_000)
    store.apply_retention(NOW, days=30 / 1440)  # keep the last 30 minutes
    w = _window(store)
    totals = {(d, k): int(n) for d, k, n in store.fetch(q.totals(["class"], w))}
    assert totals == {("class", "clean"): 90, ("class", "attack"): 15}
    (count,) = store.fetch(q.Query("SELECT count(*) FROM requests"))[0]
    assert int(count) == 90 + 15 + 10  # other.example's 10 minutes are all within 30
    (rolled,) = store.fetch(q.Query("SELECT count(*) FROM request_minutes WHERE minute_ms < 0"))[0]
    old = store.fetch(
        q.Query(
            "SELECT count(*) FROM request_minutes WHERE minute_ms < :c",
            {"c": NOW - 30 * 60_000},
            {"c": "int"},
        )
    )
    assert int(old[0][0]) == 0 == int(rolled)


def test_store_urls(tmp_path: object) -> None:
    assert default_url("sqlite:////srv/bastion/bastion.db") == (
        "duckdb:////srv/bastion/bastion-analytics.duckdb"
    )
    assert default_url("postgresql://db/bastion") == "duckdb:///:memory:"
    with pytest.raises(AnalyticsError, match="unknown analytics engine"):
        open_analytics("mysql://x")
    with pytest.raises(AnalyticsError, match="no scheme"):
        open_analytics("/tmp/x.duckdb")
