"""Evidence attachments: checked by content, size- and count-limited, stored once by hash,
listed and downloaded by staff only, and never served with a type a browser would render
or execute. SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_abuse_api import Api, make_api, secret_report

from bastion.abuse.evidence import (
    InvalidEvidenceError,
    accept_evidence,
    check_report_id,
    sniff,
)
from bastion.abuse.reports import new_report_id
from bastion.waf.scorer import Scorer, load_scorer

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
HTML = b"<html><script>alert(document.cookie)</script></html>"


def test_content_decides_not_the_declared_type() -> None:
    assert sniff(PNG) == "image/png" and sniff(PDF) == "application/pdf"
    assert sniff(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp" and sniff(HTML) is None
    ok = accept_evidence(PNG, "image/png; q=1", "../../etc/pass wd.png", max_bytes=1000)
    assert ok.media_type == "image/png" and ok.filename == "etc_pass_wd.png"
    assert ok.sha256 == hashlib.sha256(PNG).hexdigest()
    text = accept_evidence("Received: from x\nSubject: é".encode(), "message/rfc822", "",
                           max_bytes=1000)  # fmt: skip
    assert text.filename == "evidence"
    for data, declared, needle in (
        (HTML, "text/html", "not accepted"),
        (HTML, "image/svg+xml", "not accepted"),
        (HTML, "image/png", "not a known format"),
        (PNG, "text/plain", "content is image/png"),
        (b"\xff\xfe\x00", "text/plain", "UTF-8"),
        (PDF, "image/jpeg", "content is application/pdf"),
        (b"", "image/png", "empty"),
        (PNG * 100, "image/png", "at most"),
    ):
        with pytest.raises(InvalidEvidenceError, match=needle):
            accept_evidence(data, declared, "x", max_bytes=1000)


def test_the_report_id_is_the_capability_for_a_day() -> None:
    check_report_id(new_report_id())
    old = f"{int((time.time() - 25 * 3600) * 1000):012x}" + "ab" * 10
    for bad, needle in ((old, "within 24 hours"), ("xyz", "not a report id"),
                        ("A" * 32, "not a report id")):  # fmt: skip
        with pytest.raises(InvalidEvidenceError, match=needle):
            check_report_id(bad)


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    return load_scorer()


@pytest.fixture
def api(tmp_path: Path, database_url: str, scorer: Scorer) -> Iterator[Api]:
    yield from make_api(tmp_path, database_url, scorer, abuse_evidence_max_bytes=4096,
                        abuse_evidence_per_report=2)  # fmt: skip


def test_attach_list_and_download(api: Api) -> None:
    report_id = secret_report(api, consent=False)
    url = f"/v1/abuse/reports/{report_id}/evidence"

    def attach(data: bytes, kind: str, name: str = "shot.png") -> Any:
        return api.client.post(f"{url}?filename={name}", content=data,
                               headers={"Content-Type": kind})  # fmt: skip

    r = attach(PNG, "image/png")
    assert r.status_code == 201, r.text
    sha = r.json()["sha256"]
    again = attach(PNG, "image/png")
    assert again.status_code == 200 and again.json()["added"] is False
    for data, kind, code in ((HTML, "text/html", 415), (HTML, "image/png", 400),
                             (PNG * 100, "image/png", 413)):  # fmt: skip
        assert attach(data, kind).status_code == code
    assert attach(PDF, "application/pdf", "x.pdf").status_code == 201
    assert attach(b"third", "text/plain").status_code == 409
    late = f"{int((time.time() - 25 * 3600) * 1000):012x}" + "cd" * 10
    r = api.client.post(f"/v1/abuse/reports/{late}/evidence", content=PNG,
                        headers={"Content-Type": "image/png"})  # fmt: skip
    assert r.status_code == 400 and "24 hours" in r.json()["error"]
    # Staff list and download; the download is never something a browser renders.
    listed = api.client.get(url, headers=api.h("ts")).json()["evidence"]
    expected = [("image/png", len(PNG)), ("application/pdf", len(PDF))]
    assert [(e["media_type"], e["size"]) for e in listed] == expected
    got = api.client.get(f"/v1/abuse/evidence/{sha}", headers=api.h("ts"))
    assert got.status_code == 200 and got.content == PNG
    assert got.headers["content-type"] == "application/octet-stream"
    assert got.headers["content-disposition"].startswith("attachment;")
    assert got.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in got.headers["content-security-policy"]
    missing = api.client.get(f"/v1/abuse/evidence/{'0' * 64}", headers=api.h("ts"))
    assert missing.status_code == 404
    # Nobody else: evidence may identify the reporter.
    for who, code in (("owner", 403), ("analyst", 403), ("ingest", 403), ("public", 401)):
        assert api.client.get(url, headers=api.h(who)).status_code == code
        assert api.client.get(f"/v1/abuse/evidence/{sha}", headers=api.h(who)).status_code == code
