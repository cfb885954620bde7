"""A case closes only after its URL was re-checked and found gone, or by an admin's
audited override with a reason: in the store, the API (single and bulk) and the CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from abuse_kit import T0
from sqlalchemy import select
from test_abuse_api import Api, make_api
from typer.testing import CliRunner

from bastion.abuse import (
    ActionRequest,
    CaseAction,
    InvalidActionError,
    Processor,
    RecheckRequiredError,
    ReportSubmission,
)
from bastion.abuse.reputation import Reputation
from bastion.cli import app
from bastion.store import AuditEntry, Database
from bastion.store.abuse import act, apply_batch, load_zones, set_zone_contacts
from bastion.store.abuse_models import AbuseCase
from bastion.store.abuse_orders import record_recheck
from bastion.waf.scorer import Scorer, load_scorer

CLOSE = ActionRequest(CaseAction.CLOSE)


@pytest.fixture
def db(clean_database: Database) -> Database:
    with clean_database.session(write=True) as s:
        set_zone_contacts(s, "shop.example", owner_contact="owner@shop.example", host=None,
                          host_contact=None, actor="test")  # fmt: skip
    return clean_database


def _case(db: Database, path: str, kind: str = "phishing") -> int:
    sub = ReportSubmission.model_validate(
        {"type": kind, "urls": [f"https://shop.example/{path}"], "reporter": {"email": "r@x.io"}}
    )
    report = sub.accept(source="test", received_at=T0)
    with db.session() as s:
        processor = Processor(load_zones(s))
    apply_batch(db, [processor.process(report, Reputation())], clock=lambda: T0)
    with db.session() as s:
        return int(s.scalars(select(AbuseCase.id).where(AbuseCase.url.endswith(path))).one())


def _recheck(db: Database, case_id: int, outcome: str, hours: float) -> None:
    record_recheck(db, case_id, outcome=outcome, status=None, detail=outcome, actor="t",
                   close=False, clock=lambda: T0 + timedelta(hours=hours))  # fmt: skip


def _close(db: Database, case_id: int, hours: float, request: ActionRequest = CLOSE) -> Any:
    return act(db, case_id, request, actor="t", clock=lambda: T0 + timedelta(hours=hours))


def test_close_needs_a_recent_recheck_that_found_the_url_gone(db: Database) -> None:
    case_id = _case(db, "a")
    act(db, case_id, ActionRequest(CaseAction.BLOCK), actor="t", clock=lambda: T0)
    with pytest.raises(RecheckRequiredError, match="none was made"):
        _close(db, case_id, 1)
    _recheck(db, case_id, "still_up", 1)
    with pytest.raises(RecheckRequiredError, match="found it still_up"):
        _close(db, case_id, 1)
    _recheck(db, case_id, "gone", 2)
    with pytest.raises(RecheckRequiredError, match="older than 24 hours"):
        _close(db, case_id, 27)
    _recheck(db, case_id, "inconclusive", 28)  # the latest re-check is the one that counts
    with pytest.raises(RecheckRequiredError, match="found it inconclusive"):
        _close(db, case_id, 28)
    _recheck(db, case_id, "gone", 29)
    out = _close(db, case_id, 30)
    assert out.case["state"] == "closed"
    assert out.action["detail"]["recheck"]["outcome"] == "gone"
    assert out.action["detail"]["recheck"]["override"] is False


def test_a_rejected_case_closes_without_a_recheck(db: Database) -> None:
    case_id = _case(db, "b", "spam")
    act(db, case_id, ActionRequest(CaseAction.REJECT, reason="not spam"), actor="t")
    assert _close(db, case_id, 1).case["state"] == "closed"


def test_an_override_needs_a_reason_and_is_audited(db: Database) -> None:
    case_id = _case(db, "c")
    act(db, case_id, ActionRequest(CaseAction.TRIAGE), actor="t")
    with pytest.raises(InvalidActionError, match="needs a reason"):
        _close(db, case_id, 1, ActionRequest(CaseAction.CLOSE, override=True))
    with pytest.raises(InvalidActionError, match="only close"):
        _close(db, case_id, 1, ActionRequest(CaseAction.BLOCK, reason="x", override=True))
    _recheck(db, case_id, "still_up", 1)
    request = ActionRequest(CaseAction.CLOSE, reason="host confirmed removal", override=True)
    out = _close(db, case_id, 2, request)
    assert out.case["state"] == "closed"
    assert out.action["detail"]["recheck"]["override"] is True
    assert out.action["detail"]["recheck"]["outcome"] == "still_up"
    with db.session() as s:
        audit = s.scalars(select(AuditEntry).where(AuditEntry.action == "abuse_case.close")).one()
    assert audit.detail["recheck"]["override"] is True
    assert audit.detail["reason"] == "host confirmed removal"


# -- API -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    return load_scorer()


@pytest.fixture
def api(tmp_path: Path, database_url: str, scorer: Scorer) -> Iterator[Api]:
    yield from make_api(tmp_path, database_url, scorer)


def test_the_api_refuses_a_close_without_recheck_and_lets_only_admins_override(api: Api) -> None:
    for path in ("x1", "x2"):
        assert api.report(urls=[f"https://login.shop.example/{path}"]).status_code == 202
    ids = sorted(c["id"] for c in api.cases(2))
    url = f"/v1/abuse/cases/{ids[0]}/actions"
    assert api.client.post(url, json={"action": "block"}, headers=api.h("ts")).status_code == 200
    r = api.client.post(url, json={"action": "close"}, headers=api.h("ts"))
    assert r.status_code == 409 and "re-check" in r.json()["error"]
    override = {"action": "close", "override": True, "reason": "host took it down"}
    r = api.client.post(url, json=override, headers=api.h("ts"))
    assert r.status_code == 403 and "admin" in r.json()["error"]
    r = api.client.post(url, json={**override, "reason": ""}, headers=api.h("admin"))
    assert r.status_code == 400
    r = api.client.post(url, json=override, headers=api.h("admin"))
    assert r.status_code == 200, r.text
    assert r.json()["case"]["state"] == "closed"
    assert r.json()["action"]["detail"]["recheck"]["override"] is True
    # Bulk: each case fails on its own without a re-check; an override is the admin's.
    triage = {"action": "triage"}
    r = api.client.post(f"/v1/abuse/cases/{ids[1]}/actions", json=triage, headers=api.h("ts"))
    assert r.status_code == 200
    bulk = {"action": "close", "case_ids": ids}
    r = api.client.post("/v1/abuse/cases/bulk-actions", json=bulk, headers=api.h("ts"))
    assert r.status_code == 200, r.text
    failed = r.json()["failed"]
    assert [f["case"] for f in failed] == ids  # one is closed already, one lacks a re-check
    assert "cannot close" in failed[0]["error"] and "re-check" in failed[1]["error"]
    r = api.client.post("/v1/abuse/cases/bulk-actions", json={**bulk, **override},
                        headers=api.h("ts"))  # fmt: skip
    assert r.status_code == 403


# -- CLI -------------------------------------------------------------------------------


def test_the_cli_close_needs_a_recheck_or_an_override(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"BASTION_DATABASE_URL": f"sqlite:///{tmp_path / 'b.db'}", "BASTION_CONFIG": ""}

    def cli(*args: str, code: int = 0) -> Any:
        result = runner.invoke(app, ["abuse", *args], env=env)
        assert result.exit_code == code, (result.stdout, result.stderr)
        return result

    cli("zone", "set", "shop.example")
    cli("submit", "--type", "phishing", "--url", "https://shop.example/p", "--email", "p@x.io")
    cli("consume", "--until-idle")
    [case] = json.loads(cli("cases", "list", "--json").stdout)
    cid = str(case["id"])
    cli("cases", "act", cid, "block")
    assert "re-check" in cli("cases", "act", cid, "close", code=2).stderr
    assert "reason" in cli("cases", "act", cid, "close", "--override", code=2).stderr
    out = json.loads(cli("cases", "act", cid, "close", "--override", "--reason", "gone").stdout)
    assert out["case"]["state"] == "closed"
    assert out["action"]["detail"]["recheck"]["override"] is True
