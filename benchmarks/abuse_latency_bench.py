"""Abuse desk latency: from an accepted report to its case being visible, at a paced rate.

Usage:
    .venv/bin/python benchmarks/abuse_latency_bench.py [--rate R | --share 0.5]
        [--seconds S] [--nats URL] [--postgres URL] [--poll-ms MS]

The real path, on the real servers: a fresh JetStream stream (file storage) and a fresh
PostgreSQL database with three zones.

1. Maximum rate (unless ``--rate`` is given): ``--max-events`` reports are published as a
   backlog, then one consumer process (the service's ``AbuseWorker``: validate,
   reputations, canonicalize, zone, dedupe, route, one transaction per batch, ack) drains
   them; max = events / drain time.
2. Paced run at ``--share`` (0.5) of that maximum for ``--seconds``: reports go through the
   intake of a service worker (``AbuseDesk.submit``: the reporter's rate limit, validation
   and canonicalization, a durable publish acknowledged by JetStream, as the public API does
   before its 202), one every 1/rate seconds, while one consumer process runs
   ``AbuseWorker.run_forever`` (as ``bastion serve`` does; the clock starts once a first
   report has become visible, i.e. the consumer is up). A poller queries the store every
   ``--poll-ms`` for the report-case links of the reports not yet seen (what the case API
   reads: a report counts in a case once its link is committed, with the case's counters,
   in the same transaction). Latency = first poll that sees the link - the moment
   ``submit`` returned (the 202 point). The poll interval bounds the resolution.

Prints one JSON object per measurement.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent))

import contextlib

from abuse_bench import ZONES, _make_database
from bastion.abuse import ReportSubmission, report_event
from bastion.abuse.synthetic import synthetic_reports
from bastion.auth import LocalRateLimiter
from bastion.config import load_settings
from bastion.service.abuse_desk import AbuseDesk
from bastion.service.abuse_worker import AbuseWorker
from bastion.store import Database
from bastion.store.abuse_models import AbuseCaseReport
from bastion.stream.jetstream import JetStreamStream


async def _open(url: str, name: str) -> JetStreamStream:
    return await JetStreamStream.connect(
        url, stream=name, subject=f"bench.{name.lower()}", timeout_s=60.0
    )


def _submissions(n: int, seed: int) -> list[ReportSubmission]:
    return [
        ReportSubmission.model_validate(
            {
                "type": r.type.value,
                "urls": r.urls,
                "description": r.description,
                "reporter": r.reporter.model_dump(),
                **({"copyright": r.copyright.model_dump()} if r.copyright else {}),
            }
        )
        for r in synthetic_reports(n, seed=seed)
    ]


# -- the consumer process -----------------------------------------------------------------


async def _consume(args: argparse.Namespace) -> None:
    """``AbuseWorker.run_forever`` (``--drain``: until idle for 2 s, then print the rate)."""
    stream = await _open(args.nats, args.stream)
    db = Database(args.database)
    worker = AbuseWorker(db, stream, durable="latency", window=timedelta(hours=72))
    if not args.drain:
        try:
            await worker.run_forever(idle_timeout_s=0.5)
        finally:
            await stream.close()
        return
    first = last = 0.0
    idle_since = time.perf_counter()
    while time.perf_counter() - idle_since < 2.0:
        t0 = time.perf_counter()
        result = await worker.run_once(timeout_s=0.5)
        if result is None:
            continue
        first = first or t0
        last = idle_since = time.perf_counter()
    await stream.close()
    events = worker.stats.events
    print(json.dumps({"events": events, "seconds": last - first}))


def _consumer(args: argparse.Namespace, stream: str, database: str, drain: bool) -> Any:
    cmd = [sys.executable, __file__, "_consume", "--nats", args.nats, "--stream", stream,
           "--database", database, *(["--drain"] if drain else [])]  # fmt: skip
    return subprocess.Popen(cmd, stdout=subprocess.PIPE)


# -- measurements -------------------------------------------------------------------------


def max_rate(args: argparse.Namespace) -> dict[str, Any]:
    name = f"BASTION_LAT_{secrets.token_hex(4).upper()}"
    database, drop = _make_database(args.postgres)

    async def publish() -> None:
        stream = await _open(args.nats, name)
        events = [report_event(r) for r in synthetic_reports(args.max_events, seed=11)]
        for i in range(0, len(events), 5000):
            await stream.publish_batch(events[i : i + 5000])
        await stream.close()

    try:
        asyncio.run(publish())
        proc = _consumer(args, name, database, drain=True)
        out = json.loads(proc.communicate(timeout=1800)[0])
    finally:
        asyncio.run(_delete(args.nats, name))
        drop()
    return {
        "measure": "max_rate",
        "events": out["events"],
        "seconds": round(out["seconds"], 3),
        "events_per_s": round(out["events"] / out["seconds"]),
    }


async def _delete(url: str, name: str) -> None:
    stream = await _open(url, name)
    await stream.delete()
    await stream.close()


async def _paced(args: argparse.Namespace, rate: float, name: str, database: str) -> Any:
    settings = load_settings(
        None, database_url=database, abuse_email_rate=1e6, abuse_email_burst=1e6
    )
    db = Database(database)
    stream = await _open(args.nats, name)
    desk = AbuseDesk(settings, db, stream, LocalRateLimiter())
    n = int(rate * args.seconds)
    subs = _submissions(n, seed=12)
    accepted: dict[str, float] = {}
    seen: dict[str, float] = {}
    failures = 0

    async def submit(sub: ReportSubmission) -> None:
        nonlocal failures
        try:
            report = await desk.submit(sub, source="bench")
        except Exception:
            failures += 1
            return
        accepted[report.id] = time.perf_counter()

    def poll(ids: list[str]) -> set[str]:
        found: set[str] = set()
        with db.session() as session:
            for i in range(0, len(ids), 1000):
                found.update(
                    session.scalars(
                        select(AbuseCaseReport.report_id).where(
                            AbuseCaseReport.report_id.in_(ids[i : i + 1000])
                        )
                    )
                )
        return found

    done = asyncio.Event()

    async def poller() -> None:
        while True:
            pending = [rid for rid in accepted if rid not in seen]
            if pending:
                found = await asyncio.to_thread(poll, pending)
                now = time.perf_counter()
                for rid in found:
                    seen[rid] = now
            if done.is_set() and len(seen) >= len(accepted):
                return
            await asyncio.sleep(args.poll_ms / 1000)

    # Wait until the consumer process is up: a first report must become visible.
    warm = await desk.submit(_submissions(1, seed=13)[0], source="bench")
    deadline = time.perf_counter() + 120
    while not await asyncio.to_thread(poll, [warm.id]):
        if time.perf_counter() > deadline:
            raise RuntimeError("the consumer did not start within 120 s")
        await asyncio.sleep(0.1)
    polling = asyncio.create_task(poller())
    tasks = []
    start = time.perf_counter()
    for i, sub in enumerate(subs):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(submit(sub)))
    await asyncio.gather(*tasks)
    sent = time.perf_counter() - start
    done.set()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(polling, timeout=60)
    await stream.close()
    db.dispose()
    latencies = sorted(seen[rid] - t for rid, t in accepted.items() if rid in seen)
    return n, sent, failures, len(accepted), latencies


def paced(args: argparse.Namespace, rate: float) -> dict[str, Any]:
    name = f"BASTION_LAT_{secrets.token_hex(4).upper()}"
    database, drop = _make_database(args.postgres)
    proc = None
    try:
        asyncio.run(_ensure(args.nats, name))
        proc = _consumer(args, name, database, drain=False)
        n, sent, failures, accepted, lat = asyncio.run(_paced(args, rate, name, database))
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
        asyncio.run(_delete(args.nats, name))
        drop()

    def q(p: float) -> float:
        return round(1000 * lat[min(len(lat) - 1, int(p * len(lat)))], 1) if lat else -1.0

    return {
        "measure": "intake_to_visible_case",
        "target_rate": round(rate),
        "achieved_rate": round(n / sent),
        "reports": n,
        "accepted": accepted,
        "failed": failures,
        "visible": len(lat),
        "poll_ms": args.poll_ms,
        "ms": {
            "p50": q(0.50),
            "p90": q(0.90),
            "p99": q(0.99),
            "max": round(1000 * lat[-1], 1) if lat else -1.0,
            "mean": round(1000 * statistics.fmean(lat), 1) if lat else -1.0,
        },
    }


async def _ensure(url: str, name: str) -> None:
    stream = await _open(url, name)
    await stream.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("mode", nargs="?", default="bench", choices=["bench", "_consume"])
    parser.add_argument(
        "--nats", default=os.environ.get("BASTION_TEST_NATS_URL", "nats://127.0.0.1:4222")
    )
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--rate", type=float, default=0.0, help="reports/s (0: measure max)")
    parser.add_argument("--share", type=float, default=0.5, help="share of the max rate")
    parser.add_argument("--max-events", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--poll-ms", type=float, default=20.0)
    parser.add_argument("--stream", default="")
    parser.add_argument("--database", default="")
    parser.add_argument("--drain", action="store_true")
    args = parser.parse_args()
    if args.mode == "_consume":
        asyncio.run(_consume(args))
        return
    rate = args.rate
    if rate <= 0:
        top = max_rate(args)
        print(json.dumps(top), flush=True)
        rate = top["events_per_s"] * args.share
    print(json.dumps(paced(args, rate)), flush=True)
    print(json.dumps({"zones": list(ZONES)}))


if __name__ == "__main__":
    main()
