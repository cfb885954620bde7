"""Abuse desk throughput on the real servers: JetStream intake and consumers end to end.

Usage:
    .venv/bin/python benchmarks/abuse_bench.py [--intake N] [--process N] [--pack K]
        [--fetch M] [--nats URL] [--postgres URL] [--skip-db] [--skip-core]

1. Intake, batch mode: ``publish_batch`` of 10,000 events at a time into a fresh JetStream
   stream (file storage); a batch counts once JetStream has acknowledged every message of
   it (stored). Measured with one event per message and with ``--pack`` events per message,
   publish only (events prepared before the clock starts) and with the intake's validation
   and URL canonicalization (``ReportSubmission.accept``) in the timed loop.
2. End to end, per consumer process: ``--process`` synthetic reports are published, then 1
   and then 2 consumer processes (fresh stream and database each time) share one durable
   pull consumer until it is drained. Each process runs the service's ``AbuseWorker``:
   decode, validate, reputations, canonicalize, resolve the zone, dedup key, route, and
   store the batch in PostgreSQL in one transaction (``apply_batch``), then ack. The rate is
   events / (last batch stored - first fetch). ``core`` runs the same consumers with the
   in-memory sink instead of the database (canonicalize, resolve, dedupe, route only).

Prints one JSON object per measurement and a summary.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import subprocess
import sys
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import create_engine, text

from bastion.abuse import Processor, Report, ReportSubmission, report_event
from bastion.abuse.events import REPORT, Event
from bastion.abuse.memory import MemoryCaseSink
from bastion.abuse.synthetic import synthetic_reports
from bastion.abuse.zones import ZoneDirectory, ZoneInfo
from bastion.service.abuse_worker import AbuseWorker
from bastion.store import Database, normalize_url
from bastion.store.abuse import set_zone_contacts
from bastion.stream.jetstream import JetStreamStream

ZONES = ("shop.example", "blog.example", "news.example")


def _submissions(n: int) -> list[dict[str, Any]]:
    return [
        {
            "type": r.type.value,
            "urls": r.urls,
            "description": r.description,
            "reporter": r.reporter.model_dump(),
            **({"copyright": r.copyright.model_dump()} if r.copyright else {}),
        }
        for r in synthetic_reports(n, seed=1)
    ]


async def _open(url: str, name: str, pack: int) -> JetStreamStream:
    return await JetStreamStream.connect(
        url, stream=name, subject=f"bench.{name.lower()}", pack=pack, timeout_s=60.0
    )


async def intake(url: str, n: int, pack: int, validate: bool) -> dict[str, Any]:
    name = f"BASTION_BENCH_{secrets.token_hex(4).upper()}"
    stream = await _open(url, name, pack)
    try:
        raw = _submissions(n) if validate else None
        events = None if validate else [report_event(r) for r in synthetic_reports(n, seed=1)]
        batch = 10_000
        start = time.perf_counter()
        for i in range(0, n, batch):
            if raw is not None:
                chunk = [
                    report_event(ReportSubmission.model_validate(s).accept(source="bench"))
                    for s in raw[i : i + batch]
                ]
            else:
                assert events is not None
                chunk = events[i : i + batch]
            await stream.publish_batch(chunk)
        took = time.perf_counter() - start
        info = await stream.js.stream_info(name)
        stored = info.state.messages
    finally:
        await stream.delete()
        await stream.close()
    return {
        "measure": "intake",
        "pack": pack,
        "validate": validate,
        "events": n,
        "messages_stored": stored,
        "seconds": round(took, 3),
        "events_per_s": round(n / took),
    }


# -- consumers ------------------------------------------------------------------------


async def _consume(args: argparse.Namespace) -> dict[str, Any]:
    """One consumer process (run by the benchmark itself with ``_consume``)."""
    stream = await _open(args.nats, args.stream, args.pack)
    if args.database:
        db = Database(args.database)
        worker = AbuseWorker(
            db,
            stream,
            durable="bench",
            batch=args.fetch,
            ack_wait_s=60.0,
            window=timedelta(hours=72),
        )
        run = worker.process
    else:
        zones = ZoneDirectory(
            ZoneInfo(z, f"abuse@{z}", "HostCo", "abuse@hostco.example") for z in ZONES
        )
        processor = Processor(zones)
        sink = MemoryCaseSink()

        def run(deliveries: Any) -> Any:
            reports = [
                Report.model_validate(e.data)
                for d in deliveries
                for e in d.events
                if e.kind == REPORT
            ]
            return sink.apply([processor.process(r) for r in reports])

        worker = None
    consumer = await stream.consumer("bench", ack_wait_s=60.0)
    events = 0
    first = last = 0.0
    spent = {"fetch": 0.0, "process": 0.0, "ack": 0.0}
    idle_since = time.perf_counter()
    while time.perf_counter() - idle_since < 2.0:
        t0 = time.perf_counter()
        deliveries = await consumer.fetch(args.fetch, timeout_s=0.5)
        if not deliveries:
            continue
        first = first or t0
        t1 = time.perf_counter()
        run(deliveries) if args.inline else await asyncio.to_thread(run, deliveries)
        t2 = time.perf_counter()
        await consumer.ack(deliveries)
        events += sum(len(d.events) for d in deliveries)
        last = idle_since = time.perf_counter()
        spent["fetch"] += t1 - t0
        spent["process"] += t2 - t1
        spent["ack"] += last - t2
    await stream.close()
    # perf_counter is per process: report wall-clock times for the aggregate.
    offset = time.time() - time.perf_counter()
    return {
        "events": events,
        "start": first + offset,
        "end": last + offset,
        "spent_s": {k: round(v, 2) for k, v in spent.items()},
    }


def _make_database(admin_url: str) -> tuple[str, Any]:
    """A fresh PostgreSQL database with the zones registered; returns (url, dropper)."""
    name = f"bastion_bench_{secrets.token_hex(4)}"
    admin = normalize_url(admin_url)
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin.set(database=name).render_as_string(hide_password=False)
    db = Database(url)
    db.upgrade()
    with db.session(write=True) as s:
        for zone in ZONES:
            set_zone_contacts(
                s,
                zone,
                owner_contact=f"abuse@{zone}",
                host="HostCo",
                host_contact="abuse@hostco.example",
                actor="bench",
            )
    db.dispose()

    def drop() -> None:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()

    return url, drop


def end_to_end(args: argparse.Namespace, processes: int, with_db: bool) -> dict[str, Any]:
    name = f"BASTION_BENCH_{secrets.token_hex(4).upper()}"
    database, drop = _make_database(args.postgres) if with_db else ("", None)

    async def publish() -> None:
        stream = await _open(args.nats, name, args.pack)
        events: list[Event] = [report_event(r) for r in synthetic_reports(args.process, seed=2)]
        for i in range(0, len(events), 10_000):
            await stream.publish_batch(events[i : i + 10_000])
        await stream.close()

    asyncio.run(publish())
    try:
        cmd = [
            sys.executable,
            __file__,
            "_consume",
            "--nats",
            args.nats,
            "--stream",
            name,
            "--pack",
            str(args.pack),
            "--fetch",
            str(args.fetch),
            "--database",
            database,
            *(["--inline"] if args.inline else []),
        ]
        procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE) for _ in range(processes)]
        outs = [json.loads(p.communicate(timeout=1800)[0]) for p in procs]
    finally:

        async def delete() -> None:
            stream = await _open(args.nats, name, args.pack)
            await stream.delete()
            await stream.close()

        asyncio.run(delete())
        if drop is not None:
            drop()
    events = sum(o["events"] for o in outs)
    took = max(o["end"] for o in outs) - min(o["start"] for o in outs)
    return {
        "measure": "end_to_end",
        "sink": "postgresql" if with_db else "core (memory)",
        "processes": processes,
        "pack": args.pack,
        "events": events,
        "per_process": [o["events"] for o in outs],
        "spent_s": [o["spent_s"] for o in outs],
        "seconds": round(took, 3),
        "events_per_s": round(events / took),
        "per_process_events_per_s": round(events / took / processes),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("mode", nargs="?", default="bench", choices=["bench", "_consume"])
    parser.add_argument(
        "--nats", default=os.environ.get("BASTION_TEST_NATS_URL", "nats://127.0.0.1:4222")
    )
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--intake", type=int, default=200_000, help="events per intake run")
    parser.add_argument("--process", type=int, default=50_000, help="events per consumer run")
    parser.add_argument("--pack", type=int, default=100, help="events per message (packed)")
    parser.add_argument("--fetch", type=int, default=10, help="messages per fetch")
    parser.add_argument(
        "--inline", action="store_true", help="process on the event loop (no worker thread)"
    )
    parser.add_argument("--skip-db", action="store_true")
    parser.add_argument("--skip-core", action="store_true")
    parser.add_argument("--skip-intake", action="store_true")
    parser.add_argument("--stream", default="")
    parser.add_argument("--database", default="")
    args = parser.parse_args()
    if args.mode == "_consume":
        print(json.dumps(asyncio.run(_consume(args))))
        return
    results = []
    for pack, validate, n in (
        ()
        if args.skip_intake
        else (
            (1, False, args.intake // 4),
            (args.pack, False, args.intake),
            (args.pack, True, args.intake // 4),
        )
    ):
        results.append(asyncio.run(intake(args.nats, n, pack, validate)))
        print(json.dumps(results[-1]), flush=True)
    sinks = ([] if args.skip_core else [False]) + ([] if args.skip_db else [True])
    for with_db in sinks:
        pair = []
        for processes in (1, 2):
            pair.append(end_to_end(args, processes, with_db))
            print(json.dumps(pair[-1]), flush=True)
        ratio = pair[1]["events_per_s"] / pair[0]["events_per_s"]
        print(
            json.dumps(
                {"measure": "scaling", "sink": pair[0]["sink"], "two_over_one": round(ratio, 2)}
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
