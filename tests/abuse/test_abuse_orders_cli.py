"""``bastion abuse orders|transparency`` and ``bastion abuse cases bulk``."""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bastion.cli import app


@pytest.fixture
def cli(tmp_path: Path) -> Any:
    runner = CliRunner()
    env = {"BASTION_DATABASE_URL": f"sqlite:///{tmp_path / 'b.db'}", "BASTION_CONFIG": "",
           "BASTION_ABUSE_BLOCKED_BY_URL": "https://bastion.example/legal"}  # fmt: skip

    def run(*args: str, code: int = 0) -> Any:
        result = runner.invoke(app, ["abuse", *args], env=env)
        assert result.exit_code == code, (result.stdout, result.stderr)
        return result

    return run


def test_orders_add_list_withdraw(cli: Any) -> None:
    cli("zone", "set", "shop.example")
    added = json.loads(cli("orders", "add", "--authority", "LG Hamburg", "--jurisdiction", "de",
                           "--reference", "310 O 7/26", "--country", "DE", "--country", "at",
                           "--url", "https://shop.example/banned", "--host", "evil.example",
                           "--valid-until", "2030-01-01T00:00:00Z").stdout)  # fmt: skip
    assert added["countries"] == ["AT", "DE"] and added["blocked_by"].endswith("/legal")
    assert added["valid_until"].startswith("2030-01-01")
    [listed] = json.loads(cli("orders", "list", "--json").stdout)
    assert listed["id"] == added["id"]
    assert "LG Hamburg" in cli("orders", "list").stdout
    gone = json.loads(cli("orders", "withdraw", str(added["id"]), "--reason", "lifted").stdout)
    assert gone["state"] == "withdrawn"
    assert "no legal order 99" in cli("orders", "withdraw", "99", "--reason", "x", code=2).stderr
    err = cli("orders", "add", "--authority", "A", "--jurisdiction", "DE", "--reference", "R",
              "--country", "DE", code=2).stderr  # fmt: skip
    assert "scope" in err
    err = cli("orders", "add", "--authority", "A", "--jurisdiction", "DE", "--reference", "R",
              "--country", "Germany", "--url", "https://x.example/", code=2).stderr  # fmt: skip
    assert "countries" in err
    err = cli("orders", "add", "--authority", "A", "--jurisdiction", "DE", "--reference", "R",
              "--country", "DE", "--url", "https://x.example/", "--valid-from", "soon",
              code=2).stderr  # fmt: skip
    assert "--valid-from" in err


def test_bulk_and_transparency(cli: Any, tmp_path: Path) -> None:
    cli("zone", "set", "shop.example")
    for i in range(3):
        cli("submit", "--type", "spam", "--url", f"https://shop.example/s{i}",
            "--email", f"r{i}@x.example")  # fmt: skip
    cli("submit", "--type", "phishing", "--url", "https://shop.example/p", "--email", "p@x.example")
    cli("consume", "--until-idle")
    out = json.loads(cli("cases", "bulk", "reject", "--type", "spam", "--reason", "junk").stdout)
    assert len(out["done"]) == 3 and out["failed"] == []
    assert "reason" in cli("cases", "bulk", "reject", "--type", "phishing", code=2).stderr
    assert "--case" in cli("cases", "bulk", "block", code=2).stderr
    assert "no case matches" in cli("cases", "bulk", "block", "--zone", "none.example",
                                    code=2).stderr  # fmt: skip
    again = json.loads(cli("cases", "bulk", "close", "--state", "rejected", "--case", "999").stdout)
    assert len(again["done"]) == 3 and again["failed"][0]["case"] == 999
    cli("orders", "add", "--authority", "LG", "--jurisdiction", "DE", "--reference", "R",
        "--country", "DE", "--url", "https://shop.example/p")  # fmt: skip
    period = time.strftime("%Y-%m", time.gmtime())
    summary = json.loads(cli("transparency", "--period", period, "--out", str(tmp_path)).stdout)
    assert summary["reports"] == 4 and summary["actions"] == 6 and summary["legal_orders"] == 1
    rows = list(csv.DictReader(Path(summary["files"]["csv"]).read_text().splitlines()))
    totals = {(r["metric"], r["key"]): int(r["count"]) for r in rows if r["month"] == "total"}
    assert totals[("reports", "spam")] == 3 and totals[("actions", "reject")] == 3
    assert totals[("legal_orders", "DE")] == 1
    data = json.loads(Path(summary["files"]["json"]).read_text())
    assert data["period"] == period and data["totals"]["cases"] == {"phishing": 1, "spam": 3}
    assert "<svg" in Path(summary["files"]["html"]).read_text()
    assert "quarter" in cli("transparency", "--period", "2026-Q0", code=2).stderr
    assert json.loads(cli("sla").stdout) == {"escalated": []}  # no clock has run out
