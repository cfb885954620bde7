"""Re-check of a case's URL before closing: a real site answering 200, then 404, fetched
through the SSRF-safe fetcher (loopback allowed for the test only); outcomes recorded and
audited; the case closes only when the URL is gone."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from test_abuse_api import Api, make_api

from bastion.abuse.enforcement import recheck_outcome
from bastion.waf.scorer import Scorer, load_scorer


@pytest.mark.parametrize(
    ("status", "code", "outcome"),
    [(404, None, "gone"), (410, None, "gone"), (None, "dns", "gone"), (200, None, "still_up"),
     (204, None, "still_up"), (None, "connect", "unreachable"), (None, "timeout", "unreachable"),
     (451, None, "inconclusive"), (503, None, "inconclusive"),
     (None, "forbidden_address", "inconclusive")],
)  # fmt: skip
def test_outcomes(status: int | None, code: str | None, outcome: str) -> None:
    assert recheck_outcome(status, code) == outcome


class _Site(http.server.BaseHTTPRequestHandler):
    status: ClassVar[int] = 200

    def do_GET(self) -> None:
        body = b"<html>phish</html>" if _Site.status == 200 else b"gone"
        self.send_response(_Site.status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    return load_scorer()


@pytest.fixture
def site() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


@pytest.fixture
def api(tmp_path: Path, database_url: str, scorer: Scorer) -> Iterator[Api]:
    yield from make_api(tmp_path, database_url, scorer, csp_fetch_allow=("loopback",))


def test_a_case_closes_only_once_its_url_is_gone(api: Api, site: int) -> None:
    r = api.report(urls=[f"http://127.0.0.1:{site}/phish"])
    assert r.status_code == 202
    [case] = api.cases(1)
    url = f"/v1/abuse/cases/{case['id']}"
    api.client.post(f"{url}/actions", json={"action": "block"}, headers=api.h("ts"))
    _Site.status = 200
    r = api.client.post(f"{url}/recheck?close=true", headers=api.h("ts"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["outcome"], body["status"], body["closed"]) == ("still_up", 200, False)
    assert "not gone" in body["why"] and body["state"] == "actioned"
    _Site.status = 404
    r = api.client.post(f"{url}/recheck", headers=api.h("ts"))  # without close: only recorded
    assert r.json()["outcome"] == "gone" and r.json()["state"] == "actioned"
    r = api.client.post(f"{url}/recheck?close=true", headers=api.h("ts"))
    assert r.json()["closed"] is True and r.json()["state"] == "closed"
    actions = api.client.get(url, headers=api.h("ts")).json()["actions"]
    assert [a["action"] for a in actions] == ["open", "block", "recheck", "recheck", "recheck",
                                              "close"]  # fmt: skip
    assert actions[2]["detail"]["outcome"] == "still_up"
    assert api.client.post("/v1/abuse/cases/999/recheck", headers=api.h("ts")).status_code == 404
    for who, code in (("owner", 403), ("analyst", 403), ("public", 401)):
        assert api.client.post(f"{url}/recheck", headers=api.h(who)).status_code == code


def test_the_fetcher_refuses_internal_addresses(
    tmp_path: Path, database_url: str, scorer: Scorer, site: int
) -> None:
    for api in make_api(tmp_path, database_url, scorer):  # default policy: public only
        api.report(urls=[f"http://127.0.0.1:{site}/phish"])
        [case] = api.cases(1)
        r = api.client.post(f"/v1/abuse/cases/{case['id']}/recheck?close=true",
                            headers=api.h("ts"))  # fmt: skip
        body = r.json()
        assert body["outcome"] == "inconclusive" and "forbidden_address" in body["detail"]
        assert body["closed"] is False
