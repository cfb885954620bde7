"""ScoringService routes between models and every verdict names the model that scored it."""

from __future__ import annotations

from modelops_kit import shifted_waf

from bastion.modelops.routing import RoutePlan, in_canary
from bastion.rules import DEFAULT_RULE_SPECS, compile_rules
from bastion.service.scoring import ScoringService, verdict_json
from bastion.waf.model import Model, ModelWeights, version_of
from bastion.waf.request import HttpRequest
from bastion.waf.scorer import Scorer, load_scorer


def _scorer(data: bytes) -> Scorer:
    return Scorer(Model(ModelWeights.from_bytes(data), version_of(data)))


def test_canary_by_zone_and_swap() -> None:
    active = load_scorer()
    canary = _scorer(shifted_waf("canary", -6.0))
    assert canary.version != active.version
    service = ScoringService(active, compile_rules(DEFAULT_RULE_SPECS))
    zones = [f"z{i}.example" for i in range(30)]
    requests = [HttpRequest("GET", "/?q=hello", (("host", z),)) for z in zones]
    assert {v.model for v in service.judge(requests)} == {active.version}

    service.swap(RoutePlan(active, revision=1, canary=canary, canary_percent=40))
    verdicts = service.judge(requests)
    for zone, verdict in zip(zones, verdicts, strict=True):
        expected = canary if in_canary(zone, 40) else active
        assert verdict.model == expected.version
        # The verdict is the chosen model's own score for that request.
        assert verdict.result == expected.score_batch([requests[zones.index(zone)]])[0]
    assert {v.model for v in verdicts} == {active.version, canary.version}
    assert verdict_json(verdicts[0])["model"] == verdicts[0].model

    service.swap(RoutePlan(canary, revision=2))
    assert {v.model for v in service.judge(requests)} == {canary.version}
    assert service.version == canary.version


def test_canary_by_client_address() -> None:
    active = load_scorer()
    canary = _scorer(shifted_waf("canary", -6.0))
    service = ScoringService(active, compile_rules(DEFAULT_RULE_SPECS))
    service.swap(RoutePlan(active, canary=canary, canary_percent=50, canary_key="client"))
    clients = [f"198.51.100.{i}" for i in range(40)]
    requests = [
        HttpRequest("GET", "/", (("host", "one.example"), ("x-forwarded-for", c))) for c in clients
    ]
    models = [v.model for v in service.judge(requests)]
    assert models == [canary.version if in_canary(c, 50) else active.version for c in clients]
    # Addresses the entry point knows win over the headers.
    given = service.judge(requests, clients=["203.0.113.1"] * len(requests))
    assert len({v.model for v in given}) == 1
