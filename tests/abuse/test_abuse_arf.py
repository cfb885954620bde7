"""ARF (RFC 5965) and X-ARF intake: parsing, per-message errors, and a Maildir read onto the
stream and into cases by the CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bastion.abuse.arf import ArfError, parse_abuse_mail
from bastion.abuse.reports import ReportType
from bastion.cli import app

T0 = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)

# RFC 5965, appendix B.2 (with a Reported-URI added, as the RFC allows), CRLF line ends.
ARF = """\
From: <abusedesk@example.com>
Date: Thu, 8 Mar 2005 17:40:36 EDT
Subject: FW: Earn money
To: <abuse@example.net>
MIME-Version: 1.0
Message-ID: <arf-1@example.com>
Content-Type: multipart/report; report-type=feedback-report;
     boundary="part1_13d.2e68ed54_boundary"

--part1_13d.2e68ed54_boundary
Content-Type: text/plain; charset="US-ASCII"
Content-Transfer-Encoding: 7bit

This is an email abuse report for an email message received from IP
192.0.2.1 on Thu, 8 Mar 2005 14:00:00 EDT.
For more information about this format please see
http://www.mipassoc.org/arf/.

--part1_13d.2e68ed54_boundary
Content-Type: message/feedback-report

Feedback-Type: fraud
User-Agent: SomeGenerator/1.0
Version: 1
Original-Mail-From: <somespammer@example.net>
Original-Rcpt-To: <user@example.com>
Arrival-Date: Thu, 8 Mar 2005 14:00:00 EDT
Reporting-MTA: dns; mail.example.com
Source-IP: 192.0.2.1
Authentication-Results: mail.example.com;
               spf=fail smtp.mail=somespammer@example.com
Reported-Domain: example.net
Reported-URI: http://login.Bank.example/verify?id=1
Reported-URI: https://login.bank.example:443/verify?id=1
Reported-URI: http://other.example/x

--part1_13d.2e68ed54_boundary
Content-Type: message/rfc822
Content-Disposition: inline

From: <somespammer@example.net>
Received: from mailserver.example.net (mailserver.example.net
        [192.0.2.1]) by example.com with ESMTP id M63d4137594e46;
        Thu, 08 Mar 2005 14:00:00 -0400
To: <Undisclosed Recipients>
Subject: Earn money
MIME-Version: 1.0
Content-type: text/plain
Message-ID: 8787KJKJ3K4J3K4J3K4J3.mail@example.net
Date: Thu, 02 Sep 2004 12:31:03 -0500

Spam Spam Spam
Spam Spam Spam

--part1_13d.2e68ed54_boundary--
""".replace("\n", "\r\n").encode()

XARF = b"""\
From: "CERT X" <reports@cert-x.example>
To: abuse@hostco.example
Subject: abuse report about https://shop.example/phish
Message-ID: <xarf-1@cert-x.example>
X-XARF: PLAIN
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b"

--b
Content-Type: text/plain; charset=utf-8

Dear abuse team, this page phishes bank logins.
--b
Content-Type: text/plain; charset=utf-8; name="report.txt"

---
Reported-From: reports@cert-x.example
Category: fraud
Report-Type: phishing-site
Service: http
Version: 0.2
User-Agent: certbot 1.0
Date: Thu, 10 Nov 2026 11:00:00 +0000
Source-Type: uri
Source: https://shop.example/phish
Attachment: none
--b--
"""

XARF_JSON = b"""\
From: reports@feeds.example
Message-ID: <xarf-2@feeds.example>
X-XARF: PLAIN
Content-Type: multipart/mixed; boundary="b"

--b
Content-Type: text/plain

Malware.
--b
Content-Type: application/json

{"Version": "4", "Report": {"ReportClass": "Content", "ReportType": "malware",
 "Url": "http://mal.example/a.exe", "Date": "2026-11-10T11:00:00Z"}}
--b--
"""


def test_arf_per_rfc_5965() -> None:
    got = parse_abuse_mail(ARF)
    assert got.format == "arf" and got.type is ReportType.PHISHING  # Feedback-Type: fraud
    assert got.urls == [
        "http://login.bank.example/verify?id=1",
        "https://login.bank.example/verify?id=1",
        "http://other.example/x",
    ]
    assert got.reporter.email == "abusedesk@example.com" and not got.reporter.consent
    assert "fraud" in got.description and "192.0.2.1" in got.description
    assert got.arrival is not None and got.arrival.year == 2005
    report = got.to_report(T0)
    assert report.source == "mail:arf" and report.id == parse_abuse_mail(ARF).to_report(T0).id


def test_xarf_yaml_and_json() -> None:
    got = parse_abuse_mail(XARF)
    assert (got.format, got.type, got.urls) == ("xarf", "phishing", ["https://shop.example/phish"])
    assert got.reporter.name == "CERT X" and got.reporter.organization == "cert-x.example"
    assert "phishes bank logins" in got.description
    js = parse_abuse_mail(XARF_JSON)
    assert (js.type, js.urls) == ("malware", ["http://mal.example/a.exe"])


def _mutate(data: bytes, old: bytes, new: bytes) -> bytes:
    assert old in data
    return data.replace(old, new)


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        (b"", "empty"),
        (b"just some words", "no headers"),
        (b"From: a@b.example\r\nContent-Type: text/plain\r\n\r\nhello\r\n", "neither ARF"),
        (_mutate(ARF, b"Feedback-Type: fraud\r\n", b""), "Feedback-Type"),
        (_mutate(ARF, b"Version: 1\r\n", b"Version: 7\r\n"), "Version"),
        (_mutate(ARF, b"Content-Type: message/feedback-report", b"Content-Type: text/plain"),
         "feedback-report part"),
        (ARF.replace(b"Reported-URI: ", b"X-Ignored: "), "no URL"),
        (_mutate(ARF, b"http://other.example/x", b"ftp://other.example/x"), "Reported-URI #3"),
        (_mutate(XARF, b"Category: fraud", b"Category: bogus").replace(
            b"Report-Type: phishing-site", b"Report-Type: weird"), "bogus"),
        (_mutate(XARF, b"Source-Type: uri", b"Source-Type: ip-address"), "Source-Type"),
        (_mutate(XARF_JSON, b'"Url"', b'"Uhh"'), "no URL"),
        (_mutate(XARF_JSON, b"{", b"{{"), "not JSON"),
        (b"From: a@b.example\r\nX-Filler: " + b"x" * (11 << 20) + b"\r\n\r\n", "MiB"),
    ],
)  # fmt: skip
def test_malformed_messages_name_the_problem(raw: bytes, needle: str) -> None:
    with pytest.raises(ArfError, match=needle):
        parse_abuse_mail(raw)


def test_a_maildir_is_read_onto_the_stream(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"BASTION_DATABASE_URL": f"sqlite:///{tmp_path / 'b.db'}", "BASTION_CONFIG": ""}

    def cli(*args: str, code: int = 0) -> Any:
        result = runner.invoke(app, ["abuse", *args], env=env)
        assert result.exit_code == code, (result.stdout, result.stderr)
        return result

    cli("zone", "set", "bank.example")
    cli("zone", "set", "shop.example")
    box = tmp_path / "Maildir"
    for sub in ("new", "cur", "tmp"):
        (box / sub).mkdir(parents=True)
    (box / "new" / "1.arf").write_bytes(ARF)
    (box / "new" / "2.xarf").write_bytes(XARF)
    (box / "new" / "3.bad").write_bytes(b"From: a@b.example\r\n\r\nhello\r\n")
    result = cli("mailbox", str(box))
    assert json.loads(result.stdout) == {"read": 3, "published": 2, "failed": 1}
    assert "3.bad: neither ARF" in result.stderr
    assert sorted(p.name for p in (box / "cur").iterdir()) == ["1.arf", "2.xarf"]
    assert "neither ARF" in (box / "failed" / "3.bad.error").read_text()
    assert not list((box / "new").iterdir())
    # The same messages again (re-delivered): the same reports, nothing new.
    (box / "new" / "1-again.arf").write_bytes(ARF)
    cli("mailbox", str(box))
    stats = json.loads(cli("consume", "--until-idle").stdout)
    assert stats["new_reports"] == 2
    cases = json.loads(cli("cases", "list", "--json").stdout)
    assert {(c["type"], c["url"]) for c in cases} == {
        ("phishing", "http://login.bank.example/verify?id=1"),
        ("phishing", "https://login.bank.example/verify?id=1"),
        ("phishing", "http://other.example/x"),
        ("phishing", "https://shop.example/phish"),
    }
    assert "not a directory" in cli("mailbox", str(tmp_path / "nope"), code=2).stderr
