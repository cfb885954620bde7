"""The models API on a real app: permissions, register, shadow report, canary, promote,
rollback with the hot swap visible in scoring responses, feedback and live-at."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from modelops_kit import shifted_waf, shipped_waf

from bastion.auth import TokenStore
from bastion.config import load_settings
from bastion.modelops.routing import in_canary
from bastion.service.app import create_app
from bastion.store.db import Database
from bastion.waf.model import version_of


class Api:
    def __init__(self, client: TestClient, tokens: dict[str, str]) -> None:
        self.client = client
        self.tokens = tokens

    def h(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def get(self, path: str, who: str = "admin", **kw: Any) -> Any:
        return self.client.get(path, headers=self.h(who), **kw)

    def post(self, path: str, who: str = "admin", **kw: Any) -> Any:
        return self.client.post(path, headers=self.h(who), **kw)

    def score(self, host: str) -> dict[str, Any]:
        body = {"uri": "/search?q=1%27%20or%201=1--", "headers": [["host", host]]}
        response = self.post("/v1/waf/score", "admin", json=body)
        assert response.status_code == 200, response.text
        out: dict[str, Any] = response.json()
        return out

    def wait_revision(self, revision: int) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.get("/v1/models/rollout").json()["worker_revision"] == revision:
                return
            time.sleep(0.05)
        raise AssertionError(f"worker did not reach revision {revision}")


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    db = Database(url)
    db.upgrade()
    store = TokenStore(db)
    tokens = {
        "admin": store.create("root", ["admin"]).token,
        "analyst": store.create("a", ["analyst"]).token,
        "ts": store.create("t", ["trust_safety"]).token,
        "owner": store.create("o", ["site_owner"], zones=["shop.example"]).token,
    }
    db.dispose()
    settings = load_settings(
        None,
        database_url=url,
        banks_dir=tmp_path / "banks",
        workers=1,
        csp_fetch=False,
        model_poll_s=0.05,
        model_drift=False,
    )
    with TestClient(create_app(settings)) as client:
        yield Api(client, tokens)


def test_permissions(api: Api) -> None:
    assert api.get("/v1/models", "analyst").status_code == 200
    assert api.get("/v1/models", "owner").status_code == 403  # not a zone question
    assert api.post("/v1/models", "analyst", content=b"x").status_code == 403
    assert api.post("/v1/models/rollback", "ts", json={}).status_code == 403
    assert api.client.get("/v1/models").status_code == 401
    bad = api.post("/v1/models", content=b"PK not really a model")
    assert bad.status_code == 400 and "not a bastion model" in bad.json()["error"]
    assert api.get("/v1/models/waf-000000000000").status_code == 404


def test_register_shadow_canary_promote_rollback(api: Api) -> None:
    shipped = version_of(shipped_waf())
    candidate_bytes = shifted_waf("api", -6.0)
    candidate = version_of(candidate_bytes)
    r = api.post("/v1/models", content=shipped_waf(), params={"source": "waf-model.npz"})
    assert r.status_code == 201 and r.json()["version"] == shipped
    assert api.post("/v1/models", content=shipped_waf()).status_code == 200  # known already
    assert api.post("/v1/models", content=candidate_bytes).status_code == 201
    listed = {m["version"]: m["status"] for m in api.get("/v1/models").json()["models"]}
    assert listed == {shipped: "candidate", candidate: "candidate"}

    state = api.post(f"/v1/models/{shipped}/promote", json={"reason": "baseline"}).json()
    assert state["active"] == shipped
    api.post(f"/v1/models/{candidate}/shadow")
    api.wait_revision(2)
    for i in range(20):
        assert api.score(f"z{i}.example")["model"] == shipped  # the shadow only logs
    # Each worker flushes its tally on a timer; flush this one now.
    api.client.app.state.model_runtime.flush(everything=True)  # type: ignore[attr-defined]
    report = api.get(f"/v1/models/{candidate}/shadow-report").json()
    assert report["baselines"] == [shipped]
    assert report["vectors"]["score"]["requests"] == 20
    assert report["vectors"]["sqli"]["mean_abs_delta"] == 0  # only the global head moved

    r = api.post(f"/v1/models/{candidate}/canary", json={"percent": 30, "key": "zone"})
    assert r.status_code == 200 and r.json()["canary"] == candidate
    api.wait_revision(3)
    zones = [f"z{i}.example" for i in range(30)]
    for zone in zones:
        expected = candidate if in_canary(zone, 30) else shipped
        assert api.score(zone)["model"] == expected
    assert api.post(f"/v1/models/{candidate}/canary", json={"percent": 0}).status_code == 400

    api.post(f"/v1/models/{candidate}/promote")
    api.wait_revision(4)
    assert {api.score(z)["model"] for z in zones} == {candidate}
    api.post("/v1/models/rollback", json={"kind": "waf", "reason": "test"})
    api.wait_revision(5)
    assert {api.score(z)["model"] for z in zones} == {shipped}
    again = api.post("/v1/models/rollback", json={})
    assert again.status_code == 409 and "nothing to roll back" in again.json()["error"]

    events = api.get(f"/v1/models/{candidate}/history").json()["events"]
    assert [e["to"] for e in events][:3] == ["retired", "active", "canary"]
    live = api.get(
        "/v1/models/live", params={"at": datetime.now(UTC).isoformat(), "zone": "z1.example"}
    ).json()
    assert live["live"] == [{"version": shipped, "role": "active", "share": 1.0}]


def test_feedback(api: Api) -> None:
    body = {
        "label": "false_positive",
        "request": {"uri": "/search?q=select+your+plan", "headers": [["host", "shop.example"]]},
        "note": "pricing page",
    }
    r = api.post("/v1/models/feedback", "ts", json=body)
    assert r.status_code == 201 and r.json()["zone"] == "shop.example"
    assert api.post("/v1/models/feedback", "analyst", json=body).status_code == 403
    bad = api.post("/v1/models/feedback", json={**body, "label": "false_negative"})
    assert bad.status_code == 400 and "names its vector" in bad.json()["error"]
    bad = api.post("/v1/models/feedback", json={**body, "request": {"uri": 3}})
    assert bad.status_code == 400 and "request" in bad.json()["error"]
    rows = api.get("/v1/models/feedback", "analyst").json()["feedback"]
    assert [(x["label"], x["zone"]) for x in rows] == [("false_positive", "shop.example")]
