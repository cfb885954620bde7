"""Signed webhooks and dead letters of the durable outbox (SQLite and PostgreSQL)."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bastion.config import ConfigError, load_settings
from bastion.net.signing import SIGNATURE_HEADER, SignatureError, sign, verify
from bastion.service.outbox import (
    Message,
    OutboxDeliverer,
    dead_letters,
    retry_dead,
    senders_for,
    webhook_sender,
)
from bastion.store import Database
from bastion.store.content_models import OutboxMessage

SECRET = b"s3cret-for-tests-0123456789"
T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


# -- signing ---------------------------------------------------------------------------


@given(st.binary(max_size=2000), st.binary(min_size=1, max_size=64))
def test_a_signature_verifies_and_any_changed_byte_breaks_it(body: bytes, secret: bytes) -> None:
    header = sign(secret, body, timestamp=1_700_000_000)
    assert verify(secret, body, header, now=1_700_000_010) == 1_700_000_000
    with pytest.raises(SignatureError, match="does not match"):
        verify(secret, body + b"x", header, now=1_700_000_010)
    with pytest.raises(SignatureError, match="does not match"):
        verify(secret + b"x", body, header, now=1_700_000_010)


@given(st.text(max_size=300))
def test_garbage_headers_fail_with_a_signature_error_only(header: str) -> None:
    with pytest.raises(SignatureError):
        verify(SECRET, b"{}", header, now=1_700_000_000)


def test_stale_missing_and_rotated() -> None:
    header = sign(SECRET, b"body", timestamp=1_700_000_000)
    with pytest.raises(SignatureError, match="replayed"):
        verify(SECRET, b"body", header, now=1_700_000_000 + 301)
    with pytest.raises(SignatureError, match="missing"):
        verify(SECRET, b"body", None)
    with pytest.raises(SignatureError, match="no v1"):
        verify(SECRET, b"body", "t=1700000000", now=1_700_000_000)
    # A receiver mid-rotation accepts the old and the new secret.
    assert verify([b"new-secret", SECRET], b"body", header, now=1_700_000_000)
    with pytest.raises(ValueError, match="empty"):
        sign(b"", b"body")


def test_settings_refuse_a_short_secret() -> None:
    with pytest.raises(ConfigError, match="webhook_secret"):
        load_settings(webhook_secret="short")


class _Receiver(http.server.BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[bytes, str | None, int]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        header = self.headers.get(SIGNATURE_HEADER)
        try:
            verify(SECRET, body, header)
            status = 204
        except SignatureError:
            status = 401
        self.received.append((body, header, status))
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    _Receiver.received = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()


def test_a_real_receiver_verifies_signed_webhooks_and_rejects_unsigned(receiver: str) -> None:
    message = Message(1, "notification", "notification:z:2026-11-01", "z", {"blocks": []}, 1)
    webhook_sender(receiver, SECRET)(message)
    body, header, status = _Receiver.received[-1]
    assert status == 204 and header is not None and header.startswith("t=")
    assert b'"key":"notification:z:2026-11-01"' in body
    with pytest.raises(RuntimeError, match="401"):
        webhook_sender(receiver)(message)


def test_senders_for_signs_with_the_configured_secret(receiver: str) -> None:
    settings = load_settings(content_notify_url=receiver, webhook_secret=SECRET.decode())
    senders = senders_for(settings)
    senders["notification"](Message(1, "notification", "k", "z", {}, 1))
    assert _Receiver.received[-1][2] == 204


# -- dead letters ----------------------------------------------------------------------


def _add(db: Database, key: str) -> None:
    with db.session(write=True) as session:
        session.add(
            OutboxMessage(
                kind="report",
                key=key,
                zone="z.example",
                payload={"n": key},
                created_at=T0,
                attempts=0,
                next_attempt_at=T0,
            )
        )


def test_a_message_failing_max_attempts_times_is_dead_lettered_then_retried(
    database: Database,
) -> None:
    clock = [T0]
    sent: list[str] = []
    failing = [True]

    def sender(message: Message) -> None:
        if failing[0]:
            raise ConnectionError("receiver down")
        sent.append(message.key)

    deliverer = OutboxDeliverer(
        database, {"report": sender}, max_attempts=3, clock=lambda: clock[0]
    )
    _add(database, "r1")
    _add(database, "r2")
    for _ in range(3):
        assert deliverer.run_once() == (0, 2)
        clock[0] += timedelta(days=1)  # past any backoff
    # Three failures: both are dead, nothing is leased any more however long we wait.
    assert deliverer.run_once() == (0, 0)
    dead = dead_letters(database, 3)
    assert [d.key for d in dead] == ["r1", "r2"]
    assert all(d.attempts == 3 and "receiver down" in (d.last_error or "") for d in dead)
    # Re-queue one: it is delivered on the next poll, the other stays dead.
    failing[0] = False
    assert retry_dead(database, 3, [dead[0].id], now=clock[0]) == 1
    assert deliverer.run_once() == (1, 0)
    assert sent == ["r1"]
    assert [d.key for d in dead_letters(database, 3)] == ["r2"]
    assert retry_dead(database, 3, now=clock[0]) == 1
    assert deliverer.run_once() == (1, 0)
    assert sent == ["r1", "r2"] and dead_letters(database, 3) == []


def test_a_message_is_not_dead_before_its_last_attempt(database: Database) -> None:
    clock = [T0]

    def sender(message: Message) -> None:
        raise ConnectionError("down")

    deliverer = OutboxDeliverer(
        database, {"report": sender}, max_attempts=5, clock=lambda: clock[0]
    )
    _add(database, "r1")
    for _ in range(4):
        deliverer.run_once()
        clock[0] += timedelta(days=1)
    assert dead_letters(database, 5) == []
    with pytest.raises(ValueError, match="max_attempts"):
        OutboxDeliverer(database, {}, max_attempts=0)


def test_cli_lists_and_requeues_dead_letters(database_url: str) -> None:
    from typer.testing import CliRunner

    from bastion.cli import app

    db = Database(database_url)
    db.upgrade()
    try:
        _add(db, "r1")
        with db.session(write=True) as session:
            row = session.query(OutboxMessage).one()
            row.attempts, row.last_error = 20, "ConnectionError: down"
    finally:
        db.dispose()
    env = {"BASTION_DATABASE_URL": database_url}
    listed = CliRunner().invoke(app, ["outbox", "dead", "--json"], env=env)
    assert listed.exit_code == 0, listed.output
    doc = json.loads(listed.stdout.strip())
    assert doc["key"] == "r1" and doc["attempts"] == 20 and doc["last_error"].endswith("down")
    assert CliRunner().invoke(app, ["outbox", "retry"], env=env).exit_code == 2
    requeued = CliRunner().invoke(app, ["outbox", "retry", "--all"], env=env)
    assert requeued.exit_code == 0 and "re-queued 1" in requeued.stdout
    again = CliRunner().invoke(app, ["outbox", "dead", "--json"], env=env)
    assert again.exit_code == 0 and again.stdout.strip() == ""
