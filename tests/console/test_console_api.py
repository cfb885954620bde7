"""The console's server side without a browser: ``/v1/auth/whoami``, the admin endpoints
(tokens and zones, on SQLite and PostgreSQL) and how ``/console/`` serves the bundle."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bastion.auth.tokens import TokenStore
from bastion.config import load_settings
from bastion.service.app import create_app
from bastion.service.console import CSP
from bastion.store import AuditEntry, Database


@dataclass
class Api:
    client: TestClient
    database: Database
    tokens: dict[str, str]

    def h(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


def _bundle(root: Path) -> Path:
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text(
        '<!doctype html><script type="module" src="/console/assets/app-1a2b3c.js"></script>'
    )
    (root / "assets" / "app-1a2b3c.js").write_text("console.log('app')")
    (root / "assets" / "app-1a2b3c.css").write_text("body{}")
    (root / "robots.txt").write_text("User-agent: *\nDisallow: /\n")
    return root


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def api(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    make_database_url: Callable[[str], str],
) -> Iterator[Api]:
    """One app per backend for the module (tests do not depend on each other's rows)."""
    tmp_path = tmp_path_factory.mktemp("console-api")
    database_url = make_database_url(request.param)
    database = Database(database_url)
    database.upgrade()
    store = TokenStore(database)
    tokens = {
        "admin": store.create("admin", ["admin"]).token,
        "analyst": store.create("analyst", ["analyst"]).token,
        "owner": store.create("owner", ["site_owner"], ["a.example"]).token,
        "mixed": store.create("mixed", ["site_owner", "ingest"], ["m.example"]).token,
    }
    settings = load_settings(
        None,
        database_url=database_url,
        console_dir=_bundle(tmp_path / "bundle"),
        analytics_url=f"duckdb:///{tmp_path / 'analytics.duckdb'}",
        csp_fetch=False,
        content_deliver=False,
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield Api(client, database, tokens)
    database.dispose()


def _audit(database: Database, action: str) -> list[AuditEntry]:
    with database.session() as session:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.action == action)).all()
        session.expunge_all()
        return list(rows)


# -- whoami -----------------------------------------------------------------------------


def test_whoami_per_role(api: Api) -> None:
    assert api.client.get("/v1/auth/whoami").status_code == 401
    owner = api.client.get("/v1/auth/whoami", headers=api.h("owner"))
    assert owner.status_code == 200
    assert owner.headers["cache-control"] == "no-store"
    me = owner.json()
    assert me["roles"] == ["site_owner"]
    assert me["all_zones"] is False
    assert me["zones"] == ["a.example"]
    assert me["permissions"] == []  # nothing outside its zone
    assert me["zone_permissions"] == ["analytics.read", "content.appeal", "waf.score"]

    admin = api.client.get("/v1/auth/whoami", headers=api.h("admin")).json()
    assert admin["all_zones"] is True
    assert "tokens.manage" in admin["permissions"]
    assert {"a.example", "m.example"} <= set(admin["zones"])  # known zones, for the picker

    analyst = api.client.get("/v1/auth/whoami", headers=api.h("analyst")).json()
    assert "tokens.manage" not in analyst["permissions"]
    assert analyst["permissions"] == analyst["zone_permissions"]

    mixed = api.client.get("/v1/auth/whoami", headers=api.h("mixed")).json()
    assert mixed["all_zones"] is True  # ingest acts on every zone
    assert "analytics.read" not in mixed["permissions"]
    assert "analytics.read" in mixed["zone_permissions"]
    assert "m.example" in mixed["zones"]


def test_whoami_with_auth_off(tmp_path: Path) -> None:
    settings = load_settings(
        None,
        database_url=f"sqlite:///{tmp_path / 'b.db'}",
        auth_enabled=False,
        analytics_enabled=False,
        csp_fetch=False,
        console_dir=tmp_path / "none",
    )
    with TestClient(create_app(settings)) as client:
        me = client.get("/v1/auth/whoami").json()
    assert me["auth"] is False and me["token"] is None
    assert "tokens.manage" in me["permissions"]


# -- tokens ---------------------------------------------------------------------------


def test_tokens_need_tokens_manage(api: Api) -> None:
    for who in ("analyst", "owner", "mixed"):
        assert api.client.get("/v1/admin/tokens", headers=api.h(who)).status_code == 403
        r = api.client.post(
            "/v1/admin/tokens", headers=api.h(who), json={"name": "x", "roles": ["admin"]}
        )
        assert r.status_code == 403
        assert api.client.get("/v1/admin/zones", headers=api.h(who)).status_code == 403
        r = api.client.post("/v1/admin/zones", headers=api.h(who), json={"name": "z.example"})
        assert r.status_code == 403
    assert "z.example" not in {e.target for e in _audit(api.database, "zone.create")}


def test_token_created_shown_once_listed_without_secret_and_revoked(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    admin_id = api.tokens["admin"].split("_")[1]
    with caplog.at_level(logging.DEBUG):
        r = api.client.post(
            "/v1/admin/tokens",
            headers=api.h("admin"),
            json={"name": "shop owner", "roles": ["site_owner"], "zones": ["Shop.Example."]},
        )
    assert r.status_code == 201, r.text
    assert r.headers["cache-control"] == "no-store"
    body = r.json()
    token = body["token"]
    assert token.startswith("bst_") and body["zones"] == ["shop.example"]
    assert body["created_by"] == admin_id
    assert token not in caplog.text  # never logged

    listed = api.client.get("/v1/admin/tokens", headers=api.h("admin"))
    assert token not in listed.text
    assert "token_hash" not in listed.text
    row = next(t for t in listed.json()["tokens"] if t["id"] == body["id"])
    assert row["status"] == "active"
    created = _audit(api.database, "token.create")
    assert [e.actor for e in created if e.target == body["id"]] == [admin_id]
    assert all(token not in str(e.detail) for e in created)

    me = api.client.get("/v1/auth/whoami", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["zones"] == ["shop.example"]
    r = api.client.post(f"/v1/admin/tokens/{body['id']}/revoke", headers=api.h("admin"))
    assert r.status_code == 200 and r.json()["revoked"] is True
    assert r.json()["status"] == "revoked"
    # This worker forgets it at once (no wait for the token cache).
    me = api.client.get("/v1/auth/whoami", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 401
    again = api.client.post(f"/v1/admin/tokens/{body['id']}/revoke", headers=api.h("admin"))
    assert again.json()["revoked"] is False
    revokes = [e for e in _audit(api.database, "token.revoke") if e.target == body["id"]]
    assert [e.actor for e in revokes] == [admin_id]
    active = api.client.get("/v1/admin/tokens", params={"active": True}, headers=api.h("admin"))
    assert body["id"] not in {t["id"] for t in active.json()["tokens"]}


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"name": "x", "roles": ["root"]}, "unknown role 'root'"),
        ({"name": "x", "roles": ["site_owner"]}, "needs at least one zone"),
        ({"name": "x", "roles": ["analyst"], "zones": ["a.example"]}, "zones only apply"),
        ({"name": "x", "roles": ["site_owner"], "zones": ["a b"]}, "not a hostname"),
        ({"name": " ", "roles": ["analyst"]}, "non-empty name"),
        ({"name": "x", "roles": []}, "roles"),
        ({"name": "x", "roles": ["analyst"], "expires_days": -1}, "expires_days"),
    ],
)
def test_token_requests_with_bad_input_name_the_problem(
    api: Api, payload: dict[str, object], message: str
) -> None:
    r = api.client.post("/v1/admin/tokens", headers=api.h("admin"), json=payload)
    assert r.status_code == 400
    assert message in r.json()["error"]


def test_revoking_an_unknown_token_is_404(api: Api) -> None:
    r = api.client.post("/v1/admin/tokens/0123456789abcdef/revoke", headers=api.h("admin"))
    assert r.status_code == 404
    r = api.client.post("/v1/admin/tokens/NOT-HEX/revoke", headers=api.h("admin"))
    assert r.status_code == 400


# -- zones ----------------------------------------------------------------------------


def test_zones_create_list_and_refuse(api: Api) -> None:
    admin = api.h("admin")
    r = api.client.post("/v1/admin/zones", headers=admin, json={"name": "Zz-Shop.Example"})
    assert r.status_code == 201 and r.json()["name"] == "zz-shop.example"
    dup = api.client.post("/v1/admin/zones", headers=admin, json={"name": "zz-shop.example"})
    assert dup.status_code == 409 and "already exists" in dup.json()["error"]
    bad = api.client.post("/v1/admin/zones", headers=admin, json={"name": "a/b"})
    assert bad.status_code == 400 and "not a hostname" in bad.json()["error"]
    zones = api.client.get("/v1/admin/zones", headers=admin).json()["zones"]
    by_name = {z["name"]: z["tokens"] for z in zones}
    assert by_name["zz-shop.example"] == 0
    assert by_name["a.example"] >= 1 and by_name["m.example"] == 1
    assert [z["name"] for z in zones] == sorted(by_name)
    some = api.client.get("/v1/admin/zones", params={"prefix": "ZZ-"}, headers=admin)
    assert [z["name"] for z in some.json()["zones"]] == ["zz-shop.example"]
    # LIKE wildcards in the prefix are literal.
    wild = api.client.get("/v1/admin/zones", params={"prefix": "%"}, headers=admin)
    assert wild.json()["zones"] == []
    nul = api.client.get("/v1/admin/zones", params={"prefix": "a\x00"}, headers=admin)
    assert nul.status_code == 400 and "NUL" in nul.json()["error"]
    page = api.client.get(
        "/v1/admin/zones", params={"after": "a.example", "limit": 1}, headers=admin
    )
    assert [z["name"] for z in page.json()["zones"]] == [
        sorted(n for n in by_name if n > "a.example")[0]
    ]
    created = [e for e in _audit(api.database, "zone.create") if e.target == "zz-shop.example"]
    assert len(created) == 1 and created[0].actor == api.tokens["admin"].split("_")[1]
    # A new zone shows in an all-zone token's picker.
    me = api.client.get("/v1/auth/whoami", headers=admin).json()
    assert "zz-shop.example" in me["zones"]


# -- serving the bundle -----------------------------------------------------------------


def test_console_serves_the_bundle_with_strict_headers(api: Api) -> None:
    c = api.client
    root = c.get("/console", follow_redirects=False)
    assert root.status_code == 308 and root.headers["location"] == "/console/"
    index = c.get("/console/")
    assert index.status_code == 200
    assert index.headers["content-type"] == "text/html; charset=utf-8"
    assert index.headers["cache-control"] == "no-cache"
    assert index.headers["content-security-policy"] == CSP
    assert "default-src 'none'" in CSP and "script-src 'self';" in CSP
    assert "http" not in CSP and "unsafe" not in CSP  # no external origin, no inline code
    assert index.headers["x-content-type-options"] == "nosniff"
    assert index.headers["x-frame-options"] == "DENY"
    assert "app-1a2b3c.js" in index.text

    js = c.get("/console/assets/app-1a2b3c.js")
    assert js.status_code == 200 and js.text == "console.log('app')"
    assert js.headers["content-type"] == "text/javascript; charset=utf-8"
    assert js.headers["cache-control"] == "public, max-age=31536000, immutable"
    css = c.get("/console/assets/app-1a2b3c.css")
    assert css.headers["content-type"] == "text/css; charset=utf-8"
    robots = c.get("/console/robots.txt")
    assert robots.headers["content-type"] == "text/plain; charset=utf-8"
    assert robots.headers["cache-control"] == "no-cache"
    assert c.head("/console/assets/app-1a2b3c.js").status_code == 200

    # Page routes fall back to index.html; missing files do not.
    for route in ("/console/abuse", "/console/content?block=3", "/console/models/x"):
        page = c.get(route)
        assert page.status_code == 200 and page.text == index.text, route
    for missing in ("/console/assets/gone-123.js", "/console/favicon.ico"):
        gone = c.get(missing)
        assert gone.status_code == 404 and gone.headers["content-security-policy"] == CSP


@pytest.mark.parametrize(
    "path",
    [
        "/console/..%2f..%2fpyproject.toml",
        "/console/%2e%2e/%2e%2e/pyproject.toml",
        "/console/assets/..%2f..%2f..%2fbastion.db",
        "/console/%00.js",
        "/console/assets%5c..%5cindex.html",
    ],
)
def test_console_never_serves_files_outside_the_bundle(api: Api, path: str) -> None:
    r = api.client.get(path)
    assert r.status_code in (200, 404), r.status_code
    assert "[project]" not in r.text and "SQLite" not in r.text
    if r.status_code == 200:  # only ever the app's own index page
        assert "app-1a2b3c.js" in r.text


def test_console_without_a_bundle_says_how_to_build_it(tmp_path: Path) -> None:
    settings = load_settings(
        None,
        database_url=f"sqlite:///{tmp_path / 'c.db'}",
        console_dir=tmp_path / "not-built",
        analytics_enabled=False,
        csp_fetch=False,
    )
    with TestClient(create_app(settings)) as client:
        r = client.get("/console/analytics")
        api_still_works = client.get("/healthz").status_code
    assert r.status_code == 503
    assert r.headers["content-type"].startswith("text/html")
    assert "scripts/bootstrap.sh" in r.text and "npm run" in r.text
    assert str(tmp_path / "not-built") in r.text
    assert r.headers["content-security-policy"] == CSP
    assert api_still_works == 200
