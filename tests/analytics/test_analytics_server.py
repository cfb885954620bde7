"""``bastion serve`` with two worker processes logging into one DuckDB file: every scored
request is written once, readable from either worker, and the log is flushed on SIGTERM."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "service"))
from service_kit import running_server

N = 120


def _total(url: str, token: str) -> int:
    r = httpx.get(
        f"{url}/v1/analytics/zones/_/summary",
        params={"since": str(int(time.time() * 1000) - 3_600_000)},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    return int(r.json()["total"])


def test_two_workers_share_one_store(tmp_path: Path) -> None:
    with running_server(tmp_path, workers=2, BASTION_ANALYTICS_FLUSH_S="0.2") as server:
        auth = {"Authorization": f"Bearer {server.token}"}
        with httpx.Client(timeout=30) as client:
            for i in range(N):
                # A new connection each time, so both workers take requests.
                r = client.post(
                    f"{server.url}/v1/waf/score",
                    json={"method": "GET", "uri": f"/p?i={i}", "headers": [["Host", "a.test"]]},
                    headers=auth | {"Connection": "close"},
                )
                assert r.status_code == 200
        deadline = time.monotonic() + 30
        while (total := _total(server.url, server.token)) < N and time.monotonic() < deadline:
            time.sleep(0.2)
        assert total == N
        assert (tmp_path / "server-analytics.duckdb").exists()
    # After a clean shutdown (SIGTERM), a fresh server still sees all of them.
    with running_server(tmp_path, workers=1) as again:
        assert _total(again.url, again.token) == N
