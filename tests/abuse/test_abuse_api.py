"""The abuse desk over HTTP, on SQLite and PostgreSQL: public intake (API and form), rate
limits, 4xx that name the problem, cases and actions by role, and the privacy bar on
every endpoint that returns a case or a report."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bastion.auth import TokenStore
from bastion.config import load_settings
from bastion.service.app import create_app
from bastion.store import AuditEntry, Database
from bastion.store.abuse import set_zone_contacts
from bastion.store.abuse_models import AbuseReport
from bastion.waf.scorer import Scorer, load_scorer

SECRETS = ("rita@reporters.example", "Rita Secret", "Secret Org", "+1 555 123 4567")


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    return load_scorer()


@dataclass
class Api:
    client: TestClient
    tokens: dict[str, str]
    database_url: str

    def h(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"} if who != "public" else {}

    def report(self, **fields: Any) -> Any:
        fields.setdefault("type", "phishing")
        fields.setdefault("urls", ["https://login.shop.example/x"])
        return self.client.post("/v1/abuse/reports", json=fields, headers=self.h("ingest"))

    def cases(self, n: int, who: str = "ts", timeout_s: float = 15.0) -> list[dict[str, Any]]:
        """Wait until the consumer has made at least ``n`` cases visible."""
        deadline = time.monotonic() + timeout_s
        while True:
            r = self.client.get("/v1/abuse/cases", headers=self.h(who))
            assert r.status_code == 200, r.text
            cases: list[dict[str, Any]] = r.json()["cases"]
            if len(cases) >= n or time.monotonic() > deadline:
                return cases
            time.sleep(0.05)


def make_api(tmp_path: Path, database_url: str, scorer: Scorer, **overrides: Any) -> Iterator[Api]:
    db = Database(database_url)
    db.upgrade()
    store = TokenStore(db)
    tokens = {
        "admin": store.create("admin", ["admin"]).token,
        "ts": store.create("t&s", ["trust_safety"]).token,
        "ingest": store.create("partner", ["ingest"]).token,
        "analyst": store.create("analyst", ["analyst"]).token,
        "owner": store.create("shop", ["site_owner"], zones=["shop.example"]).token,
        "other_owner": store.create("else", ["site_owner"], zones=["else.example"]).token,
    }
    with db.session(write=True) as s:
        set_zone_contacts(s, "shop.example", owner_contact="owner@shop.example", host="HostCo",
                          host_contact="abuse@hostco.example", actor="test")  # fmt: skip
    db.dispose()
    settings = load_settings(
        None,
        database_url=database_url,
        abuse_stream_url=f"embedded://{tmp_path / 'events.db'}",
        banks_dir=tmp_path / "banks",
        **overrides,
    )
    with TestClient(create_app(settings, scorer=scorer), raise_server_exceptions=False) as client:
        yield Api(client, tokens, database_url)


@pytest.fixture
def api(tmp_path: Path, database_url: str, scorer: Scorer) -> Iterator[Api]:
    yield from make_api(tmp_path, database_url, scorer)


def secret_report(api: Api, *, consent: bool, kind: str = "phishing", path: str = "x") -> str:
    r = api.report(
        type=kind,
        urls=[f"https://login.shop.example/{path}"],
        description="I am Rita Secret, call +1 555 123 4567 or write rita@reporters.example",
        reporter={"name": "Rita Secret", "email": "rita@reporters.example",
                  "organization": "Secret Org", "consent": consent},
    )  # fmt: skip
    assert r.status_code == 202, r.text
    return str(r.json()["id"])


def test_a_public_report_becomes_a_case(api: Api) -> None:
    r = api.client.post(
        "/v1/abuse/reports",
        json={"type": "phishing", "urls": ["HTTPS://Login.Shop.Example:443/x#frag"],
              "reporter": {"email": "Ann@Example.org"}},
    )  # fmt: skip
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["status"] == "accepted" and body["urls"] == ["https://login.shop.example/x"]
    assert set(body) == {"id", "status", "type", "urls"}  # nothing of the reporter echoed
    api.report(urls=["https://login.shop.example/x"], reporter={"email": "bob@example.org"})
    [case] = api.cases(1)
    assert case["zone"] == "shop.example" and case["queue"] == "analyst"
    deadline = time.monotonic() + 10
    while case["report_count"] < 2 and time.monotonic() < deadline:
        [case] = api.cases(1)
    assert (case["report_count"], case["reporter_count"]) == (2, 2)
    detail = api.client.get(f"/v1/abuse/cases/{case['id']}", headers=api.h("ts")).json()
    sources = sorted(r["source"] for r in detail["reports"])
    assert sources[0] == "api" and sources[1].startswith("token:")
    assert {r["reporter"]["email"] for r in detail["reports"]} == {
        "ann@example.org",
        "bob@example.org",
    }


@pytest.mark.parametrize(
    ("body", "status", "problem"),
    [
        ({"type": "phishing", "urls": ["ftp://x.example/"]}, 400, "urls[0]"),
        ({"type": "phishing", "urls": ["http://a..b/"]}, 400, "empty label"),
        ({"type": "phishing", "urls": []}, 400, "at least one URL"),
        ({"type": "nope", "urls": ["a.example"]}, 400, "body.type"),
        ({"urls": ["a.example"]}, 400, "body.type: Field required"),
        ({"type": "spam", "urls": ["a.example"] * 101}, 400, "body.urls"),
        ({"type": "spam", "urls": ["a.example"], "extra": 1}, 400, "body.extra"),
        ({"type": "spam", "urls": ["a.example"], "reporter": {"email": "x"}}, 400, "email"),
        ({"type": "copyright", "urls": ["a.example"]}, 400, "needs the notice"),
        (
            {"type": "copyright", "urls": ["a.example"],
             "copyright": {"work": "w", "good_faith": True, "accurate": True, "signature": ""},
             "reporter": {"name": "A", "email": "a@b.example"}},
            400, "copyright.signature",
        ),
    ],
)  # fmt: skip
def test_malformed_reports_get_4xx_naming_the_problem(
    api: Api, body: dict[str, Any], status: int, problem: str
) -> None:
    r = api.client.post("/v1/abuse/reports", json=body)
    assert r.status_code == status, r.text
    assert problem in r.json()["error"]


def test_not_json_and_oversized_bodies(api: Api) -> None:
    r = api.client.post("/v1/abuse/reports", content=b"{nope",
                        headers={"Content-Type": "application/json"})  # fmt: skip
    assert r.status_code == 400 and "body" in r.json()["error"]
    big = {"type": "spam", "urls": ["a.example"], "description": "x" * 300_000}
    r = api.client.post("/v1/abuse/reports", json=big)
    assert r.status_code == 413 and "at most" in r.json()["error"]


def test_tokens_on_the_public_endpoint(api: Api) -> None:
    body = {"type": "spam", "urls": ["https://shop.example/s"]}
    r = api.client.post("/v1/abuse/reports", json=body, headers={"Authorization": "Bearer bst_x_y"})
    assert r.status_code == 401
    r = api.client.post("/v1/abuse/reports", json=body, headers=api.h("analyst"))
    assert r.status_code == 403 and "abuse.ingest" in r.json()["error"]


def test_per_address_rate_limit(tmp_path: Path, scorer: Scorer) -> None:
    gen = make_api(tmp_path, f"sqlite:///{tmp_path / 'r.db'}", scorer, abuse_ip_rate=0.001,
                   abuse_ip_burst=3, abuse_consume=False)  # fmt: skip
    api = next(gen)
    body = {"type": "spam", "urls": ["https://shop.example/s"]}
    codes = [api.client.post("/v1/abuse/reports", json=body).status_code for _ in range(4)]
    assert codes == [202, 202, 202, 429]
    r = api.client.post("/v1/abuse/reports", json=body)
    assert int(r.headers["Retry-After"]) >= 1 and "address" in r.json()["error"]
    # The form shares the limit; a partner token does not count against it.
    assert api.client.post("/abuse", data={"type": "spam", "urls": "a.example"}).status_code == 429
    assert api.report().status_code == 202
    gen.close()


def test_per_email_rate_limit(tmp_path: Path, scorer: Scorer) -> None:
    gen = make_api(tmp_path, f"sqlite:///{tmp_path / 'r.db'}", scorer, abuse_email_rate=0.001,
                   abuse_email_burst=2, abuse_consume=False)  # fmt: skip
    api = next(gen)
    codes = [api.report(reporter={"email": "Flood@X.example"}).status_code for _ in range(3)]
    assert codes == [202, 202, 429]
    assert api.report(reporter={"email": "flood@x.example"}).status_code == 429  # case-blind
    assert api.report(reporter={"email": "other@x.example"}).status_code == 202
    gen.close()


def test_the_stream_being_down_is_a_503(tmp_path: Path, scorer: Scorer) -> None:
    gen = make_api(tmp_path, f"sqlite:///{tmp_path / 'r.db'}", scorer, abuse_consume=False)
    api = next(gen)
    api.client.app.state.abuse_desk.stream._conn.close()  # type: ignore[attr-defined]
    r = api.report()
    assert r.status_code == 503 and r.headers["Retry-After"] == "10"
    gen.close()


# -- privacy: every endpoint that returns a case or a report -------------------------------

ABUSE_ROUTES = {
    ("POST", "/v1/abuse/reports"),
    ("GET", "/abuse"),
    ("POST", "/abuse"),
    ("GET", "/v1/abuse/cases"),
    ("GET", "/v1/abuse/cases/{case_id}"),
    ("POST", "/v1/abuse/cases/{case_id}/actions"),
    # Legal orders, bulk actions, transparency: abuse.manage only, and they hold no
    # reporter details (test_abuse_orders_api.py::test_new_routes_show_owners_nothing...).
    ("GET", "/v1/abuse/orders"),
    ("POST", "/v1/abuse/orders"),
    ("GET", "/v1/abuse/orders/{order_id}"),
    ("POST", "/v1/abuse/orders/{order_id}/withdraw"),
    ("POST", "/v1/abuse/cases/bulk-actions"),
    ("GET", "/v1/abuse/transparency"),
    ("GET", "/v1/abuse/feed"),
    ("POST", "/v1/abuse/cases/{case_id}/recheck"),
    # Evidence: staff only to read (test_abuse_evidence.py); attaching returns its hash.
    ("POST", "/v1/abuse/reports/{report_id}/evidence"),
    ("GET", "/v1/abuse/reports/{report_id}/evidence"),
    ("GET", "/v1/abuse/evidence/{sha256}"),
}


def test_the_privacy_sweep_covers_every_abuse_route(api: Api) -> None:
    paths = api.client.get("/openapi.json").json()["paths"]
    routes = {
        (method.upper(), path)
        for path, operations in paths.items()
        if "abuse" in path
        for method in operations
    }
    assert routes == ABUSE_ROUTES


def _bodies_seen_by(api: Api, who: str, case_id: int) -> list[str]:
    """Every abuse endpoint's answer to ``who`` about the case (and its reports)."""
    out = []
    for path in (
        "/v1/abuse/cases",
        f"/v1/abuse/cases/{case_id}",
        "/v1/abuse/cases?zone=shop.example",
        "/v1/abuse/cases?type=phishing",
    ):
        out.append(api.client.get(path, headers=api.h(who)).text)  # fmt: skip
    out.append(api.client.post(f"/v1/abuse/cases/{case_id}/actions", json={"action": "notify"},
                               headers=api.h(who)).text)  # fmt: skip
    out.append(api.client.get("/abuse", headers=api.h(who)).text)
    out.append(api.report(urls=["https://login.shop.example/other"]).text)
    return out


def test_site_owners_never_see_reporter_contact_without_consent(api: Api) -> None:
    secret_report(api, consent=False)
    [case] = api.cases(1)
    bodies = _bodies_seen_by(api, "owner", case["id"])
    detail = api.client.get(f"/v1/abuse/cases/{case['id']}", headers=api.h("owner")).json()
    assert detail["reports"][0]["reporter"]["email"] == "[withheld]"
    assert "actor" not in repr(detail["actions"]) and "queue" not in detail
    for body in bodies:
        for secret in SECRETS:
            assert secret not in body, (secret, body[:300])
    # Staff see it all.
    staff = api.client.get(f"/v1/abuse/cases/{case['id']}", headers=api.h("ts")).text
    assert all(secret in staff for secret in SECRETS)


def test_consent_lets_owners_see_contact_except_for_csam(api: Api) -> None:
    secret_report(api, consent=True)
    secret_report(api, consent=True, kind="csam", path="c.jpg")
    cases = {c["type"]: c for c in api.cases(2, "owner")}
    ok = api.client.get(f"/v1/abuse/cases/{cases['phishing']['id']}", headers=api.h("owner"))
    assert ok.json()["reports"][0]["reporter"]["email"] == "rita@reporters.example"
    csam = api.client.get(f"/v1/abuse/cases/{cases['csam']['id']}", headers=api.h("owner")).text
    assert all(secret not in csam for secret in SECRETS)


def test_roles_see_only_what_they_may(api: Api) -> None:
    secret_report(api, consent=True)
    [case] = api.cases(1)
    assert api.client.get("/v1/abuse/cases", headers=api.h("other_owner")).json() == {"cases": []}
    r = api.client.get(f"/v1/abuse/cases/{case['id']}", headers=api.h("other_owner"))
    assert r.status_code == 404
    for who, code in (("analyst", 403), ("ingest", 403), ("public", 401)):
        assert api.client.get("/v1/abuse/cases", headers=api.h(who)).status_code == code
        r = api.client.get(f"/v1/abuse/cases/{case['id']}", headers=api.h(who))
        assert r.status_code == code
    for who, code in (("owner", 403), ("analyst", 403), ("public", 401)):
        r = api.client.post(f"/v1/abuse/cases/{case['id']}/actions", json={"action": "block"},
                            headers=api.h(who))  # fmt: skip
        assert r.status_code == code


# -- actions -------------------------------------------------------------------------------


def test_actions_by_trust_and_safety(api: Api) -> None:
    secret_report(api, consent=False)
    [case] = api.cases(1)
    url = f"/v1/abuse/cases/{case['id']}/actions"
    r = api.client.post(url, json={"action": "reject"}, headers=api.h("ts"))
    assert r.status_code == 400 and "reason" in r.json()["error"]
    r = api.client.post(url, json={"action": "geo_block", "countries": ["DE"]}, headers=api.h("ts"))
    assert r.status_code == 200, r.text
    assert r.json()["case"]["state"] == "actioned" and r.json()["notices"] == 1
    r = api.client.post(url, json={"action": "reject", "reason": "x"}, headers=api.h("ts"))
    assert r.status_code == 409 and "actioned" in r.json()["error"]
    r = api.client.post(url, json={"action": "explode"}, headers=api.h("ts"))
    assert r.status_code == 400
    r = api.client.post("/v1/abuse/cases/999999/actions", json={"action": "triage"},
                        headers=api.h("ts"))  # fmt: skip
    assert r.status_code == 404
    owner_view = api.client.get(f"/v1/abuse/cases/{case['id']}", headers=api.h("owner")).json()
    assert owner_view["state"] == "actioned"
    assert (
        owner_view["enforcement"]["countries"] == ["DE"] and "by" not in owner_view["enforcement"]
    )
    db = Database(api.database_url)
    with db.session() as s:
        audit = s.scalars(
            select(AuditEntry).where(AuditEntry.action == "abuse_case.geo_block")
        ).all()
    db.dispose()
    assert len(audit) == 1 and audit[0].target == f"abuse_case:{case['id']}"


# -- the form ------------------------------------------------------------------------------


class _Controls(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.labels: set[str] = set()
        self.legends = 0
        self.lang = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag in ("input", "textarea", "select") and a.get("type") != "hidden":
            self.ids.append(a.get("id") or "")
        if tag == "label":
            self.labels.add(a.get("for") or "")
        if tag == "legend":
            self.legends += 1
        if tag == "html":
            self.lang = a.get("lang") or ""


def test_the_form_is_plain_accessible_html(api: Api) -> None:
    r = api.client.get("/abuse")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in r.headers["content-security-policy"]
    assert "<script" not in r.text.lower()
    parser = _Controls()
    parser.feed(r.text)
    assert parser.lang == "en" and parser.legends >= 3
    assert parser.ids and all(i and i in parser.labels for i in parser.ids)
    assert 'action="/abuse"' in r.text and 'method="post"' in r.text


def test_the_form_submits_and_reports_errors_escaped(api: Api) -> None:
    r = api.client.post("/abuse", data={"type": "phishing", "urls": "https://shop.example/a\n\nb.example",
                                        "description": "<script>alert(1)</script>"})  # fmt: skip
    assert r.status_code == 202 and "Thank you" in r.text
    r = api.client.post("/abuse", data={"type": "phishing", "urls": "ftp://x",
                                        "description": "<script>alert(1)</script>"})  # fmt: skip
    assert r.status_code == 400 and 'role="alert"' in r.text
    assert "unsupported scheme" in r.text
    assert "<script>" not in r.text and "&lt;script&gt;" in r.text  # kept, escaped
    r = api.client.post("/abuse", data={"type": "copyright", "urls": "a.example"})
    assert r.status_code == 400 and "copyright.work" in r.text
    notice = {
        "type": "copyright",
        "copyright_work": "My song",
        "copyright_infringing_urls": "c.example/s",
        "copyright_good_faith": "yes",
        "copyright_accurate": "yes",
        "copyright_signature": "Ann A",
        "reporter_name": "Ann A",
        "reporter_email": "ann@a.example",
    }
    r = api.client.post("/abuse", data=notice)
    assert r.status_code == 202, r.text
    db = Database(api.database_url)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with db.session() as s:
            rows = s.scalars(select(AbuseReport).where(AbuseReport.type == "copyright")).all()
        if rows:
            break
        time.sleep(0.05)
    db.dispose()
    assert rows[0].source == "web" and rows[0].urls == ["http://c.example/s"]
    assert rows[0].details["copyright"]["signature"] == "Ann A"
