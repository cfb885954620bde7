"""bastion's own signals on the abuse stream: WAF attack bursts (a scoring observer), new
content blocks and malicious script verdicts become reports, then cases."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from test_abuse_api import Api, make_api

from bastion.abuse.signals import BurstDetector, content_match, malicious_script, waf_burst
from bastion.scripts.monitor.alerts import AlertSpec
from bastion.waf.scorer import Scorer, load_scorer

T0 = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)


def test_burst_detector_fires_once_per_zone_and_window() -> None:
    d = BurstDetector(threshold=3, window_s=60)
    assert d.observe(["Shop.Example:443", "a.example"], 0) == []
    assert d.observe(["shop.example"], 10) == []
    assert d.observe(["shop.example", "shop.example"], 20) == [("shop.example", 3)]
    assert d.observe(["shop.example"] * 10, 30) == []  # once per window
    assert d.observe(["shop.example"] * 3, 61) == [("shop.example", 3)]  # the next window
    assert d.observe(["", "a.example"], 62) == []
    with pytest.raises(ValueError):
        BurstDetector(0, 60)


def test_signal_reports_are_one_per_url_and_hour() -> None:
    a = content_match("https://Shop.example/x.jpg", T0, "ncmec", "ab" * 32)
    b = content_match("https://shop.example/x.jpg", T0 + timedelta(minutes=30))
    c = content_match("https://shop.example/x.jpg", T0 + timedelta(hours=1))
    assert a is not None and b is not None and c is not None
    assert a.id == b.id != c.id and a.source == "signal:content" and a.type == "other"
    assert "ncmec" in a.description
    s = malicious_script("https://cdn.example/skim.js", "shop.example", "score 3", T0)
    assert s is not None and s.type == "malware" and s.reporter.name == "bastion script monitor"
    w = waf_burst("shop.example", 200, 60, T0)
    assert w is not None and w.urls == ["https://shop.example/"] and "200" in w.description
    assert waf_burst("bad host!", 1, 60, T0) is None
    assert content_match("ftp://x.example/", T0) is None


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    return load_scorer()


@pytest.fixture
def api(tmp_path: Path, database_url: str, scorer: Scorer) -> Iterator[Api]:
    yield from make_api(tmp_path, database_url, scorer, abuse_waf_burst_threshold=3,
                        abuse_waf_burst_window_s=3600)  # fmt: skip


def wait_for_case(api: Api, url: str, timeout_s: float = 15.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        for case in api.cases(0):
            if case["url"] == url:
                return case
        assert time.monotonic() < deadline, f"no case for {url}"
        time.sleep(0.1)


def test_a_waf_burst_becomes_a_case(api: Api) -> None:
    headers = {"Host": "shop.example", "X-Original-Method": "GET",
               "X-Bastion-Token": api.tokens["ingest"]}  # fmt: skip
    attack = "/search?q=1%27%20UNION%20SELECT%20username,password%20FROM%20users--%20-"
    for _ in range(2):
        r = api.client.get("/v1/edge/check", headers={**headers, "X-Original-URI": attack})
        assert r.status_code == 403
    time.sleep(1.0)
    assert all(c["url"] != "https://shop.example/" for c in api.cases(0))  # not yet a burst
    for _ in range(5):
        api.client.get("/v1/edge/check", headers={**headers, "X-Original-URI": attack})
    case = wait_for_case(api, "https://shop.example/")
    assert case["type"] == "other" and case["report_count"] == 1
    detail = api.client.get(f"/v1/abuse/cases/{case['id']}", headers=api.h("ts")).json()
    assert detail["reports"][0]["source"] == "signal:waf"
    assert "WAF attack burst" in detail["reports"][0]["description"]


def test_content_blocks_and_malicious_scripts_become_cases(api: Api) -> None:
    state = api.client.app.state  # type: ignore[attr-defined]
    state.content.on_block("shop.example", "/img/bad.jpg", "active")
    state.content.on_block("shop.example", "/img/released.jpg", "released")  # not a signal
    case = wait_for_case(api, "https://shop.example/img/bad.jpg")
    assert case["type"] == "other"
    monitor = getattr(state, "scripts_monitor", None)
    assert monitor is not None and monitor.on_alert is not None
    monitor.on_alert(AlertSpec("malicious", "shop.example", "https://cdn.evil.example/skim.js",
                               "k1", {"score": 2}))  # fmt: skip
    monitor.on_alert(AlertSpec("new_script", "shop.example", "https://cdn.ok.example/a.js",
                               "k2", {}))  # fmt: skip
    script_case = wait_for_case(api, "https://cdn.evil.example/skim.js")
    assert script_case["type"] == "malware"
    time.sleep(1.0)
    urls = {c["url"] for c in api.cases(0)}
    assert "https://shop.example/img/released.jpg" not in urls
    assert "https://cdn.ok.example/a.js" not in urls
