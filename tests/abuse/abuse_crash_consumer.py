"""A consumer process for the crash tests: it records each event's effect in an SQLite
file (idempotently: the event id is unique) and, with ``--die-after K``, kills itself with
SIGKILL after recording K events of its first batch, before acknowledging anything.

Usage: python abuse_crash_consumer.py SINK.db STREAM_URL STREAM SUBJECT DURABLE N [--die-after K]
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys

from bastion.stream import EventStream, open_stream


def record(sink: sqlite3.Connection, event_id: str) -> None:
    with sink:
        sink.execute("INSERT INTO attempts (event_id) VALUES (?)", (event_id,))
        sink.execute("INSERT OR IGNORE INTO effects (event_id) VALUES (?)", (event_id,))


async def main(argv: list[str]) -> None:
    sink_path, url, stream_name, subject, durable, total = argv[:6]
    die_after = int(argv[7]) if len(argv) > 7 and argv[6] == "--die-after" else None
    sink = sqlite3.connect(sink_path, timeout=30)
    sink.execute("CREATE TABLE IF NOT EXISTS effects (event_id TEXT PRIMARY KEY)")
    sink.execute("CREATE TABLE IF NOT EXISTS attempts (event_id TEXT NOT NULL)")
    options = {"stream": stream_name, "subject": subject} if url.startswith("nats:") else {}
    stream: EventStream = await open_stream(url, **options)
    consumer = await stream.consumer(durable, ack_wait_s=1.0)
    done = 0
    while True:
        (have,) = sink.execute("SELECT COUNT(*) FROM effects").fetchone()
        if have >= int(total):
            break
        deliveries = await consumer.fetch(50, timeout_s=2.0)
        for delivery in deliveries:
            for event in delivery.events:
                record(sink, event.id)
                done += 1
                if die_after is not None and done >= die_after:
                    os.kill(os.getpid(), signal.SIGKILL)
        await consumer.ack(deliveries)
    await stream.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
