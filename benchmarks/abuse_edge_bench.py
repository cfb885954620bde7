"""The edge check's cost with the abuse desk's rules loaded: legal orders and case actions.

Usage:
    .venv/bin/python benchmarks/abuse_edge_bench.py [--orders N] [--cases M] [--requests R]

A SQLite database gets ``N`` legal orders (each 2 URLs and 1 host, 3 countries) and ``M``
actioned cases (block, geo_block, interstitial in turn); :class:`EdgeEnforcement` loads
them (timed), then answers
``R`` edge subrequests of four kinds, timed per call (median and p99, microseconds):

* ``miss_host``: a host with no rule (most traffic);
* ``miss_path``: a host with rules, another path;
* ``hit_order``: a URL under an order, from a listed country (a 451);
* ``hit_case``: a URL under a case block (a 451).

Also timed: a reload when nothing changed (what each worker does every
``abuse_enforcement_refresh_s``: one signature query) and one after a change (the full
rebuild). A distinct path per request (``miss_path_distinct``) shows the cost of path
canonicalization on a host that has rules.

Peer in the same run: the same lookups with no rule loaded, and the WAF scoring of one
request (``ScoringService.judge``), which every edge check that passes pays anyway.
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert

from bastion.rules import DEFAULT_RULE_SPECS, compile_rules
from bastion.service.abuse_edge import EdgeEnforcement
from bastion.service.scoring import ScoringService
from bastion.store import Database
from bastion.store.abuse_models import AbuseCase
from bastion.store.abuse_orders_models import AbuseLegalOrder
from bastion.waf.request import HttpRequest
from bastion.waf.scorer import load_scorer

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def populate(db: Database, orders: int, cases: int) -> None:
    with db.session(write=True) as s:
        rows = [
            {"authority": "Court", "jurisdiction": "DE", "reference": f"R-{i}",
             "urls": [f"https://site{i}.example/banned/{i}", f"https://site{i}.example/b2"],
             "hosts": [f"blocked{i}.example"], "countries": ["AT", "CH", "DE"],
             "valid_from": T0, "valid_until": None, "blocked_by": "https://b.example/legal",
             "description": "", "state": "active", "created_at": T0, "created_by": "bench",
             "updated_at": T0}
            for i in range(orders)
        ]  # fmt: skip
        if rows:
            s.execute(insert(AbuseLegalOrder), rows)
        actions = ("block", "geo_block", "interstitial")
        crow = [
            {"key": f"bench:{i}", "type": "phishing",
             "url": f"https://case{i % 1000}.example/p/{i}",
             "host": f"case{i % 1000}.example", "zone": f"case{i % 1000}.example",
             "state": "actioned", "queue": "analyst", "priority": 1, "sla_due_at": T0,
             "report_count": 1, "reporter_count": 1, "opened_at": T0, "last_report_at": T0,
             "updated_at": T0, "assignee": None, "held": [],
             "enforcement": {"action": actions[i % 3], "countries": ["FR"]}}
            for i in range(cases)
        ]  # fmt: skip
        if crow:
            s.execute(insert(AbuseCase), crow)


def timed(fn: Callable[[], object], n: int) -> dict[str, float]:
    samples = []
    for _ in range(n):
        start = time.perf_counter_ns()
        fn()
        samples.append(time.perf_counter_ns() - start)
    samples.sort()
    return {
        "median_us": round(statistics.median(samples) / 1000, 2),
        "p99_us": round(samples[int(len(samples) * 0.99) - 1] / 1000, 2),
    }


def headers(host: str, country: str) -> list[tuple[bytes, bytes]]:
    return [(b"host", host.encode()), (b"x-bastion-country", country.encode()),
            (b"user-agent", b"Mozilla/5.0"), (b"accept", b"text/html"),
            (b"cookie", b"session=abc; theme=dark")]  # fmt: skip


def lookups(edge: EdgeEnforcement, n: int) -> dict[str, dict[str, float]]:
    cases = {
        "miss_host": (headers("www.unrelated.example", "DE"), "/products/42?x=1"),
        "miss_path": (headers("site7.example", "DE"), "/products/42?x=1"),
        "hit_order": (headers("site7.example", "DE"), "/banned/7?utm=1"),
        "hit_case": (headers("case3.example", "US"), "/p/3"),
    }
    out = {}
    for name, (h, uri) in cases.items():
        answer = edge.answer(h, uri)
        if len(edge.rules) and name.startswith("hit"):
            assert answer is not None and answer[0] == 403, (name, answer)
        out[name] = timed(lambda h=h, uri=uri: edge.answer(h, uri), n)  # type: ignore[misc]
    # A host with rules, every request another path (no cache help for the path).
    h = headers("site7.example", "DE")
    paths = iter([f"/catalog/{i}/item-{i * 7}?page=2" for i in range(n + 1)])
    out["miss_path_distinct"] = timed(lambda: edge.answer(h, next(paths)), n)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        empty_db = Database(f"sqlite:///{Path(tmp) / 'empty.db'}")
        empty_db.upgrade()
        db = Database(f"sqlite:///{Path(tmp) / 'edge.db'}")
        db.upgrade()
        populate(db, args.orders, args.cases)
        start = time.perf_counter()
        edge = EdgeEnforcement(db, refresh_s=3600, blocked_by="https://b.example/abuse")
        load_s = time.perf_counter() - start
        empty = EdgeEnforcement(empty_db, refresh_s=3600, blocked_by=None)
        result = {
            "orders": args.orders,
            "cases": args.cases,
            "rules": len(edge.rules),
            "load_s": round(load_s, 3),
            "loaded": lookups(edge, args.requests),
            "no_rules": lookups(empty, args.requests),
        }
        scoring = ScoringService(load_scorer(), compile_rules(DEFAULT_RULE_SPECS))
        request = HttpRequest("GET", "/products/42?x=1", (("user-agent", "Mozilla/5.0"),), b"")
        scoring.judge([request])
        result["waf_judge_one"] = timed(lambda: scoring.judge([request]), 2000)
        start = time.perf_counter()
        edge.load()
        result["reload_unchanged_s"] = round(time.perf_counter() - start, 4)
        edge._signature = None  # force the full rebuild a change causes
        start = time.perf_counter()
        edge.load()
        result["reload_changed_s"] = round(time.perf_counter() - start, 3)
        del edge
        db.dispose()
        empty_db.dispose()
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
