"""``bastion models``: register, promote, canary, rollback, live, and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from modelops_kit import resaved_waf
from typer.testing import CliRunner

from bastion.cli import app
from bastion.waf.model import DEFAULT_MODEL_PATH, version_of


def test_models_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BASTION_DATABASE_URL", f"sqlite:///{tmp_path / 'c.db'}")
    run = CliRunner().invoke
    candidate = tmp_path / "candidate.npz"
    candidate.write_bytes(resaved_waf("cli"))
    shipped, cand = version_of(DEFAULT_MODEL_PATH.read_bytes()), version_of(candidate.read_bytes())
    r = run(app, ["models", "register", str(DEFAULT_MODEL_PATH), str(candidate)])
    assert r.exit_code == 0 and f"registered {shipped}" in r.output and cand in r.output
    assert run(app, ["models", "promote", shipped]).exit_code == 0
    r = run(app, ["models", "canary", cand, "--percent", "10", "--key", "client"])
    assert r.exit_code == 0 and json.loads(r.output)["canary_percent"] == 10.0
    live = json.loads(run(app, ["models", "live", "now"]).output)
    assert {x["version"] for x in live["live"]} == {shipped, cand}
    assert json.loads(run(app, ["models", "rollback"]).output)["canary"] is None
    r = run(app, ["models", "rollback"])
    assert r.exit_code == 2 and "nothing to roll back" in r.output
    r = run(app, ["models", "show", "waf-000000000000"])
    assert r.exit_code == 2 and "no registered model version" in r.output
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"junk")
    r = run(app, ["models", "register", str(bad)])
    assert r.exit_code == 2 and "zip header" in r.output
    history = run(app, ["models", "history"]).output
    assert "canary -> candidate" in history and "candidate -> active" in history
