"""The abuse desk in one service worker: intake (rate limits, validation, publish) and the
consumer that turns the stream into cases.

Intake never writes the database: an accepted report is an event on the stream, published
durably before the answer (202) is sent; the consumer (:mod:`bastion.service.abuse_worker`,
one per worker process, all sharing one durable consumer) stores it. The stream is the one
``abuse_stream_url`` names, or by default an embedded log beside the SQLite database file.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ipaddress
import logging
import math
from datetime import timedelta
from pathlib import Path

from starlette.datastructures import Headers

from bastion.abuse.events import report_event
from bastion.abuse.reports import Report, ReportSubmission
from bastion.auth import LocalRateLimiter, RedisRateLimiter
from bastion.config import Settings
from bastion.service.abuse_worker import AbuseWorker, clocks_of
from bastion.store.db import Database, normalize_url
from bastion.stream import EventStream, open_stream

log = logging.getLogger("bastion.service.abuse")


class RateLimited(Exception):
    """Too many reports from one address or one email; ``retry_after_s`` for the header."""

    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after = str(max(1, math.ceil(retry_after_s)))


def stream_url_for(settings: Settings) -> str:
    """``abuse_stream_url``, or an embedded log beside the SQLite file (memory otherwise)."""
    if settings.abuse_stream_url:
        return settings.abuse_stream_url
    url = normalize_url(settings.database_url)
    name = url.database
    if url.get_backend_name() == "sqlite" and name not in (None, "", ":memory:"):
        path = Path(name)
        return f"embedded://{path.with_name(path.stem + '-abuse-events.db')}"
    return "embedded://"


class AbuseDesk:
    """Intake and consumer of one worker process."""

    def __init__(
        self,
        settings: Settings,
        database: Database,
        stream: EventStream,
        limiter: LocalRateLimiter | RedisRateLimiter,
        rate_share: float = 1.0,
    ) -> None:
        self.settings = settings
        self.database = database
        self.stream = stream
        self.limiter = limiter
        self.rate_share = rate_share
        self.proxies = [
            ipaddress.ip_network(n, strict=False) for n in settings.abuse_trusted_proxies
        ]
        self.worker = AbuseWorker(
            database,
            stream,
            durable=settings.abuse_consumer,
            window=timedelta(seconds=settings.abuse_dedup_window_s),
            zone_refresh_s=settings.abuse_zone_refresh_s,
            clocks=clocks_of(settings),
        )
        self._task: asyncio.Task[None] | None = None

    @classmethod
    async def open(
        cls,
        settings: Settings,
        database: Database,
        limiter: LocalRateLimiter | RedisRateLimiter,
        rate_share: float = 1.0,
    ) -> AbuseDesk:
        url = stream_url_for(settings)
        options: dict[str, object] = {}
        if url.startswith(("nats://", "tls://")):
            options["pack"] = settings.abuse_stream_pack
        elif url == "embedded://":
            log.warning(
                "abuse desk: in-memory event stream (not durable); set abuse_stream_url to a "
                "nats:// server or an embedded:// file"
            )
        stream = await open_stream(url, **options)
        return cls(settings, database, stream, limiter, rate_share)

    # -- intake ---------------------------------------------------------------------

    def client_ip(self, peer: str | None, headers: Headers) -> str:
        """The client's address: the peer, or the last untrusted ``X-Forwarded-For`` hop
        when the peer is a trusted proxy."""
        ip = peer or "unknown"
        if not self.proxies:
            return ip
        hops = [h.strip() for h in headers.get("x-forwarded-for", "").split(",") if h.strip()]
        while self._trusted(ip) and hops:
            ip = hops.pop()
        return ip

    def _trusted(self, ip: str) -> bool:
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            return False
        return any(addr in net for net in self.proxies)

    def _limit(self, key: str, rate: float, burst: float, what: str) -> None:
        verdict = self.limiter.allow(key, rate * self.rate_share, burst)
        if not verdict.allowed:
            raise RateLimited(
                f"too many reports from this {what}; try again later", verdict.retry_after_s
            )

    def check_ip(self, ip: str) -> None:
        s = self.settings
        self._limit(f"abuse:ip:{ip}", s.abuse_ip_rate, s.abuse_ip_burst, "address")

    def check_email(self, email: str) -> None:
        if not email:
            return
        digest = hashlib.sha256(email.lower().encode()).hexdigest()[:32]
        s = self.settings
        self._limit(
            f"abuse:email:{digest}", s.abuse_email_rate, s.abuse_email_burst, "email address"
        )

    async def submit(self, submission: ReportSubmission, *, source: str) -> Report:
        """Validate and publish one report (after the caller's IP check); raises
        :class:`RateLimited`, ``InvalidReportError``/``InvalidUrlError``, ``StreamError``."""
        self.check_email(submission.reporter.email)
        report = submission.accept(source=source)
        await self.stream.publish_batch([report_event(report)])
        return report

    # -- lifecycle ------------------------------------------------------------------

    def start_consumer(self) -> None:
        if self._task is None and self.settings.abuse_consume:
            self._task = asyncio.create_task(self.worker.run_forever())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.stream.close()
