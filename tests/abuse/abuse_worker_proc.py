"""A consumer process for the end-to-end crash test: an :class:`AbuseWorker` on the real
database that stores the first half of its first batch (committed), then kills itself with
SIGKILL before acknowledging anything.

Usage: python abuse_worker_proc.py DATABASE_URL STREAM_URL STREAM SUBJECT
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys

from bastion.service.abuse_worker import AbuseWorker
from bastion.store import Database
from bastion.stream import open_stream


async def main(database_url: str, url: str, stream_name: str, subject: str) -> None:
    options = {"stream": stream_name, "subject": subject} if url.startswith("nats:") else {}
    stream = await open_stream(url, **options)
    worker = AbuseWorker(Database(database_url), stream, ack_wait_s=1.0, batch=50)
    consumer = await worker.consumer()
    deliveries = await consumer.fetch(50, timeout_s=5.0)
    assert len(deliveries) == 50, len(deliveries)
    worker.process(deliveries[:25])  # committed to the database, never acknowledged
    os.kill(os.getpid(), signal.SIGKILL)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
