"""Delivery of the outbox: notifications and reports, at least once, with backoff.

A row that has failed ``max_attempts`` times is dead-lettered: it stays in the table,
undelivered, is no longer leased, and is listed by :func:`dead_letters` (``bastion outbox
dead``) until :func:`retry_dead` (``bastion outbox retry``) puts it back in the queue.

A poll leases due rows (``next_attempt_at`` moved past the lease, ``attempts`` + 1) in one
short transaction, delivers them outside it, then marks each delivered or schedules its
retry (exponential backoff with jitter). A process killed mid-delivery leaves the lease
to expire and the row is sent again with the same ``Idempotency-Key``; receivers
deduplicate on it. Several workers may poll at once: a leased row is not due for others.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import httpx
from sqlalchemy import select

from bastion.config import Settings
from bastion.net.signing import SIGNATURE_HEADER, sign
from bastion.service import metrics
from bastion.service.content import enqueue_digest
from bastion.store.content_models import OutboxMessage
from bastion.store.db import Database

log = logging.getLogger("bastion.service.outbox")

LEASE = timedelta(seconds=60)
#: With 5 s doubling to a 6 h cap, 20 attempts span about three and a half days.
DEFAULT_MAX_ATTEMPTS = 20
BACKOFF_BASE_S = 5.0
BACKOFF_MAX_S = 6 * 3600.0


@dataclass(frozen=True)
class Message:
    """One leased outbox row."""

    id: int
    kind: str
    key: str
    zone: str | None
    payload: dict[str, Any]
    attempts: int


class Sender(Protocol):
    """Delivers one message or raises."""

    def __call__(self, message: Message) -> None: ...


def webhook_sender(url: str, secret: bytes | None = None, timeout_s: float = 10.0) -> Sender:
    """POST the payload as JSON; any status but 2xx is a failure.

    With a ``secret`` each delivery carries an ``X-Bastion-Signature`` header over the
    exact body bytes (see :mod:`bastion.net.signing`), fresh for every attempt.
    """

    def send(message: Message) -> None:
        body = json.dumps(
            {"kind": message.kind, "key": message.key, **message.payload},
            sort_keys=True,
            separators=(",", ":"),
        ).encode()
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": message.key,
            "X-Bastion-Kind": message.kind,
        }
        if secret:
            headers[SIGNATURE_HEADER] = sign(secret, body)
        response = httpx.post(url, content=body, headers=headers, timeout=timeout_s)
        if not 200 <= response.status_code < 300:
            raise RuntimeError(f"{url} answered {response.status_code}")

    return send


def file_sender(directory: Path) -> Sender:
    """Append the message as one JSON line to ``<directory>/reports-<UTC day>.jsonl``."""

    def send(message: Message) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"reports-{datetime.now(UTC).date().isoformat()}.jsonl"
        line = json.dumps({"key": message.key, **message.payload}, sort_keys=True) + "\n"
        with path.open("a", encoding="utf-8") as fh:
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())

    return send


def backoff(attempts: int) -> timedelta:
    """Delay before retry number ``attempts`` (1-based), with up to 10% jitter."""
    delay = min(BACKOFF_BASE_S * 2 ** max(0, attempts - 1), BACKOFF_MAX_S)
    return timedelta(seconds=delay * (1 + random.random() / 10))


class OutboxDeliverer:
    """Delivers due rows with a sender per kind; kinds without one stay in the outbox."""

    def __init__(
        self,
        database: Database,
        senders: dict[str, Sender],
        *,
        batch: int = 50,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.database = database
        self.senders = senders
        self.batch = batch
        self.max_attempts = max_attempts
        self.clock = clock

    def lease(self) -> list[Message]:
        """Claim up to ``batch`` due rows."""
        if not self.senders:
            return []
        now = self.clock()
        with self.database.session(write=True) as session:
            rows = session.scalars(
                select(OutboxMessage)
                .where(
                    OutboxMessage.delivered_at.is_(None),
                    OutboxMessage.next_attempt_at <= now,
                    OutboxMessage.attempts < self.max_attempts,
                    OutboxMessage.kind.in_(sorted(self.senders)),
                )
                .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
                .limit(self.batch)
                .with_for_update(skip_locked=True)
            ).all()
            out = []
            for row in rows:
                row.attempts += 1
                row.next_attempt_at = now + LEASE
                out.append(
                    Message(row.id, row.kind, row.key, row.zone, dict(row.payload), row.attempts)
                )
            return out

    def _done(self, message: Message) -> None:
        now = self.clock()
        with self.database.session(write=True) as session:
            row = session.get(OutboxMessage, message.id)
            if row is None:  # pragma: no cover - rows are never deleted
                return
            row.delivered_at, row.last_error = now, None
            if row.kind == "notification":
                # Blocks added to this digest after it was leased go to the next one.
                sent = len(message.payload.get("blocks", []))
                late = row.payload.get("blocks", [])[sent:]
                row.payload = message.payload
                session.flush()
                if late and row.zone is not None:
                    enqueue_digest(session, row.zone, late, now)

    def _failed(self, message: Message, error: str) -> bool:
        """Record a failed attempt; True when it was the last one (dead-lettered)."""
        with self.database.session(write=True) as session:
            row = session.get(OutboxMessage, message.id)
            if row is None:  # pragma: no cover
                return False
            row.last_error = error[:2000]
            row.next_attempt_at = self.clock() + backoff(message.attempts)
            return row.attempts >= self.max_attempts

    def run_once(self) -> tuple[int, int]:
        """Deliver what is due now; returns (delivered, failed)."""
        ok = failed = 0
        for message in self.lease():
            try:
                self.senders[message.kind](message)
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"
                if self._failed(message, error):
                    log.error(
                        "outbox %s dead-lettered after %d attempts: %s",
                        message.key,
                        message.attempts,
                        error,
                    )
                    metrics.OUTBOX_DELIVERIES.labels(message.kind, "dead_lettered").inc()
                else:
                    log.warning("outbox %s (%s) failed: %s", message.key, message.attempts, exc)
                    metrics.OUTBOX_DELIVERIES.labels(message.kind, "failed").inc()
                failed += 1
            else:
                self._done(message)
                metrics.OUTBOX_DELIVERIES.labels(message.kind, "delivered").inc()
                ok += 1
        return ok, failed

    async def run_forever(self, interval_s: float) -> None:
        """Poll every ``interval_s`` seconds (on a worker thread) until cancelled."""
        while True:
            try:
                await asyncio.to_thread(self.run_once)
            except Exception:
                log.exception("outbox delivery failed")
            await asyncio.sleep(interval_s)


def senders_from(
    notify_url: str | None,
    report_url: str | None,
    reports_dir: Path | None,
    *,
    secret: bytes | None = None,
) -> dict[str, Sender]:
    """The senders the settings configure; webhooks are signed with ``secret`` if given."""
    senders: dict[str, Sender] = {}
    if notify_url:
        # Content digests, the abuse desk's notices and model alerts (drift, canary
        # rollbacks) go to the same receiver.
        senders["notification"] = senders["abuse_notice"] = webhook_sender(notify_url, secret)
        senders["model_alert"] = senders["notification"]
    if report_url:
        senders["report"] = webhook_sender(report_url, secret)
    elif reports_dir is not None:
        senders["report"] = file_sender(reports_dir)
    return senders


@dataclass(frozen=True)
class DeadLetter:
    """An outbox row that used all its attempts without being delivered."""

    id: int
    kind: str
    key: str
    zone: str | None
    attempts: int
    created_at: datetime
    last_error: str | None


def dead_letters(database: Database, max_attempts: int, *, limit: int = 1000) -> list[DeadLetter]:
    """Undelivered rows with ``attempts >= max_attempts``, oldest first."""
    with database.session() as session:
        rows = session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.delivered_at.is_(None), OutboxMessage.attempts >= max_attempts)
            .order_by(OutboxMessage.id)
            .limit(limit)
        ).all()
        return [
            DeadLetter(r.id, r.kind, r.key, r.zone, r.attempts, r.created_at, r.last_error)
            for r in rows
        ]


def retry_dead(
    database: Database,
    max_attempts: int,
    ids: list[int] | None = None,
    *,
    now: datetime | None = None,
) -> int:
    """Put dead-lettered rows (all, or those in ``ids``) back in the queue, due now.

    Their attempt counts restart at zero; ``last_error`` is kept until the next attempt.
    Returns how many rows were re-queued.
    """
    when = now or datetime.now(UTC)
    with database.session(write=True) as session:
        query = select(OutboxMessage).where(
            OutboxMessage.delivered_at.is_(None), OutboxMessage.attempts >= max_attempts
        )
        if ids is not None:
            query = query.where(OutboxMessage.id.in_(ids))
        rows = session.scalars(query.with_for_update()).all()
        for row in rows:
            row.attempts = 0
            row.next_attempt_at = when
        return len(rows)


def senders_for(settings: Settings) -> dict[str, Sender]:
    """The senders ``settings`` configure (webhooks signed with ``webhook_secret``)."""
    secret = settings.webhook_secret
    urls = settings.content_notify_url or settings.content_report_url
    if urls and secret is None:
        log.warning("webhooks are sent unsigned: set webhook_secret so receivers can verify them")
    senders = senders_from(
        settings.content_notify_url,
        settings.content_report_url,
        settings.content_reports_dir,
        secret=secret.get_secret_value().encode() if secret is not None else None,
    )
    if "abuse_notice" in senders:  # notices to hosts also as X-ARF
        from bastion.service.abuse_notices import with_xarf

        senders["abuse_notice"] = with_xarf(senders["abuse_notice"], settings.abuse_notice_sender)
    return senders
