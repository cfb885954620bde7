"""``bastion abuse``: submit, replay (file and synthetic), consume, cases list/show/act,
zone contacts; errors exit 2 with one line naming the problem."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bastion.cli import app


@pytest.fixture
def cli(tmp_path: Path) -> Any:
    runner = CliRunner()
    env = {"BASTION_DATABASE_URL": f"sqlite:///{tmp_path / 'b.db'}", "BASTION_CONFIG": ""}

    def run(*args: str, code: int = 0) -> Any:
        result = runner.invoke(app, ["abuse", *args], env=env)
        assert result.exit_code == code, (result.stdout, result.stderr)
        return result

    return run


def test_submit_consume_and_work_a_case(cli: Any, tmp_path: Path) -> None:
    out = cli("zone", "set", "Shop.Example", "--owner-contact", "o@shop.example",
              "--host", "HostCo", "--host-contact", "abuse@hostco.example").stdout  # fmt: skip
    assert json.loads(out)["zone"] == "shop.example"
    for email in ("a@r.example", "b@r.example"):
        url = "HTTPS://login.shop.example/x#f"
        sub = json.loads(cli("submit", "--type", "phishing", "--url", url, "--email", email).stdout)
        assert sub["urls"] == ["https://login.shop.example/x"]
    stats = json.loads(cli("consume", "--until-idle").stdout)
    assert (stats["new_reports"], stats["new_cases"]) == (2, 1)
    [case] = json.loads(cli("cases", "list", "--json").stdout)
    assert (case["report_count"], case["reporter_count"], case["zone"]) == (2, 2, "shop.example")
    assert "P1" in cli("cases", "list").stdout
    shown = json.loads(cli("cases", "show", str(case["id"])).stdout)
    assert {r["reporter"]["email"] for r in shown["reports"]} == {"a@r.example", "b@r.example"}
    acted = json.loads(cli("cases", "act", str(case["id"]), "geo_block", "--country", "DE").stdout)
    assert acted["case"]["state"] == "actioned" and acted["action"]["actor"] == "cli"
    assert acted["notices"] == 1
    err = cli("cases", "act", str(case["id"]), "reject", "--reason", "x", code=2).stderr
    assert "cannot reject a case that is 'actioned'" in err
    assert "unknown action" in cli("cases", "act", "1", "nuke", code=2).stderr
    assert "no case 99" in cli("cases", "show", "99", code=2).stderr
    assert "state" in json.loads(cli("cases", "list", "--json", "--state", "actioned").stdout)[0]


def test_submit_errors_name_the_problem(cli: Any) -> None:
    assert (
        "unsupported scheme" in cli("submit", "--type", "spam", "--url", "ftp://x", code=2).stderr
    )
    assert "type" in cli("submit", "--type", "nope", "--url", "a.example", code=2).stderr
    err = cli("submit", "--type", "copyright", "--url", "a.example", "--work", "w", code=2).stderr
    assert "copyright.good_faith" in err and "reporter.email" in err


def test_replay_a_file_and_synthetic_load(cli: Any, tmp_path: Path) -> None:
    lines = [
        json.dumps({"type": "spam", "urls": ["shop.example/a"]}),
        "not json",
        json.dumps({"type": "spam", "urls": ["ftp://bad"]}),
        json.dumps({"id": "e1", "kind": "abuse.report", "data": {"nonsense": True}}),
    ]
    path = tmp_path / "reports.jsonl"
    path.write_text("\n".join(lines) + "\n")
    result = cli("replay", str(path))
    out = json.loads(result.stdout)
    assert (out["published"], out["skipped"]) == (2, 2)
    assert "reports.jsonl:2" in result.stderr and "reports.jsonl:3" in result.stderr
    out = json.loads(cli("replay", "--synthetic", "300", "--batch", "64").stdout)
    assert out["published"] == 300 and out["events_per_s"] > 0
    stats = json.loads(cli("consume", "--until-idle").stdout)
    # The invalid event is skipped (and acknowledged); popular URLs dedupe into cases.
    assert (stats["events"], stats["new_reports"], stats["skipped"]) == (302, 301, 1)
    assert 0 < stats["new_cases"] < 301
    assert "give either FILE or --synthetic" in cli("replay", code=2).stderr
