"""Notices to hosting providers also as X-ARF: the message reads back as X-ARF with this
desk's own parser, carries nothing of the reporter, and reaches a real webhook receiver
through the outbox (hosts only; owners' notices unchanged). SQLite and PostgreSQL."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import pytest

from bastion.abuse import Processor, ReportSubmission
from bastion.abuse.arf import parse_abuse_mail, xarf_notice
from bastion.abuse.reputation import Reputation
from bastion.config import load_settings
from bastion.service.outbox import OutboxDeliverer, senders_for
from bastion.store import Database
from bastion.store.abuse import apply_batch, load_zones, set_zone_contacts

T0 = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)
SECRETS = ("rita@reporters.example", "Rita Secret")


def test_an_xarf_notice_reads_back_as_xarf() -> None:
    case = {"id": 7, "type": "phishing", "url": "https://shop.example/login?a=1:b",
            "opened_at": T0.isoformat(), "report_count": 3}  # fmt: skip
    text = xarf_notice(case, sender="abuse@desk.example", recipient="abuse@hostco.example")
    assert "X-XARF: PLAIN" in text and "To: abuse@hostco.example" in text
    back = parse_abuse_mail(text.encode())
    assert back.format == "xarf" and back.type == "phishing"
    assert back.urls == ["https://shop.example/login?a=1:b"]
    assert "3 report(s) of phishing" in back.description
    malware = parse_abuse_mail(xarf_notice({**case, "type": "malware"}, sender="a@b.example",
                                           recipient=None).encode())  # fmt: skip
    assert malware.type == "malware"


class _Receiver(http.server.BaseHTTPRequestHandler):
    got: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Receiver.got.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    _Receiver.got.clear()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()


def test_host_notices_carry_xarf_through_the_outbox(
    clean_database: Database, receiver: str
) -> None:
    db = clean_database
    with db.session(write=True) as s:
        set_zone_contacts(s, "shop.example", owner_contact="owner@shop.example", host="HostCo",
                          host_contact="abuse@hostco.example", actor="test")  # fmt: skip
    report = ReportSubmission.model_validate(
        {"type": "phishing", "urls": ["https://shop.example/login"],
         "description": "I am Rita Secret (rita@reporters.example)",
         "reporter": {"name": "Rita Secret", "email": "rita@reporters.example"}}
    ).accept(source="test", received_at=T0)  # fmt: skip
    with db.session() as s:
        zones = load_zones(s)
    processor = Processor(zones, window=timedelta(hours=1))
    apply_batch(db, [processor.process(report, Reputation())], window=timedelta(hours=1),
                clock=lambda: T0)  # fmt: skip
    settings = load_settings(None, content_notify_url=receiver,
                             abuse_notice_sender="abuse@desk.example")  # fmt: skip
    sent, failed = OutboxDeliverer(db, senders_for(settings)).run_once()
    assert (sent, failed) == (2, 0)
    by_audience = {m["audience"]: m for m in _Receiver.got}
    assert "xarf" not in by_audience["owner"]
    [xarf] = by_audience["host"]["xarf"]
    parsed = parse_abuse_mail(xarf.encode())
    assert parsed.urls == ["https://shop.example/login"] and parsed.type == "phishing"
    assert parsed.reporter.email == "abuse@desk.example"
    for secret in SECRETS:
        assert secret not in xarf
