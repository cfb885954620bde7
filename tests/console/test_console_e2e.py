"""The console in real Chromium against a real ``bastion serve``: every page, per role.

Each test signs in with a token of one role (pasted into the login form, as a user does),
drives the pages and asserts on what is visible; a screenshot of each page goes to
``test-artifacts/console/``. Console errors and CSP violations fail the test unless the
test provoked them (an API refusal it asserts on).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
from console_kit import Seeded, wait_for
from playwright.sync_api import Page, expect

TIMEOUT_MS = 15_000


def problems(page: Page, *allowed: str) -> list[str]:
    """Console errors of the page except those containing one of ``allowed``."""
    found: list[str] = page.problems  # type: ignore[attr-defined]
    return [p for p in found if not any(a in p for a in allowed)]


def login(page: Page, seeded: Seeded, who: str, path: str = "/console/") -> None:
    page.goto(seeded.server.url + path)
    page.get_by_test_id("token-input").fill(seeded.tokens[who])
    page.get_by_test_id("login").click()
    expect(page.get_by_test_id("nav")).to_be_visible(timeout=TIMEOUT_MS)


def ready(page: Page, page_id: str) -> None:
    page.wait_for_selector(f'[data-page="{page_id}"][data-ready="true"]', timeout=TIMEOUT_MS)


def shot(page: Page, artifacts: Path, name: str) -> None:
    page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)


def nav_labels(page: Page) -> list[str]:
    return [t.strip() for t in page.get_by_test_id("nav").locator("a").all_inner_texts()]


def test_login_refuses_a_bad_token_and_keeps_a_good_one_per_tab(
    page: Page, seeded: Seeded, artifacts: Path
) -> None:
    page.goto(seeded.server.url + "/console/")
    ready(page, "login")
    shot(page, artifacts, "login")
    page.get_by_test_id("token-input").fill("bst_0123456789abcdef_" + "x" * 43)
    page.get_by_test_id("login").click()
    expect(page.get_by_role("alert")).to_contain_text("unknown, revoked or expired")
    expect(page.get_by_test_id("nav")).to_have_count(0)

    login(page, seeded, "admin")
    assert page.evaluate("sessionStorage.getItem('bastion.token')") == seeded.tokens["admin"]
    assert page.evaluate("localStorage.length") == 0
    page.reload()  # the tab keeps its session
    expect(page.get_by_test_id("nav")).to_be_visible(timeout=TIMEOUT_MS)
    page.get_by_test_id("logout").click()
    expect(page.get_by_test_id("token-input")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('bastion.token')") is None
    assert problems(page, "401") == []


def test_admin_sees_and_opens_every_page(page: Page, seeded: Seeded, artifacts: Path) -> None:
    login(page, seeded, "admin", "/console/?zone=a.example")
    labels = nav_labels(page)
    for label in ("Content blocks", "Abuse cases", "Scripts & CSP", "Tokens", "Zones"):
        assert label in labels
    for testid, page_id in (
        ("nav-content", "content"),
        ("nav-abuse", "abuse"),
        ("nav-scripts", "scripts"),
        ("nav-tokens", "tokens"),
        ("nav-zones", "zones"),
    ):
        page.get_by_test_id(testid).click()
        ready(page, page_id)
        assert page.url.startswith(f"{seeded.server.url}/console/{page_id}")
        shot(page, artifacts, f"admin-{page_id}")
    # A deep link reloads into the same page (the server falls back to index.html).
    page.goto(seeded.server.url + "/console/zones")
    ready(page, "zones")
    expect(page.get_by_test_id("zones")).to_contain_text("b.example")
    assert problems(page) == []


def test_tokens_page_shows_a_new_token_once_and_revokes_it(
    page: Page, seeded: Seeded, artifacts: Path
) -> None:
    login(page, seeded, "admin", "/console/tokens")
    ready(page, "tokens")
    page.get_by_test_id("token-name").fill("e2e-analyst")
    page.get_by_test_id("token-create").click()
    issued = page.get_by_test_id("issued-value")
    expect(issued).to_contain_text("bst_")
    token = issued.inner_text().strip()
    shot(page, artifacts, "tokens-created")
    me = httpx.get(
        seeded.server.url + "/v1/auth/whoami", headers={"Authorization": f"Bearer {token}"}
    )
    assert me.status_code == 200 and me.json()["roles"] == ["analyst"]

    page.get_by_test_id("issued-dismiss").click()
    expect(page.get_by_test_id("issued-token")).to_have_count(0)
    assert token not in page.content()  # shown once: nowhere on the page any more
    row = page.get_by_test_id("tokens").locator("tr", has_text="e2e-analyst")
    expect(row).to_contain_text("active")
    token_id = me.json()["token"]["id"]
    page.once("dialog", lambda d: d.accept())
    page.get_by_test_id(f"revoke-{token_id}").click()
    expect(row).to_contain_text("revoked")
    after = httpx.get(
        seeded.server.url + "/v1/auth/whoami", headers={"Authorization": f"Bearer {token}"}
    )
    assert after.status_code == 401
    assert problems(page) == []


def test_zones_page_creates_zones_and_names_bad_input(
    page: Page, seeded: Seeded, artifacts: Path
) -> None:
    login(page, seeded, "admin", "/console/zones")
    ready(page, "zones")
    page.get_by_test_id("zone-name").fill("Shop.C.Example")
    page.get_by_test_id("zone-create").click()
    expect(page.get_by_test_id("zones")).to_contain_text("shop.c.example")
    page.get_by_test_id("zone-name").fill("not a zone/")
    page.get_by_test_id("zone-create").click()
    expect(page.get_by_role("alert")).to_contain_text("is not a hostname")
    shot(page, artifacts, "zones")
    assert problems(page, "400") == []


def test_site_owner_sees_only_its_zone(page: Page, seeded: Seeded, artifacts: Path) -> None:
    login(page, seeded, "owner-a")
    labels = nav_labels(page)
    assert "Tokens" not in labels and "Zones" not in labels
    assert "Content blocks" in labels and "Abuse cases" in labels and "Scripts & CSP" in labels
    expect(page.get_by_test_id("whoami")).to_contain_text("zones: a.example")

    page.get_by_test_id("nav-content").click()
    ready(page, "content")
    blocks = page.get_by_test_id("blocks")
    expect(blocks).to_contain_text("/img/1.jpg")
    expect(blocks).not_to_contain_text("b.example")
    expect(page.get_by_test_id("state-filter")).to_be_visible()
    expect(page.get_by_test_id("claim")).to_have_count(0)
    shot(page, artifacts, "owner-content")

    # Another zone's block, asked for by id in the URL: the server says there is none.
    page.goto(f"{seeded.server.url}/console/content?block={seeded.blocks['b.example']}")
    ready(page, "content")
    expect(page.get_by_role("alert")).to_contain_text(f"no block {seeded.blocks['b.example']}")

    page.get_by_test_id("nav-abuse").click()
    ready(page, "abuse")
    cases = page.get_by_test_id("cases")
    expect(cases).to_contain_text("a.example")
    expect(cases).not_to_contain_text("b.example")
    cases.locator("tr", has_text="phishing").first.click()
    expect(page.get_by_test_id("case-detail")).to_contain_text("phishing")
    expect(page.get_by_test_id("case-actions")).to_have_count(0)
    expect(page.get_by_test_id("case-detail")).not_to_contain_text("rita@reporter.example")
    expect(page.get_by_test_id("case-detail")).to_contain_text("did not consent to be named")
    shot(page, artifacts, "owner-abuse")

    # Scripts of another zone: the zone picker only offers its own zone.
    page.goto(f"{seeded.server.url}/console/scripts?zone=b.example")
    ready(page, "scripts")
    expect(page.get_by_role("heading", level=1)).to_have_text("Scripts & CSP — a.example")
    expect(page.get_by_test_id("zone-select").locator("option")).to_have_count(1)
    expect(page.get_by_test_id("policy-save")).to_have_count(0)  # no rules.write
    shot(page, artifacts, "owner-scripts")

    page.goto(f"{seeded.server.url}/console/tokens")
    expect(page.locator('[data-page="forbidden"]')).to_be_visible(timeout=TIMEOUT_MS)

    # The server enforces it too, whatever the console shows.
    owner = seeded.server.client(seeded.tokens["owner-a"])
    assert owner.get("/v1/csp/zones/b.example/resources").status_code == 403
    assert owner.get(f"/v1/content/blocks/{seeded.blocks['b.example']}").status_code == 404
    assert owner.get(f"/v1/abuse/cases/{seeded.cases['b.example']}").status_code == 404
    assert owner.get("/v1/admin/tokens").status_code == 403
    assert problems(page, "404") == []


def test_appeal_claim_and_decide_through_the_review_queue(
    page: Page, seeded: Seeded, artifacts: Path
) -> None:
    block = seeded.blocks["a.example"]
    login(page, seeded, "owner-a", f"/console/content?block={block}")
    ready(page, "content")
    detail = page.get_by_test_id("block-detail")
    expect(detail).to_contain_text("active")
    page.get_by_test_id("appeal-statement").fill("This is our own product photo.")
    page.get_by_test_id("appeal").click()
    expect(detail).to_contain_text("pending")
    expect(detail).to_contain_text("This is our own product photo.")
    shot(page, artifacts, "owner-appealed")
    page.get_by_test_id("logout").click()

    login(page, seeded, "reviewer", "/console/content")
    ready(page, "content")
    queue = page.get_by_test_id("blocks")  # pending, every zone
    expect(queue.locator("tr", has_text="/img/1.jpg")).to_contain_text("pending")
    queue.locator("tr", has_text="/img/1.jpg").click()
    page.get_by_test_id("claim").click()
    detail = page.get_by_test_id("block-detail")
    expect(detail).to_contain_text("in_review")
    page.get_by_test_id("decision-reason").fill("licensed image")
    shot(page, artifacts, "reviewer-in-review")
    page.get_by_test_id("decide-resolved").click()
    expect(detail).to_contain_text("resolved")
    expect(detail).to_contain_text("licensed image")
    state = seeded.server.client(seeded.server.admin).get(f"/v1/content/blocks/{block}")
    assert state.json()["state"] == "resolved"
    assert problems(page) == []


def test_abuse_staff_act_on_a_case(page: Page, seeded: Seeded, artifacts: Path) -> None:
    case = seeded.cases["b.example"]
    login(page, seeded, "reviewer", f"/console/abuse?case={case}")
    ready(page, "abuse")
    detail = page.get_by_test_id("case-detail")
    expect(detail).to_contain_text("fake bank login on b.example")
    expect(detail).to_contain_text("rita@reporter.example")  # staff see the reporter
    expect(page.get_by_test_id("act-close")).to_have_count(0)  # not from "new"
    page.get_by_test_id("act-triage").click()
    expect(detail.get_by_role("heading", level=2)).to_contain_text("triaged")
    page.get_by_test_id("act-reject").click()  # needs a reason: the server says so
    expect(page.get_by_role("alert")).to_contain_text("reason")
    page.get_by_test_id("case-reason").fill("the page is the bank's own")
    page.get_by_test_id("act-reject").click()
    expect(detail.get_by_role("heading", level=2)).to_contain_text("rejected")
    expect(page.get_by_test_id("case-detail")).to_contain_text("the page is the bank's own")
    shot(page, artifacts, "reviewer-abuse-case")
    answer = seeded.server.client(seeded.server.admin).get(f"/v1/abuse/cases/{case}")
    assert answer.json()["state"] == "rejected"
    assert problems(page, "400") == []


def test_scripts_inventory_versions_alerts_and_csp(
    page: Page, seeded: Seeded, artifacts: Path
) -> None:
    login(page, seeded, "admin", "/console/scripts?zone=a.example")
    ready(page, "scripts")
    resources = page.get_by_test_id("resources")
    row = resources.locator("tr", has_text="skim.js")
    expect(row).to_contain_text("script")
    verdict = row.locator(".badge").nth(1).inner_text()
    assert verdict in ("malicious", "suspicious", "benign", "magecart", "malware"), verdict
    expect(page.get_by_test_id("alerts")).to_contain_text("skim.js")
    header = page.get_by_test_id("csp-header").first
    expect(header).to_contain_text("Content-Security-Policy: script-src")
    page.get_by_test_id("kind-filter").select_option("connection")
    ready(page, "scripts")
    expect(page.get_by_text("No scripts reported for this zone yet.")).to_be_visible()
    page.get_by_test_id("kind-filter").select_option("script")
    ready(page, "scripts")
    row.click()
    versions = page.get_by_test_id("versions")
    expect(versions).to_contain_text(verdict)
    shot(page, artifacts, "scripts")

    page.get_by_test_id("policy-scripts").fill("'self'\nhttps://cdn.a.example")
    page.get_by_test_id("policy-save").click()
    expect(header).to_contain_text("https://cdn.a.example", timeout=TIMEOUT_MS)
    expect(header).not_to_contain_text("skim.js")
    policy = seeded.server.client(seeded.server.admin).get("/v1/csp/zones/a.example/policy")
    assert "https://cdn.a.example" in policy.json()["policy"]["script_src"]
    assert re.search(r"script-src [^;]*https://cdn\.a\.example", header.inner_text())
    assert problems(page) == []


def test_analytics_then_a_rule_drafted_from_a_sampled_request(
    page: Page, seeded: Seeded, artifacts: Path
) -> None:
    login(page, seeded, "analyst", "/console/analytics?zone=a.example")
    ready(page, "analytics")
    total = int(page.get_by_test_id("total").inner_text().replace(",", ""))
    assert total >= 6
    assert int(page.get_by_test_id("count-attack").locator("b").inner_text()) >= 2
    for chart in ("classes-chart", "hist-global", "hist-sqli", "hist-xss", "hist-rce"):
        expect(page.get_by_test_id(chart)).to_be_visible()
    expect(page.get_by_test_id("top-paths")).to_contain_text("/login")
    sampled = page.get_by_test_id("sampled")
    expect(sampled).not_to_contain_text("b.example")
    shot(page, artifacts, "analytics")

    page.get_by_test_id("class-filter").select_option("attack")
    ready(page, "analytics")
    attack = sampled.locator("tr", has_text="UNION").first
    attack.click()
    detail = page.get_by_test_id("request-detail")
    expect(detail).to_contain_text("a.example")
    expect(page.get_by_test_id("explanation")).to_contain_text("sqli")
    shot(page, artifacts, "analytics-request")

    page.get_by_test_id("rule-block").click()
    ready(page, "rules")
    expr = page.get_by_test_id("rule-expr-0")
    expect(expr).to_have_value(re.compile(r'host == "a\.example" and path == "/login"'))
    expect(page.get_by_test_id("rule-action-0")).to_have_value("block")
    expect(page.get_by_test_id("validation")).to_contain_text("valid")
    page.get_by_test_id("dry-run").click()
    result = page.get_by_test_id("dry-run-result")
    expect(result).to_contain_text("would have blocked")
    blocked = int(re.sub(r"\D", "", page.get_by_test_id("would-block").inner_text()))
    assert blocked >= 1
    expect(page.get_by_test_id("rules-publish")).to_have_count(0)  # analysts cannot publish
    shot(page, artifacts, "rules-dry-run")
    assert problems(page) == []


def test_rules_editor_validates_as_you_type_and_publishes(
    page: Page, seeded: Seeded, artifacts: Path
) -> None:
    before = seeded.server.client(seeded.server.admin).get("/v1/rules").json()["version"]
    login(page, seeded, "admin", "/console/rules?zone=a.example")
    ready(page, "rules")
    page.get_by_test_id("rule-add").click()
    last = page.locator('[data-testid^="rule-expr-"]').count() - 1
    page.get_by_test_id(f"rule-id-{last}").fill("protect-admin")
    page.get_by_test_id(f"rule-expr-{last}").fill("waf.score < 50 and path startswith ")
    expect(page.get_by_test_id(f"rule-error-{last}")).to_contain_text("line 1", timeout=TIMEOUT_MS)
    expect(page.get_by_test_id("rules-publish")).to_be_disabled()
    shot(page, artifacts, "rules-invalid")
    page.get_by_test_id(f"rule-expr-{last}").fill('waf.score < 50 and path startswith "/admin"')
    expect(page.get_by_test_id("validation")).to_contain_text("valid")
    expect(page.get_by_test_id(f"rule-error-{last}")).to_have_count(0)
    page.get_by_test_id("rules-comment").fill("protect the admin pages")
    page.get_by_test_id("rules-publish").click()
    expect(page.get_by_text("Published as version")).to_be_visible(timeout=TIMEOUT_MS)
    live = seeded.server.client(seeded.server.admin).get("/v1/rules").json()
    assert live["version"] > before
    assert live["rules"][-1]["id"] == "protect-admin"
    shot(page, artifacts, "rules-published")
    assert problems(page) == []


def test_site_owner_analytics_stay_in_its_zone(page: Page, seeded: Seeded) -> None:
    login(page, seeded, "owner-b", "/console/analytics?zone=a.example")
    ready(page, "analytics")
    expect(page.get_by_role("heading", level=1)).to_have_text("Security analytics — b.example")
    expect(page.get_by_test_id("sampled")).not_to_contain_text("a.example")
    owner = seeded.server.client(seeded.tokens["owner-b"])
    assert owner.get("/v1/analytics/zones/a.example/summary").status_code == 403
    assert owner.get("/v1/analytics/zones/a.example/requests").status_code == 403
    assert owner.get("/v1/analytics/zones/b.example/summary").status_code == 200
    assert problems(page) == []


def test_models_canary_rollback_promote_and_history(
    page: Page, seeded: Seeded, artifacts: Path
) -> None:
    active, candidate = seeded.active_model, seeded.candidate_model
    login(page, seeded, "analyst", "/console/models")
    ready(page, "models")
    expect(page.get_by_test_id("active-version")).to_have_text(active)
    expect(page.get_by_test_id("models")).to_contain_text(candidate)
    expect(page.get_by_test_id(f"promote-{candidate}")).to_have_count(0)  # analysts read only
    page.get_by_test_id("logout").click()

    login(page, seeded, "admin", "/console/models")
    ready(page, "models")
    # Shadow: the candidate scores live traffic beside the active model and only logs.
    page.get_by_test_id(f"shadow-{candidate}").click()
    expect(page.get_by_test_id("rollout")).to_contain_text(f"{candidate} shadow")
    admin = seeded.server.client(seeded.server.admin)
    traffic = [
        {"method": "GET", "uri": uri, "headers": [["Host", "a.example"]]}
        for uri in ("/?q=1%27%20or%201%3D1--", "/search?q=shoes", "/?x=%3Cscript%3E")
    ]

    def compared() -> bool:
        scored = admin.post("/v1/waf/score", json={"requests": traffic})
        assert scored.status_code == 200 and {r["model"] for r in scored.json()["results"]} == {
            active
        }  # the shadow never acts
        report = admin.get(f"/v1/models/{candidate}/shadow-report").json()
        return bool(report["vectors"].get("score", {}).get("requests"))

    wait_for(compared, "the shadow report to count compared requests")
    page.get_by_test_id("models").locator("tr", has_text=candidate).click()
    report = page.get_by_test_id("shadow-report")
    expect(report).to_contain_text("sqli")
    expect(report.locator("tr", has_text="score")).to_be_visible()
    shot(page, artifacts, "models-shadow")
    page.get_by_test_id("shadow-stop").click()
    expect(page.get_by_test_id("rollout")).not_to_contain_text(f"{candidate} shadow")

    page.get_by_test_id("model-reason").fill("e2e canary")
    page.get_by_test_id(f"canary-{candidate}").click()
    expect(page.get_by_test_id("rollout")).to_contain_text(f"{candidate} (5% by zone)")
    shot(page, artifacts, "models-canary")
    page.once("dialog", lambda d: d.accept())
    page.get_by_test_id("model-rollback").click()
    expect(page.get_by_test_id("rollout")).not_to_contain_text(candidate)
    page.once("dialog", lambda d: d.accept())
    page.get_by_test_id(f"promote-{candidate}").click()
    expect(page.get_by_test_id("active-version")).to_have_text(candidate)
    page.get_by_test_id("models").locator("tr", has_text=candidate).click()
    history = page.get_by_test_id("model-history")
    expect(history).to_contain_text("candidate → canary")
    expect(history).to_contain_text("canary → candidate")  # the rollback
    expect(history).to_contain_text("candidate → active")
    expect(history).to_contain_text("e2e canary")
    shot(page, artifacts, "models")
    state = seeded.server.client(seeded.server.admin).get("/v1/models/rollout").json()
    assert state["active"] == candidate and state["previous"][-1] == active
    # Put the shipped model back for the other tests.
    page.once("dialog", lambda d: d.accept())
    page.get_by_test_id("model-rollback").click()
    expect(page.get_by_test_id("active-version")).to_have_text(active)
    assert problems(page) == []


def test_false_positive_mark_from_a_sampled_request(page: Page, seeded: Seeded) -> None:
    login(page, seeded, "reviewer", "/console/analytics?zone=a.example&class=clean")
    ready(page, "analytics")
    page.get_by_test_id("sampled").locator("tr", has_text="/products").first.click()
    expect(page.get_by_test_id("request-detail")).to_be_visible()
    page.get_by_test_id("mark-fp").click()
    expect(page.get_by_text("Marked as false positive")).to_be_visible(timeout=TIMEOUT_MS)
    marks = seeded.server.client(seeded.server.admin).get(
        "/v1/models/feedback", params={"zone": "a.example"}
    )
    assert any(
        m["label"] == "false_positive" and "/products" in m["request"]["uri"]
        for m in marks.json()["feedback"]
    )
    assert problems(page) == []


ROLE_NAV = {
    "admin": {
        "Security analytics",
        "Rules",
        "Content blocks",
        "Abuse cases",
        "Scripts & CSP",
        "Models",
        "Tokens",
        "Zones",
    },
    "reviewer": {"Security analytics", "Content blocks", "Abuse cases", "Scripts & CSP", "Models"},
    "analyst": {"Security analytics", "Rules", "Scripts & CSP", "Models"},
    "owner-a": {"Security analytics", "Content blocks", "Abuse cases", "Scripts & CSP"},
}


def test_each_role_sees_only_its_pages(page: Page, seeded: Seeded, artifacts: Path) -> None:
    for who, expected in ROLE_NAV.items():
        login(page, seeded, who)
        assert set(nav_labels(page)) == expected, who
        # The first page it may use opens by itself, with its data.
        page.wait_for_selector('[data-ready="true"]', timeout=TIMEOUT_MS)
        assert "/console/" in page.url and page.url.rstrip("/") != seeded.server.url + "/console"
        for path in ("/tokens", "/zones", "/rules", "/models", "/content", "/abuse"):
            label = {
                "/tokens": "Tokens",
                "/zones": "Zones",
                "/rules": "Rules",
                "/models": "Models",
                "/content": "Content blocks",
                "/abuse": "Abuse cases",
            }[path]
            if label in expected:
                continue
            page.goto(seeded.server.url + "/console" + path)
            expect(page.locator('[data-page="forbidden"]')).to_be_visible(timeout=TIMEOUT_MS)
        shot(page, artifacts, f"role-{who}")
        page.get_by_test_id("logout").click()
    assert problems(page) == []


def test_sampled_requests_page_through_older_ones(page: Page, seeded: Seeded) -> None:
    admin = seeded.server.client(seeded.server.admin)
    assert admin.post("/v1/admin/zones", json={"name": "busy.example"}).status_code == 201
    wait_for(lambda: "busy.example" in admin.get("/v1/auth/whoami").json()["zones"], "the new zone")
    time.sleep(1)  # the request log reloads its zones every analytics_zone_refresh_s
    batch = [
        {"method": "GET", "uri": f"/item?id={i}", "headers": [["Host", "busy.example"]]}
        for i in range(60)
    ]
    assert admin.post("/v1/waf/score", json={"requests": batch}).status_code == 200

    def logged() -> bool:
        summary = admin.get("/v1/analytics/zones/busy.example/summary").json()
        return bool(summary["total"] == 60)

    wait_for(logged, "60 logged requests on busy.example")
    login(page, seeded, "admin", "/console/analytics?zone=busy.example")
    ready(page, "analytics")
    rows = page.get_by_test_id("sampled").locator("tbody tr")
    expect(rows).to_have_count(50)
    page.get_by_test_id("sampled-more").click()
    expect(rows).to_have_count(60)
    expect(page.get_by_test_id("sampled-more")).to_have_count(0)
    ids = {r.get_attribute("data-key") for r in rows.all()}
    assert len(ids) == 60  # no request twice across the pages
    assert problems(page) == []
