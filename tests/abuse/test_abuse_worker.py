"""End to end on the real servers: report events on the stream (embedded or NATS
JetStream), a consumer process killed with SIGKILL mid-batch after committing part of it,
and a replacement that finishes: every report is stored once, every case counts each
report once, and nobody is notified twice."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from abuse_kit import Streams
from sqlalchemy import func, select

from bastion.abuse import ReportSubmission, report_event
from bastion.service.abuse_worker import AbuseWorker
from bastion.store import Database
from bastion.store.abuse import set_zone_contacts
from bastion.store.abuse_models import AbuseCase, AbuseReport
from bastion.store.content_models import OutboxMessage

HERE = Path(__file__).resolve().parent
N, URLS = 200, 20


@pytest.fixture(params=["embedded", "jetstream"])
def streams(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Streams]:
    s = Streams(request.param, tmp_path)
    try:
        yield s
    finally:
        s.cleanup()


def _events() -> list:  # type: ignore[type-arg]
    out = []
    for i in range(N):
        sub = ReportSubmission.model_validate({
            "type": "phishing" if (i // URLS) % 2 else "malware",
            "urls": [f"https://login.shop.example/{i % URLS}"],
            "reporter": {"email": f"r{i % 50}@reporters.example"},
        })  # fmt: skip
        out.append(report_event(sub.accept(source="test")))
    return out


def _counts(db: Database) -> tuple[int, int, int, int]:
    with db.session() as s:
        reports = s.scalar(select(func.count()).select_from(AbuseReport)) or 0
        cases = s.scalar(select(func.count()).select_from(AbuseCase)) or 0
        counted = s.scalar(select(func.coalesce(func.sum(AbuseCase.report_count), 0))) or 0
        notices = s.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.kind == "abuse_notice")
        )
    return int(reports), int(cases), int(counted), int(notices or 0)


def test_a_worker_killed_mid_batch_loses_nothing_and_notifies_nobody_twice(
    streams: Streams, postgres_url: str
) -> None:
    db = Database(postgres_url)
    db.upgrade()
    with db.session(write=True) as s:
        set_zone_contacts(s, "shop.example", owner_contact="owner@shop.example", host="HostCo",
                          host_contact="abuse@hostco.example", actor="test")  # fmt: skip
    events = _events()

    async def publish() -> None:
        stream = await streams.open()
        await stream.publish_batch(events)
        await stream.close()

    asyncio.run(publish())
    dead = subprocess.run(
        [sys.executable, str(HERE / "abuse_worker_proc.py"), postgres_url, streams.url,
         streams.name, streams.subject],
        capture_output=True, timeout=120,
    )  # fmt: skip
    assert dead.returncode == -9, dead.stderr.decode()[-2000:]
    reports, cases, counted, _ = _counts(db)
    assert reports == counted == 25 and cases > 0  # half a batch committed, nothing acked

    async def finish() -> AbuseWorker:
        stream = await streams.open()
        worker = AbuseWorker(db, stream, ack_wait_s=1.0, batch=50)
        deadline = time.monotonic() + 60
        while _counts(db)[0] < N and time.monotonic() < deadline:
            await worker.run_once(timeout_s=0.5)
        # Anything still unacknowledged would come back within ack_wait: drain it too.
        quiet_until = time.monotonic() + 1.5
        while time.monotonic() < quiet_until:
            await worker.run_once(timeout_s=0.3)
        await stream.close()
        return worker

    worker = asyncio.run(finish())
    reports, cases, counted, notices = _counts(db)
    assert (reports, counted) == (N, N)  # nothing lost, nothing counted twice
    assert cases == 2 * URLS  # one case per (URL, type)
    assert notices == 2 * cases  # owner and host, once each (urgent types)
    assert worker.stats.duplicates >= 25  # the dead worker's half came back and was skipped
    db.dispose()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _nats_server(port: int, store: Path) -> subprocess.Popen[bytes]:
    import shutil

    binary = shutil.which("nats-server") or "/usr/sbin/nats-server"
    proc = subprocess.Popen(
        [binary, "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", str(store)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    import socket

    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return proc
        time.sleep(0.05)
    proc.kill()
    raise AssertionError("nats-server did not start")


def test_a_jetstream_server_restart_mid_consumption_loses_nothing(tmp_path: Path) -> None:
    """Our own nats-server (the system one is shared): SIGKILLed while a worker consumes,
    restarted on the same store; the worker reconnects and finishes, exactly once."""
    from bastion.stream.jetstream import JetStreamStream

    port, store = _free_port(), tmp_path / "js"
    url = f"nats://127.0.0.1:{port}"
    server = _nats_server(port, store)
    db = Database(f"sqlite:///{tmp_path / 'b.db'}")
    db.upgrade()
    with db.session(write=True) as s:
        set_zone_contacts(s, "shop.example", owner_contact="o@shop.example", host="HostCo",
                          host_contact="abuse@hostco.example", actor="test")  # fmt: skip
    events = _events()

    async def body() -> AbuseWorker:
        nonlocal server
        stream = await JetStreamStream.connect(url, timeout_s=10.0)
        await stream.publish_batch(events)
        worker = AbuseWorker(db, stream, ack_wait_s=1.0, batch=20)
        for _ in range(3):
            await worker.run_once(timeout_s=1.0)
        # A batch in hand, half of it committed, none of it acknowledged, when the server dies.
        in_hand = await (await worker.consumer()).fetch(20, timeout_s=2.0)
        assert len(in_hand) == 20
        worker.process(in_hand[:10])
        assert 60 < _counts(db)[0] < N
        server.kill()  # SIGKILL: no clean shutdown
        server.wait(timeout=10)
        server = _nats_server(port, store)
        deadline = time.monotonic() + 60
        while _counts(db)[0] < N and time.monotonic() < deadline:
            try:
                await worker.run_once(timeout_s=0.5)
            except Exception:  # the connection is coming back
                await asyncio.sleep(0.2)
        quiet_until = time.monotonic() + 1.5
        while time.monotonic() < quiet_until:
            await worker.run_once(timeout_s=0.3)
        await stream.close()
        return worker

    try:
        worker = asyncio.run(body())
    finally:
        server.kill()
        server.wait(timeout=10)
    reports, cases, counted, notices = _counts(db)
    assert (reports, counted) == (N, N)
    assert cases == 2 * URLS and notices == 2 * cases
    assert worker.stats.new_reports == N
    assert worker.stats.duplicates >= 10  # the committed half came back and was skipped
    db.dispose()
