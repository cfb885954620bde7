"""Parameter exclusions: ``exclude`` rules checked and applied before scoring, requests
without a parameter, and the proposal of a narrow exception from a logged false positive
with a replay of what it would have let through."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote_plus

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from bastion.auth.tokens import TokenStore
from bastion.config import load_settings
from bastion.rules import RuleError, RuleSpec, compile_rules
from bastion.rules.ruleset import DEFAULT_RULE_SPECS
from bastion.service.app import create_app
from bastion.service.scoring import ScoringService
from bastion.store.db import Database
from bastion.waf.exclusion import (
    param_of_location,
    proposal_location,
    without_params,
)
from bastion.waf.request import HttpRequest
from bastion.waf.scorer import Scorer, load_scorer

FP_QUERY = "how to drop table in sql union select"
ATTACK = "1' or '1'='1"
HOST = "docs.shop.example"


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    return load_scorer()


def _exclude(expression: str, param: str, rule_id: str = "fp") -> RuleSpec:
    return RuleSpec(rule_id, expression, "exclude", "", param)


def test_exclude_rules_are_checked() -> None:
    with pytest.raises(RuleError, match="needs a 'param'"):
        compile_rules([_exclude('path == "/s"', "")])
    with pytest.raises(RuleError, match=r"cannot read waf\.score"):
        compile_rules([_exclude('waf.score < 20 and path == "/s"', "q")])
    with pytest.raises(RuleError, match="only 'exclude' rules take a 'param'"):
        compile_rules([RuleSpec("b", "waf.score < 20", "block", "", "q")])
    with pytest.raises(RuleError, match="needs a 'param'"):
        compile_rules([_exclude('path == "/s"', "cookie:")])
    rules = compile_rules([_exclude('host == "a.test" and path startswith "/s"', "q")])
    assert rules.has_exclusions and len(rules) == 1
    assert rules.excluded_params("GET", "A.test:443", "/search") == ("q",)
    assert rules.excluded_params("GET", "b.test", "/search") == ()
    # An exclude rule decides nothing by itself.
    assert compile_rules(DEFAULT_RULE_SPECS).has_exclusions is False


def test_without_params_in_every_place() -> None:
    r = HttpRequest("GET", "/s?q=x&page=2&q=y#frag", (("Host", "a"),))
    assert without_params(r, ["q"]).uri == "/s?page=2#frag"
    assert without_params(r, ["page", "q"]).uri == "/s#frag"
    assert without_params(r, ["absent"]) is r
    form = HttpRequest(
        "POST", "/f", (("Content-Type", "application/x-www-form-urlencoded"),), b"q=1&a=2"
    )
    assert without_params(form, ["q"]).body == b"a=2"
    body = json.dumps({"q": {"deep": "x"}, "a": 1}).encode()
    js = HttpRequest("POST", "/j", (("Content-Type", "application/json"),), body)
    assert json.loads(without_params(js, ["q"]).body) == {"a": 1}
    cookie = HttpRequest("GET", "/", (("Cookie", "sid=abc; theme=dark"),))
    assert without_params(cookie, ["cookie:theme"]).headers == (("Cookie", "sid=abc"),)
    assert without_params(cookie, ["theme"]) is cookie  # an argument is not a cookie
    bad_json = HttpRequest("POST", "/j", (("Content-Type", "application/json"),), b"{nope")
    assert without_params(bad_json, ["q"]) is bad_json


_name = st.text("abcdefgh", min_size=1, max_size=4)
_value = st.text("abcxyz019'%+=", max_size=6)


@settings(max_examples=200, deadline=None)
@given(pairs=st.lists(st.tuples(_name, _value), max_size=8), drop=_name)
def test_without_params_keeps_every_other_parameter_as_it_was(
    pairs: list[tuple[str, str]], drop: str
) -> None:
    segments = [f"{k}={v}" for k, v in pairs]
    r = HttpRequest("GET", "/p?" + "&".join(segments))
    out = without_params(r, [drop])
    kept = [s for (k, _), s in zip(pairs, segments, strict=True) if k != drop]
    query = out.uri.partition("?")[2]
    assert (query.split("&") if query else []) == (kept if kept else [])


def test_locations_map_to_params() -> None:
    assert param_of_location("query:q") == "q"
    assert param_of_location("body:form:comment") == "comment"
    assert param_of_location("body:json:$.profile.bio") == "profile"
    assert param_of_location("body:json:$['odd key'][0]") == "odd key"
    assert param_of_location("cookie:prefs") == "cookie:prefs"
    for unnarrowable in ("path", "header:user-agent", "body:raw", "querykey:q", "query"):
        assert param_of_location(unnarrowable) is None
    expl = {
        "sqli": {"location": "query:q", "score": 3},
        "xss": {"location": "query:other", "score": 60},
        "global": {"location": "query:q", "score": 3},
    }
    assert proposal_location(expl) == "query:q"


def test_scoring_leaves_the_excluded_parameter_out_and_only_there(scorer: Scorer) -> None:
    rules = compile_rules(
        [_exclude(f'host == "{HOST}" and path == "/docs/search"', "q"), *DEFAULT_RULE_SPECS]
    )
    service = ScoringService(scorer, rules)
    plain = ScoringService(scorer, compile_rules(DEFAULT_RULE_SPECS))

    def req(path: str, query: str, host: str = HOST) -> HttpRequest:
        return HttpRequest("GET", f"{path}?{query}", (("Host", host),))

    fp = req("/docs/search", f"q={quote_plus(FP_QUERY)}&page=2")
    assert plain.judge([fp])[0].decision.action == "block"
    assert service.judge([fp])[0].decision.action == "allow"
    # Another path, another host, or an attack in another parameter: still blocked.
    assert (
        service.judge([req("/search", f"q={quote_plus(FP_QUERY)}")])[0].decision.action == "block"
    )
    other_host = req("/docs/search", f"q={quote_plus(FP_QUERY)}", "x.example")
    assert service.judge([other_host])[0].decision.action == "block"
    both = req("/docs/search", f"q={quote_plus(FP_QUERY)}&page={quote_plus(ATTACK)}")
    assert service.judge([both])[0].decision.action == "block"


@pytest.fixture
def client(tmp_path: Path, scorer: Scorer) -> Iterator[tuple[TestClient, dict[str, str]]]:
    url = f"sqlite:///{tmp_path / 'bastion.db'}"
    db = Database(url)
    db.upgrade()
    store = TokenStore(db)
    tokens = {
        "admin": store.create("admin", ["admin"]).token,
        "analyst": store.create("analyst", ["analyst"]).token,
        "ingest": store.create("nginx", ["ingest"]).token,
    }
    db.dispose()
    settings_ = load_settings(None, database_url=url, analytics_flush_s=0.05, rules_refresh_s=0.2)
    with TestClient(create_app(settings_, scorer=scorer), raise_server_exceptions=False) as c:
        yield c, tokens


def test_propose_replay_publish_round_trip(client: tuple[TestClient, dict[str, str]]) -> None:
    c, tokens = client

    def h(who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens[who]}"}

    def score(query: str, path: str = "/docs/search") -> dict[str, object]:
        body = {"method": "GET", "uri": f"{path}?{query}", "headers": [["Host", HOST]]}
        r = c.post("/v1/waf/score", json=body, headers=h("ingest"))
        assert r.status_code == 200
        return dict(r.json())

    fp = f"q={quote_plus(FP_QUERY)}&page=2"
    assert score(fp)["action"] == "block"
    for i in range(3):  # more false positives of the same kind
        score(f"q={quote_plus(FP_QUERY + f' {i}')}")
    score(f"q=ok&page={quote_plus(ATTACK)}")  # a real attack on the same path, elsewhere
    score(f"q={quote_plus(FP_QUERY)}", path="/blog/search")  # another path
    assert c.app.state.analytics.request_log.flush(5)  # type: ignore[attr-defined]
    page = c.get(
        "/v1/analytics/zones/_/requests",
        params={"path_prefix": "/docs/search", "limit": 50},
        headers=h("analyst"),
    ).json()
    first = next(item for item in page["requests"] if item["query"] == fp)
    url = f"/v1/analytics/zones/_/requests/{first['id']}/exclusion"
    assert c.post(url, headers=h("ingest")).status_code == 403
    r = c.post(url, headers=h("analyst"))
    assert r.status_code == 200, r.text
    proposal = r.json()
    rule = proposal["rule"]
    assert rule["action"] == "exclude" and rule["param"] == "q"
    assert rule["expression"] == f'host == "{HOST}" and path == "/docs/search"'
    replay = proposal["dry_run"]["exclusions"]
    # The four false positives would pass; the attack in 'page' and the other path would not.
    assert replay["matched"] == 5 and replay["let_through"] == 4
    assert {e["query"].split("&")[0][:2] for e in replay["examples"]} == {"q="}
    assert proposal["dry_run"]["actions"]["block"] == 2
    # Published, the exception applies to live traffic.
    live = c.get("/v1/rules", headers=h("analyst")).json()["rules"]
    r = c.put("/v1/rules", json={"rules": [rule, *live]}, headers=h("admin"))
    assert r.status_code == 200 and r.json()["ok"], r.text
    assert score(fp)["action"] == "allow"
    assert score(f"q=ok&page={quote_plus(ATTACK)}")["action"] == "block"
    stored = c.get("/v1/rules", headers=h("analyst")).json()["rules"]
    assert stored[0]["param"] == "q" and "param" not in stored[1]


def test_a_score_from_the_path_cannot_be_narrowed(
    client: tuple[TestClient, dict[str, str]],
) -> None:
    c, tokens = client
    auth = {"Authorization": f"Bearer {tokens['ingest']}"}
    body = {"method": "GET", "uri": "/cgi-bin/;cat%20/etc/passwd", "headers": [["Host", HOST]]}
    verdict = c.post("/v1/waf/score", json=body, headers=auth).json()
    assert c.app.state.analytics.request_log.flush(5)  # type: ignore[attr-defined]
    items = c.get(
        "/v1/analytics/zones/_/requests",
        headers={"Authorization": f"Bearer {tokens['analyst']}"},
    ).json()["requests"]
    (item,) = items
    r = c.post(
        f"/v1/analytics/zones/_/requests/{item['id']}/exclusion",
        headers={"Authorization": f"Bearer {tokens['analyst']}"},
    )
    assert verdict["waf"]["class"] in ("attack", "likely_attack")
    assert r.status_code == 422 and "skip" in r.json()["error"]
