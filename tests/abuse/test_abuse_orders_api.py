"""Legal orders, edge enforcement (451 with Link, geo by country header, interstitial with
its pass), bulk actions and the transparency report over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from test_abuse_api import SECRETS, Api, make_api, secret_report

from bastion.waf.scorer import Scorer, load_scorer

LINK = "https://bastion.example/legal"


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    return load_scorer()


@pytest.fixture
def api(tmp_path: Path, database_url: str, scorer: Scorer) -> Iterator[Api]:
    yield from make_api(tmp_path, database_url, scorer, abuse_blocked_by_url=LINK)


def edge(api: Api, path: str, *, host: str = "shop.example", country: str | None = None,
         cookies: str | None = None) -> Any:  # fmt: skip
    headers = {"Host": host, "X-Original-URI": path, "X-Original-Method": "GET",
               "X-Bastion-Token": api.tokens["ingest"]}  # fmt: skip
    if country is not None:
        headers["X-Bastion-Country"] = country
    if cookies is not None:
        headers["Cookie"] = cookies
    return api.client.get("/v1/edge/check", headers=headers)


def eventually(check: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


ORDER = {"authority": "Landgericht Hamburg", "jurisdiction": "DE", "reference": "310 O 7/26",
         "urls": ["https://shop.example/banned"], "hosts": ["evil.example"],
         "countries": ["DE", "AT"]}  # fmt: skip


def test_a_legal_order_is_a_geo_restricted_451_with_a_link(api: Api) -> None:
    r = api.client.post("/v1/abuse/orders", json=ORDER, headers=api.h("ts"))
    assert r.status_code == 201, r.text
    order = r.json()
    assert order["blocked_by"] == LINK and order["countries"] == ["AT", "DE"]

    def blocked() -> bool:
        return int(edge(api, "/banned?x=1", country="DE").status_code) == 403

    eventually(blocked)
    r = edge(api, "/banned?x=1", country="de")
    assert r.headers["x-bastion-action"] == "legal-block"
    assert r.headers["x-bastion-rule"] == f"order:{order['id']}"
    assert r.headers["x-bastion-link"] == f'<{LINK}>; rel="blocked-by"'
    assert edge(api, "/sub/page", host="www.evil.example", country="AT").status_code == 403
    # Elsewhere, without a country, or on other pages: the WAF decides as usual.
    for path, host, country in (("/banned", "shop.example", "FR"), ("/banned", "shop.example",
                                None), ("/ok", "shop.example", "DE"), ("/", "evil.example",
                                "US"), ("/banned", "shop.example", "XYZ")):  # fmt: skip
        assert edge(api, path, host=host, country=country).status_code == 204, (path, country)
    # Withdrawn: no longer enforced.
    r = api.client.post(f"/v1/abuse/orders/{order['id']}/withdraw", json={"reason": "lifted"},
                        headers=api.h("ts"))  # fmt: skip
    assert r.status_code == 200 and r.json()["state"] == "withdrawn"
    eventually(lambda: not blocked())
    listed = api.client.get("/v1/abuse/orders?state=withdrawn", headers=api.h("ts")).json()
    assert [o["id"] for o in listed["orders"]] == [order["id"]]
    got = api.client.get(f"/v1/abuse/orders/{order['id']}", headers=api.h("ts"))
    assert got.json()["reference"] == "310 O 7/26"


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"countries": []}, "countries"),
        ({"countries": ["DEU"]}, "countries"),
        ({"urls": [], "hosts": []}, "scope"),
        ({"urls": ["ftp://x.example/"]}, "scheme"),
        ({"hosts": ["bad host"]}, "host"),
        ({"valid_from": "2026-12-02T00:00:00Z", "valid_until": "2026-12-01T00:00:00Z"},
         "valid_until"),
    ],
)  # fmt: skip
def test_invalid_orders_get_400_naming_the_problem(
    api: Api, change: dict[str, Any], needle: str
) -> None:
    r = api.client.post("/v1/abuse/orders", json={**ORDER, **change}, headers=api.h("ts"))
    assert r.status_code == 400 and needle in r.json()["error"], r.text


def test_case_block_and_geo_block_reach_the_edge_within_seconds(api: Api) -> None:
    secret_report(api, consent=False, path="a")
    secret_report(api, consent=False, path="b")
    cases = {c["url"]: c["id"] for c in api.cases(2)}
    a, b = cases["https://login.shop.example/a"], cases["https://login.shop.example/b"]
    r = api.client.post(f"/v1/abuse/cases/{a}/actions", json={"action": "block"},
                        headers=api.h("ts"))  # fmt: skip
    assert r.status_code == 200, r.text
    r = api.client.post(f"/v1/abuse/cases/{b}/actions",
                        json={"action": "geo_block", "countries": ["FR"]},
                        headers=api.h("ts"))  # fmt: skip
    assert r.status_code == 200, r.text
    eventually(lambda: edge(api, "/a", host="login.shop.example").status_code == 403)
    blocked = edge(api, "/a", host="login.shop.example", country="US")
    assert blocked.headers["x-bastion-link"] == f'<{LINK}>; rel="blocked-by"'
    eventually(lambda: edge(api, "/b", host="login.shop.example", country="FR").status_code == 403)
    assert edge(api, "/b", host="login.shop.example", country="DE").status_code == 204


def test_interstitial_page_and_its_signed_pass(api: Api) -> None:
    secret_report(api, consent=False, path="warn")
    [case] = api.cases(1)
    r = api.client.post(f"/v1/abuse/cases/{case['id']}/actions", json={"action": "interstitial"},
                        headers=api.h("ts"))  # fmt: skip
    assert r.status_code == 200
    host = "login.shop.example"
    eventually(lambda: edge(api, "/warn?a=1", host=host).status_code == 401)
    denied = edge(api, "/warn?a=1", host=host)
    rule = denied.headers["x-bastion-rule"]
    assert denied.headers["x-bastion-action"] == "interstitial" and rule == f"case:{case['id']}"
    # The page nginx serves in place of the site.
    page = api.client.get("/v1/edge/interstitial", headers={
        "Host": host, "X-Original-URI": "/warn?a=1", "X-Bastion-Rule": rule})  # fmt: skip
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert "<script" not in page.text and 'action="/.well-known/bastion-pass"' in page.text
    ticket_cookie = page.cookies.get("bastion_ticket")
    assert ticket_cookie and "samesite=strict" in page.headers["set-cookie"].lower()
    ticket = page.text.split('name="ticket" value="')[1].split('"')[0]
    api.client.cookies.clear()
    form = {"rule": rule, "to": "/warn?a=1", "ticket": ticket}
    with_ticket = {"Host": host, "Cookie": f"bastion_ticket={ticket_cookie}"}
    # Without the page's cookie (another site submitting the form): refused.
    r = api.client.post("/v1/edge/pass", data=form, headers={"Host": host})
    assert r.status_code == 403
    # A forged ticket, or another rule: refused.
    r = api.client.post("/v1/edge/pass", data={**form, "ticket": "0" * 64},
                        headers=with_ticket)  # fmt: skip
    assert r.status_code == 403
    r = api.client.post("/v1/edge/pass", data=form, follow_redirects=False,
                        headers=with_ticket)  # fmt: skip
    assert r.status_code == 303 and r.headers["location"] == "/warn?a=1"
    name = f"bastion_pass_case_{case['id']}"
    value = r.cookies.get(name)
    assert value and "httponly" in r.headers["set-cookie"].lower()
    api.client.cookies.clear()
    assert edge(api, "/warn?a=1", host=host, cookies=f"{name}={value}").status_code == 204
    # The pass is for this host only, and cannot be altered.
    altered = value[:-1] + ("1" if value[-1] == "0" else "0")  # always a different last digit
    assert edge(api, "/warn", host=host, cookies=f"{name}={altered}").status_code == 401
    # An open redirect is not possible; an unknown rule has no page.
    r = api.client.post("/v1/edge/pass", data={**form, "to": "//evil.example/"},
                        follow_redirects=False,
                        headers=with_ticket)  # fmt: skip
    assert r.status_code == 303 and r.headers["location"] == "/"
    r = api.client.get("/v1/edge/interstitial", headers={
        "Host": host, "X-Original-URI": "/other", "X-Bastion-Rule": rule})  # fmt: skip
    assert r.status_code == 404
    junk = "&".join(f"f{i}=1" for i in range(20))
    r = api.client.post("/v1/edge/pass", content=junk, headers={
        "Host": host, "Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert r.status_code == 400 and "fields" in r.json()["error"]


def test_bulk_actions_and_roles(api: Api) -> None:
    for i in range(3):
        secret_report(api, consent=False, path=f"bulk{i}")
    ids = sorted(c["id"] for c in api.cases(3))
    body = {"case_ids": [*ids, 123456], "action": "reject", "reason": "duplicate campaign"}
    for who, code in (("owner", 403), ("analyst", 403), ("ingest", 403), ("public", 401)):
        r = api.client.post("/v1/abuse/cases/bulk-actions", json=body, headers=api.h(who))
        assert r.status_code == code
    r = api.client.post("/v1/abuse/cases/bulk-actions", json=body, headers=api.h("ts"))
    assert r.status_code == 200, r.text
    out = r.json()
    assert [d["case"] for d in out["done"]] == ids and {d["state"] for d in out["done"]} == {
        "rejected"
    }
    assert out["failed"] == [{"case": 123456, "error": "no case 123456"}]
    r = api.client.post("/v1/abuse/cases/bulk-actions", json={**body, "reason": ""},
                        headers=api.h("ts"))  # fmt: skip
    assert r.status_code == 400 and "reason" in r.json()["error"]
    r = api.client.post("/v1/abuse/cases/bulk-actions", json={**body, "case_ids": []},
                        headers=api.h("ts"))  # fmt: skip
    assert r.status_code == 400


def test_transparency_report_formats(api: Api) -> None:
    secret_report(api, consent=False)
    [case] = api.cases(1)
    api.client.post(f"/v1/abuse/cases/{case['id']}/actions", json={"action": "block"},
                    headers=api.h("ts"))  # fmt: skip
    api.client.post("/v1/abuse/orders", json=ORDER, headers=api.h("ts"))
    period = time.strftime("%Y-%m", time.gmtime())
    r = api.client.get(f"/v1/abuse/transparency?period={period}", headers=api.h("ts"))
    assert r.status_code == 200, r.text
    totals = r.json()["totals"]
    assert totals["reports"] == {"phishing": 1} and totals["actions"] == {"block": 1}
    assert totals["legal_orders"] == {"DE": 1} and len(r.json()["legal_orders"]) == 1
    csv = api.client.get(f"/v1/abuse/transparency?period={period}&format=csv",
                         headers=api.h("ts"))  # fmt: skip
    assert csv.headers["content-type"].startswith("text/csv")
    assert f"{period},total,actions,block,1" in csv.text
    html = api.client.get(f"/v1/abuse/transparency?period={period}&format=html",
                          headers=api.h("ts"))  # fmt: skip
    assert "<svg" in html.text and "Landgericht Hamburg" in html.text
    r = api.client.get("/v1/abuse/transparency?period=2026-Q9", headers=api.h("ts"))
    assert r.status_code == 400 and "quarter" in r.json()["error"]


def test_new_routes_show_owners_nothing_of_reporters(api: Api) -> None:
    """The privacy bar on the routes added here: site owners are refused, and what staff
    get holds no reporter details either (orders and counts carry none)."""
    secret_report(api, consent=False)
    [case] = api.cases(1)
    order = api.client.post("/v1/abuse/orders", json=ORDER, headers=api.h("ts")).json()
    period = time.strftime("%Y", time.gmtime())
    calls: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", "/v1/abuse/orders", None),
        ("GET", f"/v1/abuse/orders/{order['id']}", None),
        ("POST", f"/v1/abuse/orders/{order['id']}/withdraw", {"reason": "x"}),
        ("POST", "/v1/abuse/orders", ORDER),
        ("POST", "/v1/abuse/cases/bulk-actions", {"case_ids": [case["id"]], "action": "notify"}),
        ("POST", f"/v1/abuse/cases/{case['id']}/recheck", None),
        ("GET", f"/v1/abuse/transparency?period={period}", None),
        ("GET", f"/v1/abuse/transparency?period={period}&format=html", None),
    ]
    for who in ("owner", "ts"):
        for method, path, body in calls:
            r = api.client.request(method, path, json=body, headers=api.h(who))
            assert r.status_code == (403 if who == "owner" else r.status_code), (path, r.text)
            assert r.status_code < 300 or who == "owner", (path, r.text)
            for secret in SECRETS:
                assert secret not in r.text, (who, path)


def test_each_worker_escalates_cases_whose_clock_ran_out(
    tmp_path: Path, database_url: str, scorer: Scorer
) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    from bastion.store import Database
    from bastion.store.abuse_models import AbuseCase

    for api in make_api(tmp_path, database_url, scorer, abuse_sla_check_s=0.2):
        secret_report(api, consent=False, kind="spam", path="late")
        [case] = api.cases(1)
        assert case["priority"] == "P3" and not case["sla_breached"]
        db = Database(database_url)
        with db.session(write=True) as s:
            s.execute(update(AbuseCase).values(sla_due_at=datetime.now(UTC) - timedelta(1)))
        db.dispose()
        eventually(lambda: api.cases(1)[0]["priority"] == "P2")
        detail = api.client.get(f"/v1/abuse/cases/{case['id']}", headers=api.h("ts")).json()
        assert detail["queue"] == "analyst" and not detail["sla_breached"]
        assert [a["actor"] for a in detail["actions"] if a["action"] == "escalate"] == ["sla"]
