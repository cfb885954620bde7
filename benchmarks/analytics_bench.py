"""Request analytics benchmark (issue 8).

1. Query latency: ``--rows`` synthetic logged requests (default 10 million over 7 days,
   200 zones with a skewed share, 97% clean traffic) generated inside DuckDB, rolled up,
   then every console query is timed (median and p95 of ``--repeat`` runs, each opening
   the file as the service does) for the busiest zone over the last 24 hours and 7 days.
2. Logging overhead in process: ``ScoringService.judge`` per request with and without the
   request log attached (100% sampling, writer thread on, DuckDB file), alternating
   rounds. The scoring loop keeps the GIL busy, so this is the worst case: every
   microsecond the writer thread spends in Python is taken from scoring.
3. Logging overhead of the service (``--http``): ``bastion serve`` (2 workers) with
   ``analytics_enabled`` off and on, alternating, driven by wrk with single-request
   ``POST /v1/waf/score`` calls (service_bench.py's corpus): at saturation (throughput,
   latency) and at a fixed moderate rate (latency).

    .venv/bin/python benchmarks/analytics_bench.py [--rows N] [--repeat R] [--dir DIR]
        [--skip-queries] [--http]
"""

# ruff: noqa: B023 - the lambdas run within the iteration that defines them
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from bastion.analytics import queries as q
from bastion.analytics.record import COLUMN_NAMES
from bastion.rules import DEFAULT_RULE_SPECS, compile_rules
from bastion.service.analytics_log import RequestLog
from bastion.service.scoring import ScoringService
from bastion.store.analytics import DuckDBStore
from bastion.waf.request import HttpRequest
from bastion.waf.scorer import load_scorer

DAY = q.DAY_MS

_GENERATE = """
INSERT INTO requests
SELECT
  printf('%012x', ts) || substr(md5(CAST(i AS VARCHAR)), 1, 20) AS id,
  ts AS ts_ms,
  'z' || CAST(floor(pow(r_zone, 3) * 200) AS INTEGER) || '.example' AS zone,
  CASE WHEN i % 10 < 7 THEN 'edge' ELSE 'api' END AS source,
  '' AS request_id,
  CASE WHEN i % 5 = 0 THEN 'POST' ELSE 'GET' END AS method,
  'www.example' AS host,
  '/p' || CAST(floor(pow(r_path, 4) * 5000) AS INTEGER) AS path,
  'q=' || CAST(i % 1000 AS VARCHAR) AS query,
  '10.' || CAST(floor(pow(r_client, 3) * 250) AS INTEGER) || '.' || CAST(i % 250 AS VARCHAR)
    || '.1' AS client,
  score, sqli, xss, rce,
  CASE WHEN score <= 20 THEN 'attack' WHEN score <= 50 THEN 'likely_attack'
       WHEN score <= 80 THEN 'likely_clean' ELSE 'clean' END AS cls,
  CASE WHEN score < 20 THEN 'block' ELSE 'allow' END AS action,
  CASE WHEN score < 20 THEN 'block-attacks' ELSE '' END AS rule_id,
  'waf-bench' AS model_version,
  CASE WHEN score <= 50
    THEN '{"global":{"location":"query:q","snippet":"1 or 1=1","score":5}}' ELSE '' END,
  '[["Host","www.example"],["User-Agent","bench"]]' AS headers,
  '' AS body_b64, 0 AS body_size, 0 AS body_truncated
FROM (
  SELECT i, $start + CAST(i * $span // $n AS BIGINT) AS ts,
    random() AS r_zone, random() AS r_path, random() AS r_client,
    CASE WHEN random() < 0.02 THEN 1 + CAST(floor(random() * 20) AS INTEGER)
         WHEN random() < 0.03 THEN 21 + CAST(floor(random() * 30) AS INTEGER)
         ELSE 81 + CAST(floor(random() * 19) AS INTEGER) END AS score,
    81 + CAST(floor(random() * 19) AS INTEGER) AS sqli,
    81 + CAST(floor(random() * 19) AS INTEGER) AS xss,
    81 + CAST(floor(random() * 19) AS INTEGER) AS rce
  FROM range($n) t(i)
)
"""


def generate(store: DuckDBStore, rows: int, now_ms: int) -> float:
    started = time.perf_counter()
    span = 7 * DAY
    with store._connection() as conn:
        conn.execute(_GENERATE, {"start": now_ms - span, "span": span, "n": rows})
    while store.rollup(now_ms) > 0:
        pass
    return time.perf_counter() - started


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - t) * 1000)
    runs.sort()
    return statistics.median(runs), runs[min(len(runs) - 1, int(len(runs) * 0.95))]


def overview(store: DuckDBStore, zone: str, since: int, until: int) -> object:
    """What ``GET .../overview`` reads: every panel of the analytics page, one open."""
    from bastion.service import analytics_api as api

    step = "minute" if until - since <= DAY else "hour"
    with store.session():
        w = q.Window.split(zone, since, until, store.watermark())
        return [
            api.panel_summary(store, w),
            api.panel_classes(store, w, step),
            api.panel_histograms(store, w),
            api.panel_top(store, w, "attacked-paths", 10),
            api.panel_top(store, w, "attacked-clients", 10),
            api.panel_requests(store, zone, since, until, q.SampleFilter(), 50),
        ]


def dry_run_rows(store: DuckDBStore, w: q.Window, limit: int) -> object:
    """The dry run's reads, as the API does them (narrowed by the rollups)."""
    tail = int(store.fetch(q.raw_tail_count(w))[0][0])
    first = q.newest_start(w, limit, tail, store.fetch(q.minute_counts(w)))
    return store.fetch(q.recent(w.zone, max(w.since, first), w.until, limit))


def query_bench(store: DuckDBStore, now_ms: int, repeat: int) -> None:
    zone = "z0.example"
    for label, since in (("24h", now_ms - DAY), ("7d", now_ms - 7 * DAY + q.MINUTE_MS)):
        mark = store.watermark()
        w = q.Window.split(zone, since, now_ms, mark)
        step = q.MINUTE_MS if label == "24h" else q.HOUR_MS
        (count,) = store.fetch(
            q.Query(
                "SELECT count(*) FROM requests WHERE zone = :z AND ts_ms >= :s",
                {"z": zone, "s": since},
                {"z": "str", "s": "int"},
            )
        )[0]
        first = store.fetch(q.sampled(zone, since, now_ms, q.SampleFilter(), 1))[0][0]
        cases: dict[str, Callable[[], object]] = {
            "watermark": store.watermark,
            "summary": lambda: store.fetch(
                q.totals(["class", "action", "sqli_class", "xss_class", "rce_class"], w)
            ),
            "classes over time": lambda: store.fetch(q.series("class", w, step)),
            "histograms": lambda: store.fetch(q.totals([f"hist_{v}" for v in q.VECTOR_COLUMNS], w)),
            "top attacked paths": lambda: store.fetch(q.top("attacked_path", w, 10)),
            "top clients": lambda: store.fetch(q.top("client", w, 10)),
            "sampled requests (attack)": lambda: store.fetch(
                q.sampled(zone, since, now_ms, q.SampleFilter(classes=("attack",)), 50)
            ),
            "sampled requests (path prefix)": lambda: store.fetch(
                q.sampled(zone, since, now_ms, q.SampleFilter(path_prefix="/p12"), 50)
            ),
            "one request by id": lambda: store.fetch(q.one(zone, first)),
            "dry-run rows (10k)": lambda: dry_run_rows(store, w, 10_000),
            "overview (all six panels, one open)": lambda: overview(store, zone, since, now_ms),
        }
        print(f"\nzone {zone}, last {label} ({int(count):,} raw rows in range)")
        print(f"{'query':38s} {'median ms':>10s} {'p95 ms':>10s}")
        for name, fn in cases.items():
            med, p95 = timed(fn, repeat)
            print(f"{name:38s} {med:10.1f} {p95:10.1f}")


def _writer_main(socket_path: str, duck_path: str) -> None:
    """A writer process as ``bastion serve`` runs it: socket server, request log, DuckDB."""
    import signal
    import threading

    from bastion.service.analytics_writer import LogWriterServer

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    log = RequestLog(DuckDBStore(duck_path), zones=lambda: ["shop.example"], queue_size=10**6)
    log.start()
    server = LogWriterServer(socket_path, log)
    server.bind()
    server.serve_in_background()
    stop.wait()
    server.close(drain_s=30)


def overhead_bench(path: Path, rounds: int, per_round: int) -> None:
    """Per-request scoring time with no log, the in-process log (writer thread) and the
    shipper to a writer process, in alternating rounds."""
    import multiprocessing

    from bastion.service.analytics_shipper import LogShipper

    scorer = load_scorer()
    scoring = ScoringService(scorer, compile_rules(DEFAULT_RULE_SPECS))
    reqs = [
        HttpRequest(
            "GET",
            f"/shop/item/{i}?ref=home&q=blue+shoes+{i % 97}",
            (("Host", "shop.example"), ("User-Agent", "Mozilla/5.0"), ("Accept", "*/*")),
        )
        for i in range(per_round)
    ]
    reqs[::50] = [
        HttpRequest("GET", f"/s?q=1'+or+1=1--+{i}", (("Host", "shop.example"),))
        for i in range(len(reqs[::50]))
    ]
    thread_log = RequestLog(
        DuckDBStore(str(path)), zones=lambda: ["shop.example"], queue_size=10**6
    )
    thread_log.start()
    socket_path = str(path.with_suffix(".sock"))
    writer = multiprocessing.get_context("spawn").Process(
        target=_writer_main, args=(socket_path, str(path.with_suffix(".proc.duckdb")))
    )
    writer.start()
    while not Path(socket_path).exists():
        time.sleep(0.05)
    shipper = LogShipper(socket_path, queue_size=10**6)
    shipper.start()
    observers: dict[str, RequestLog | LogShipper | None] = {
        "off": None, "thread": thread_log, "process": shipper
    }  # fmt: skip
    times: dict[str, list[float]] = {mode: [] for mode in observers}
    for r in reqs[:2000]:  # warm-up (caches, JIT-free paths)
        scoring.judge([r])
    for _ in range(rounds):
        for mode, observer in observers.items():
            if observer is not None:
                scoring.add_observer(observer)
            t = time.perf_counter()
            for r in reqs:
                scoring.judge([r])
            times[mode].append((time.perf_counter() - t) / len(reqs) * 1e6)
            if observer is not None:
                scoring.remove_observer(observer)
    thread_log.close()
    shipper.close()
    writer.terminate()
    writer.join(60)
    base = statistics.median(times["off"])
    print(f"\nscoring latency per request (median of {rounds} rounds of {per_round}):")
    for mode, runs in times.items():
        m = statistics.median(runs)
        print(
            f"  log {mode:8s}: {m:6.2f} us  ({100 * (m / base - 1):+.1f}%)  "
            f"rounds: {[round(x, 2) for x in runs]}"
        )
    print(
        f"  thread: written {thread_log.written:,}, dropped {thread_log.dropped:,}; "
        f"process: shipped {shipper.shipped:,}, dropped {shipper.dropped:,}"
    )


def _group_cpu_s(pgid: int) -> float:
    """CPU seconds (user + system) of every live process in a process group."""
    import os

    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[2]) == pgid:  # field 5 of stat: pgrp
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


@contextmanager
def _server(
    tmp: Path, analytics: bool, workers: int, sample_rate: float = 1.0
) -> Iterator[tuple[str, str, int]]:
    """``bastion serve`` in its own process group: (url, token, pgid)."""
    import os
    import signal
    import subprocess
    import sys

    import service_bench as sb
    from bastion.auth.tokens import TokenStore
    from bastion.store.db import Database

    tmp.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{tmp / 'bench.db'}"
    db = Database(url)
    db.upgrade()
    token = TokenStore(db).create("bench", ["ingest"]).token
    db.dispose()
    port = sb._free_port()
    env = {
        **os.environ,
        "BASTION_DATABASE_URL": url,
        "BASTION_PORT": str(port),
        "BASTION_WORKERS": str(workers),
        "BASTION_LOG_LEVEL": "warning",
        "BASTION_DEFAULT_RATE_LIMIT": "1e9",
        "BASTION_ANALYTICS_ENABLED": "true" if analytics else "false",
        "BASTION_ANALYTICS_SAMPLE_RATE": str(sample_rate),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "bastion", "serve"], env=env, start_new_session=True
    )
    try:
        sb._wait_http(f"http://127.0.0.1:{port}/readyz", proc)
        yield f"http://127.0.0.1:{port}", token, proc.pid
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(60)


def http_bench(
    work: Path, rounds: int, duration: int, workers: int, sample_rate: float = 1.0
) -> None:
    """Two servers side by side (request log off / on), measured in alternation so both
    see the same background load; CPU per request from the servers' process groups."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import service_bench as sb

    work.mkdir(parents=True, exist_ok=True)
    files = sb.write_corpora(work, 20_000, 11, 100)
    loads = {"paced (8 connections, 5 ms pause)": (8, 5), "saturated (16 connections)": (16, 0)}
    results: dict[tuple[str, str], list[dict[str, float]]] = {}
    with (
        _server(work / "off", False, workers) as off,
        _server(work / "on", True, workers, sample_rate) as on,
    ):
        servers = {"off": off, "on": on}
        for url, token, _ in servers.values():
            sb.wrk(url, files["lua"], "api", files["api"], token=token, connections=8, duration=3)
        for rnd in range(rounds):
            for label, (conns, pause) in loads.items():
                order = ("off", "on") if rnd % 2 == 0 else ("on", "off")
                for mode in order:
                    url, token, pgid = servers[mode]
                    cpu = _group_cpu_s(pgid)
                    stats = sb.wrk(
                        url,
                        files["lua"],
                        "api",
                        files["api"],
                        token=token,
                        connections=conns,
                        duration=duration,
                        pause_ms=pause,
                    )
                    stats["cpu_us"] = (_group_cpu_s(pgid) - cpu) / stats["requests"] * 1e6
                    results.setdefault((label, mode), []).append(stats)
        logged = list((work / "on").glob("*-analytics.duckdb"))
        print(f"request log files: {[(p.name, p.stat().st_size) for p in logged]}")
    print(
        f"\nservice overhead, {workers} worker(s), sample rate {sample_rate} "
        f"({rounds} alternating rounds of {duration} s per mode and load):"
    )
    for label in loads:
        row = {}
        for mode in ("off", "on"):
            runs = results[(label, mode)]
            row[mode] = {
                k: statistics.median(r[k] for r in runs)
                for k in ("rps", "p50_us", "p99_us", "cpu_us")
            }
            errors = sum(r["errors"] + r["non2xx"] for r in runs)
            print(
                f"  {label:34s} log {mode:3s}: {row[mode]['rps']:6.0f} req/s  "
                f"p50 {row[mode]['p50_us'] / 1000:6.2f} ms  "
                f"p99 {row[mode]['p99_us'] / 1000:6.2f} ms  "
                f"CPU {row[mode]['cpu_us']:6.0f} us/req  errors {errors}"
            )
        change = {k: 100 * (row["on"][k] / row["off"][k] - 1) for k in row["on"]}
        print(
            f"  {'':34s} change: req/s {change['rps']:+.1f}%, p50 {change['p50_us']:+.1f}%, "
            f"p99 {change['p99_us']:+.1f}%, CPU per request {change['cpu_us']:+.1f}%"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--per-round", type=int, default=20_000)
    ap.add_argument("--dir", type=Path, default=None)
    ap.add_argument("--skip-queries", action="store_true")
    ap.add_argument("--skip-inprocess", action="store_true")
    ap.add_argument("--http", action="store_true", help="also measure bastion serve over HTTP")
    ap.add_argument("--http-rounds", type=int, default=2)
    ap.add_argument("--http-duration", type=int, default=10)
    ap.add_argument("--http-workers", type=int, nargs="+", default=[2, 1])
    ap.add_argument("--http-sample-rate", type=float, default=1.0)
    args = ap.parse_args()
    work = args.dir or Path(tempfile.mkdtemp(prefix="bastion-analytics-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"columns: {len(COLUMN_NAMES)}; data in {work}")
    if not args.skip_queries:
        now_ms = int(time.time() * 1000)
        now_ms -= now_ms % q.MINUTE_MS
        path = work / "bench.duckdb"
        path.unlink(missing_ok=True)
        store = DuckDBStore(str(path))
        secs = generate(store, args.rows, now_ms)
        size = path.stat().st_size / 1e6
        print(f"generated and rolled up {args.rows:,} rows in {secs:.1f} s ({size:.0f} MB)")
        query_bench(store, now_ms, args.repeat)
    if not args.skip_inprocess:
        overhead_bench(work / "overhead.duckdb", args.rounds, args.per_round)
    if args.http:
        for workers in args.http_workers:
            http_bench(
                work / f"http-{workers}w",
                args.http_rounds,
                args.http_duration,
                workers,
                args.http_sample_rate,
            )


if __name__ == "__main__":
    main()
