"""The registry in SQLite and PostgreSQL: register, transitions, history, live-at, shadow."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from modelops_kit import resaved_waf, shipped_waf
from sqlalchemy import select

from bastion.modelops import ArtifactError, RolloutError
from bastion.modelops.routing import in_canary
from bastion.scripts import model as js
from bastion.store import Database
from bastion.store.modelops import MinuteRow, ModelRegistry, RegistryError
from bastion.store.models import AuditEntry
from bastion.waf.model import ModelWeights, version_of

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def test_register_is_idempotent_and_validates(clean_database: Database) -> None:
    reg = ModelRegistry(clean_database)
    info, new = reg.register(shipped_waf(), source="waf-model.npz", actor="cli", at=T0)
    assert new and info["version"] == version_of(shipped_waf()) and info["status"] == "candidate"
    assert info["kind"] == "waf" and len(info["sha256"]) == 64
    # The shipped model's own record (meta) is what the registry must carry.
    meta = ModelWeights.from_bytes(shipped_waf()).meta
    assert info["pipeline"] == meta["pipeline"] == "c0b6891afd5f27e7"
    assert info["data_fingerprint"] == meta["data_fingerprint"]
    assert info["metrics"]["heads"]["sqli"]["auc"] > 0.99
    again, new = reg.register(shipped_waf(), source="elsewhere", actor="cli")
    assert not new and again["source"] == "waf-model.npz"
    assert reg.artifact(info["version"]) == shipped_waf()
    js_info, _ = reg.register(js.DEFAULT_MODEL_PATH.read_bytes(), source="js", actor="cli")
    assert js_info["kind"] == "scripts" and js_info["version"].startswith("js-")
    assert js_info["data_fingerprint"].startswith("cfg-")
    with pytest.raises(ArtifactError, match="zip header"):
        reg.register(b"not a model", source="x", actor="cli")
    with pytest.raises(RegistryError, match="no registered model version 'waf-nope'"):
        reg.get("waf-nope")
    assert [v["version"] for v in reg.list_versions(kind="waf")] == [info["version"]]


def test_rollout_history_and_live_at(clean_database: Database) -> None:
    reg = ModelRegistry(clean_database)
    a = reg.register(shipped_waf(), source="a", actor="cli", at=T0)[0]["version"]
    b = reg.register(resaved_waf("b"), source="b", actor="cli", at=T0)[0]["version"]
    assert a != b
    with pytest.raises(RolloutError, match="no active model yet"):
        reg.transition("canary", b, actor="cli", percent=10)
    reg.transition("promote", a, actor="cli", at=T0 + timedelta(minutes=1))
    reg.transition("shadow", b, actor="tok1", at=T0 + timedelta(minutes=2))
    state = reg.transition("canary", b, actor="tok1", percent=25, at=T0 + timedelta(minutes=3))
    assert (state.active, state.canary, state.shadow, state.canary_percent) == (a, b, None, 25.0)
    assert reg.revision("waf") == state.revision == 3
    with pytest.raises(RolloutError, match="percent must be in"):
        reg.transition("canary", b, actor="cli", percent=0)
    reg.transition("promote", b, actor="tok1", at=T0 + timedelta(minutes=5))
    assert reg.get(a)["status"] == "retired" and reg.get(b)["status"] == "active"
    back = reg.transition("rollback", None, kind="waf", actor="tok1", at=T0 + timedelta(minutes=7))
    assert back.active == a and reg.get(b)["status"] == "retired"

    # What was live, and for which zone: the zone's hash decides during a zone-keyed canary.
    assert reg.live_at("waf", T0)["live"] == []
    during = T0 + timedelta(minutes=4)
    zones = [f"z{i}.example" for i in range(40)]
    for zone in zones:
        live = reg.live_at("waf", during, zone)["live"]
        expected = b if in_canary(zone, 25) else a
        assert live == [
            {"version": expected, "role": "canary" if expected == b else "active", "share": 1.0}
        ]
    shares = reg.live_at("waf", during)["live"]
    assert {(x["version"], x["share"]) for x in shares} == {(a, 0.75), (b, 0.25)}
    assert reg.live_at("waf", T0 + timedelta(minutes=6))["live"][0]["version"] == b
    assert reg.live_at("waf", T0 + timedelta(minutes=8))["live"][0]["version"] == a

    events = reg.history(version=b)
    assert [(e["from"], e["to"]) for e in reversed(events)] == [
        (None, "candidate"),
        ("candidate", "shadow"),
        ("shadow", "canary"),
        ("canary", "active"),
        ("active", "retired"),
    ]
    with clean_database.session() as s:
        actions = [r.action for r in s.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions.count("model.register") == 2
    assert {"model.promote", "model.canary", "model.shadow", "model.rollback"} <= set(actions)


def test_shadow_tallies_and_minutes_add_up(clean_database: Database) -> None:
    reg = ModelRegistry(clean_database)
    reg.add_shadow("c", "a", {("sqli", "clean", "attack"): [2, -150, 150]})
    reg.add_shadow(
        "c", "a", {("sqli", "clean", "attack"): [1, -80, 80], ("sqli", "clean", "clean"): [7, 7, 7]}
    )
    report = reg.shadow_report("c")
    sqli = report["vectors"]["sqli"]
    assert (sqli["requests"], sqli["class_flips"], sqli["flips"]) == (10, 3, {"clean->attack": 3})
    assert sqli["mean_delta"] == pytest.approx((-230 + 7) / 10)
    hist = {"score": [0] * 99 + [1]}
    row = MinuteRow(T0, "waf-x", "shop.example", 1, 0, hist)
    reg.add_minutes("w1", [row])
    reg.add_minutes("w1", [row])
    reg.add_minutes("w2", [MinuteRow(T0, "waf-x", "shop.example", 3, 1, {"score": [1] + [0] * 99})])
    (merged,) = reg.minutes(T0, T0 + timedelta(minutes=1))
    assert (merged.requests, merged.blocked) == (5, 1)
    assert merged.hist["score"][0] == 1 and merged.hist["score"][99] == 2
    assert reg.first_minute("waf-x") == T0
