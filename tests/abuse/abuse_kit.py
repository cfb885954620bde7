"""Helpers for the abuse desk's tests: reports, events, and streams on both engines."""

from __future__ import annotations

import asyncio
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bastion.abuse import Event, ReportSubmission, report_event
from bastion.stream import EmbeddedStream, EventStream

NATS_ENV = "BASTION_TEST_NATS_URL"
NATS_URL = os.environ.get(NATS_ENV, "nats://127.0.0.1:4222")
T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def report_events(n: int, *, kind: str = "phishing", host: str = "shop.example") -> list[Event]:
    """``n`` report events, each about its own URL, from ``n`` reporters."""
    out = []
    for i in range(n):
        sub = ReportSubmission.model_validate(
            {
                "type": kind,
                "urls": [f"https://{host}/page/{i}"],
                "reporter": {"email": f"r{i}@reporters.example"},
            }
        )
        out.append(report_event(sub.accept(source="test", received_at=T0)))
    return out


class Streams:
    """Opens streams of one engine; JetStream streams get unique names and are deleted."""

    def __init__(self, engine: str, tmp_path: Path) -> None:
        self.engine = engine
        self.tmp_path = tmp_path
        self.name = f"BASTION_TEST_{secrets.token_hex(5).upper()}"
        self.subject = f"bastion.test.{self.name.lower()}"
        self.path = tmp_path / "events.db"

    @property
    def url(self) -> str:
        return NATS_URL if self.engine == "jetstream" else f"embedded://{self.path}"

    async def open(self, **options: Any) -> EventStream:
        if self.engine == "embedded":
            return EmbeddedStream(self.path)
        from bastion.stream.jetstream import JetStreamStream

        return await JetStreamStream.connect(
            NATS_URL, stream=self.name, subject=self.subject, **options
        )

    def options(self) -> dict[str, str]:
        """What a subprocess needs to open the same stream."""
        return {"url": self.url, "stream": self.name, "subject": self.subject}

    def cleanup(self) -> None:
        if self.engine != "jetstream":
            return

        async def delete() -> None:
            from bastion.stream.jetstream import JetStreamStream

            stream = await JetStreamStream.connect(NATS_URL, stream=self.name, subject=self.subject)
            await stream.delete()
            await stream.close()

        asyncio.run(delete())
