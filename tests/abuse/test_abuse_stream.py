"""The event stream on both engines (embedded SQLite log, real NATS JetStream): durable
publish, pull consumers shared by name, acks, redelivery, duplicates, and a consumer
process killed mid-batch."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from abuse_kit import NATS_URL, Streams, report_events

from bastion.abuse import Event
from bastion.stream import Delivery, EmbeddedStream, StreamError, open_stream

HERE = Path(__file__).resolve().parent


@pytest.fixture(params=["embedded", "jetstream"])
def streams(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Streams]:
    s = Streams(request.param, tmp_path)
    try:
        yield s
    finally:
        s.cleanup()


async def drain(
    consumer: object, want: int, *, ack: bool = True, limit_s: float = 20
) -> list[Delivery]:
    """Fetch until ``want`` events arrived (or the time limit); ack them if asked."""
    got: list[Delivery] = []
    deadline = time.monotonic() + limit_s
    while sum(len(d.events) for d in got) < want and time.monotonic() < deadline:
        batch = await consumer.fetch(100, timeout_s=0.5)  # type: ignore[attr-defined]
        if ack:
            await consumer.ack(batch)  # type: ignore[attr-defined]
        got += batch
    return got


def ids(deliveries: list[Delivery]) -> list[str]:
    return [e.id for d in deliveries for e in d.events]


def test_published_events_are_delivered_once_when_acked(streams: Streams) -> None:
    events = report_events(120)

    async def body() -> None:
        stream = await streams.open()
        assert await stream.publish_batch(events) == 120
        consumer = await stream.consumer("desk", ack_wait_s=1.0)
        got = await drain(consumer, 120)
        assert sorted(ids(got)) == sorted(e.id for e in events)
        assert not any(d.redelivered for d in got)
        # Acked: nothing comes back, even after ack_wait.
        await asyncio.sleep(1.3)
        assert await consumer.fetch(100, timeout_s=0.3) == []
        await stream.close()

    asyncio.run(body())


def test_unacked_deliveries_come_back_after_ack_wait(streams: Streams) -> None:
    events = report_events(10)

    async def body() -> None:
        stream = await streams.open()
        await stream.publish_batch(events)
        consumer = await stream.consumer("desk", ack_wait_s=1.0)
        first = await drain(consumer, 10, ack=False)
        assert len(ids(first)) == 10
        # Within ack_wait nothing is handed out twice.
        assert await consumer.fetch(100, timeout_s=0.2) == []
        again = await drain(consumer, 10, limit_s=10)
        assert sorted(ids(again)) == sorted(ids(first))
        assert all(d.redelivered and d.attempt == 2 for d in again)
        await stream.close()

    asyncio.run(body())


def test_a_durable_consumer_is_shared_and_survives_reopening(streams: Streams) -> None:
    events = report_events(60)

    async def body() -> None:
        stream_a = await streams.open()
        stream_b = await streams.open()
        await stream_a.publish_batch(events[:40])
        a = await stream_a.consumer("desk", ack_wait_s=5.0)
        b = await stream_b.consumer("desk", ack_wait_s=5.0)
        got_a = await a.fetch(25, timeout_s=1.0)
        got_b = await drain(b, 40 - len(ids(got_a)), limit_s=5)
        await a.ack(got_a)
        assert not set(ids(got_a)) & set(ids(got_b))
        assert sorted(ids(got_a) + ids(got_b)) == sorted(e.id for e in events[:40])
        await stream_a.close()
        await stream_b.close()
        # A new connection resumes where the durable consumer stopped.
        stream_c = await streams.open()
        await stream_c.publish_batch(events[40:])
        c = await stream_c.consumer("desk", ack_wait_s=5.0)
        rest = await drain(c, 20)
        assert sorted(ids(rest)) == sorted(e.id for e in events[40:])
        await stream_c.close()

    asyncio.run(body())


def test_republishing_a_batch_stores_it_once(streams: Streams) -> None:
    events = report_events(30)

    async def body() -> None:
        stream = await streams.open()
        await stream.publish_batch(events)
        await stream.publish_batch(events[:15])  # a producer retrying after a timeout
        consumer = await stream.consumer("desk")
        got = await drain(consumer, 30)
        assert await consumer.fetch(100, timeout_s=0.5) == []
        assert sorted(ids(got)) == sorted(e.id for e in events)
        await stream.close()

    asyncio.run(body())


def test_packed_messages_carry_several_events(tmp_path: Path) -> None:
    streams = Streams("jetstream", tmp_path)
    events = report_events(95)

    async def body() -> None:
        stream = await streams.open(pack=10)
        await stream.publish_batch(events)
        await stream.publish_batch(events)  # same packs, same message ids: deduplicated
        consumer = await stream.consumer("desk")
        got = await drain(consumer, 95)
        assert [len(d.events) for d in got] == [10] * 9 + [5]
        assert ids(got) == [e.id for e in events]
        await stream.close()

    try:
        asyncio.run(body())
    finally:
        streams.cleanup()


def test_malformed_messages_are_dropped_not_redelivered(streams: Streams) -> None:
    good = report_events(3)

    async def body() -> None:
        stream = await streams.open()
        if streams.engine == "embedded":
            assert isinstance(stream, EmbeddedStream)
            conn = sqlite3.connect(streams.path)
            with conn:
                conn.execute("INSERT INTO events (id, body, at) VALUES ('bad', X'7b', 0)")
            conn.close()
        else:
            from bastion.stream.jetstream import JetStreamStream

            assert isinstance(stream, JetStreamStream)
            await stream.js.publish(stream.subject, b"{not json")
        await stream.publish_batch(good)
        consumer = await stream.consumer("desk", ack_wait_s=1.0)
        got = await drain(consumer, 3)
        assert sorted(ids(got)) == sorted(e.id for e in good)
        await asyncio.sleep(1.3)
        assert await consumer.fetch(10, timeout_s=0.3) == []
        await stream.close()

    asyncio.run(body())


def test_embedded_stream_gives_up_after_max_deliver_and_purges(tmp_path: Path) -> None:
    async def body() -> None:
        stream = EmbeddedStream(tmp_path / "e.db")
        events = report_events(2)
        await stream.publish_batch(events)
        consumer = await stream.consumer("desk", ack_wait_s=0.05, max_deliver=2)
        for _ in range(2):
            assert len(await consumer.fetch(10, timeout_s=1.0)) == 2
            await asyncio.sleep(0.08)
        assert await consumer.fetch(10, timeout_s=0.2) == []
        assert sorted(stream.dead_letters("desk")) == sorted(e.id for e in events)
        assert stream.purge(0) == 0  # still pending (dead letters are kept)
        await stream.close()

        fresh = EmbeddedStream(tmp_path / "f.db")
        await fresh.publish_batch(events)
        c = await fresh.consumer("desk")
        await c.ack(await c.fetch(10, timeout_s=1.0))
        assert fresh.purge(0) == 2 and fresh.count() == 0
        await fresh.close()

    asyncio.run(body())


def test_open_stream_urls(tmp_path: Path) -> None:
    async def body() -> None:
        s = await open_stream(f"embedded://{tmp_path / 'x.db'}")
        assert isinstance(s, EmbeddedStream) and s.path == tmp_path / "x.db"
        await s.close()
        m = await open_stream("embedded://")
        assert isinstance(m, EmbeddedStream) and m.path is None
        await m.close()
        with pytest.raises(ValueError, match="unknown stream URL"):
            await open_stream("kafka://x:9092")
        with pytest.raises(StreamError, match="cannot reach NATS"):
            await open_stream("nats://127.0.0.1:1", timeout_s=1.0)

    asyncio.run(body())


def test_jetstream_is_reachable() -> None:
    """The JetStream tests above need the real server; say so clearly when it is down."""

    async def body() -> None:
        from bastion.stream.jetstream import JetStreamStream

        try:
            stream = await JetStreamStream.connect(NATS_URL, stream="BASTION_TEST_PING",
                                                   subject="bastion.test.ping")  # fmt: skip
        except StreamError as exc:
            pytest.fail(f"NATS JetStream is required at {NATS_URL}: {exc}", pytrace=False)
        await stream.delete()
        await stream.close()

    asyncio.run(body())


def _start_consumer(streams: Streams, sink: Path, n: int, *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, str(HERE / "abuse_crash_consumer.py"), str(sink), streams.url,
         streams.name, streams.subject, "desk", str(n), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip


def test_a_consumer_killed_mid_batch_loses_nothing_and_counts_nothing_twice(
    streams: Streams, tmp_path: Path
) -> None:
    events: list[Event] = report_events(200)

    async def publish() -> None:
        stream = await streams.open()
        await stream.publish_batch(events)
        await stream.close()

    asyncio.run(publish())
    sink = tmp_path / "sink.db"
    dead = _start_consumer(streams, sink, 200, "--die-after", "30")
    out, _ = dead.communicate(timeout=60)
    assert dead.returncode == -9, out.decode()
    conn = sqlite3.connect(sink)
    (done,) = conn.execute("SELECT COUNT(*) FROM effects").fetchone()
    assert done == 30  # processed, committed, never acknowledged
    # A replacement consumer gets the unacknowledged deliveries again (after ack_wait).
    survivor = _start_consumer(streams, sink, 200)
    out, _ = survivor.communicate(timeout=90)
    assert survivor.returncode == 0, out.decode()
    effects = {r[0] for r in conn.execute("SELECT event_id FROM effects")}
    (attempts,) = conn.execute("SELECT COUNT(*) FROM attempts").fetchone()
    conn.close()
    assert effects == {e.id for e in events}  # nothing lost
    assert attempts >= 230  # the 30 were processed again: redelivered, not skipped
