"""Rule lists: compilation checks, Cloudflare-style evaluation order, the default rules."""

from __future__ import annotations

import pickle
from dataclasses import replace

import pytest

from bastion.rules import (
    DEFAULT_RULE_SPECS,
    Action,
    Decision,
    RuleContext,
    RuleError,
    RuleSpec,
    compile_expression,
    compile_rules,
)
from bastion.rules.ruleset import MAX_RULES
from bastion.waf.result import WafResult

CLEAN = RuleContext(99, 99, 99, 99, "clean", "GET", "example.com", "/index.html")


def ctx(**changes: object) -> RuleContext:
    return replace(CLEAN, **changes)  # type: ignore[arg-type]


def matches(expression: str, context: RuleContext = CLEAN) -> bool:
    return compile_expression(expression)(context)


@pytest.mark.parametrize(
    ("expression", "context", "expected"),
    [
        ("waf.score < 50", ctx(score=49), True),
        ("waf.score < 50", ctx(score=50), False),
        ("waf.score <= 50", ctx(score=50), True),
        ("waf.sqli > 10", ctx(sqli=11), True),
        ("waf.xss >= 11", ctx(xss=10), False),
        ("waf.rce == 7", ctx(rce=7), True),
        ("waf.rce != 7", ctx(rce=7), False),
        ("50 > waf.score", ctx(score=10), True),
        ("waf.score < 101", ctx(score=100, cls="unscored"), True),
        ("waf.score < 100", ctx(score=100, cls="unscored"), False),
        ('waf.class == "unscored"', ctx(score=100, cls="unscored"), True),
        ('path startswith "/admin"', ctx(path="/admin/users"), True),
        ('path startswith "/admin"', ctx(path="/Admin"), False),
        ('path endswith ".php"', ctx(path="/x.php"), True),
        ('host contains "intern"', ctx(host="db.internal"), True),
        ('"/admin/x" startswith path', ctx(path="/admin"), True),
        ('path matches "^/(wp|xmlrpc)"', ctx(path="/wp-login.php"), True),
        ('path matches "(?i)ADMIN"', ctx(path="/x/admin"), True),
        ('path matches "^/$"', ctx(path="/a"), False),
        ('path matches "\\\\.git/"', ctx(path="/.git/config"), True),
        ('method in {"GET", "HEAD"}', ctx(method="HEAD"), True),
        ('method not in {"GET", "HEAD"}', ctx(method="HEAD"), False),
        ("waf.score in {1, 2, 3}", ctx(score=2), True),
        ("path == host", ctx(path="x", host="x"), True),
        ("waf.sqli < waf.xss", ctx(sqli=5, xss=6), True),
        ("not waf.score < 50", ctx(score=10), False),
        ("true and not false", CLEAN, True),
        ('1 < 2 and "a" == "a" and "x" in {"x"}', CLEAN, True),
        ('"abc" matches "b" and not ("abc" startswith "b")', CLEAN, True),
        ('"/a" matches "a$" and "/a" matches "^/"', CLEAN, True),
        ("false or waf.score > 98", CLEAN, True),
        (
            "waf.sqli < 1 or waf.xss < 1 or waf.rce < 1 or waf.score < 1 or waf.score == 99",
            CLEAN,
            True,
        ),
        (
            "waf.sqli > 1 and waf.xss > 1 and waf.rce > 1 and waf.score > 1 and waf.score < 99",
            CLEAN,
            False,
        ),
    ],
)
def test_expression_values(expression: str, context: RuleContext, expected: bool) -> None:
    assert matches(expression, context) is expected


def specs(*rules: tuple[str, str, str]) -> list[RuleSpec]:
    return [RuleSpec(rule_id, expr, action) for rule_id, expr, action in rules]


RULES = compile_rules(
    specs(
        ("log-all-posts", 'method == "POST"', "log"),
        ("skip-health", 'path == "/healthz"', "skip"),
        ("log-low", "waf.score < 60", "log"),
        ("challenge-login", 'path == "/login" and waf.score < 60', "challenge"),
        ("block-low", "waf.score < 30", "block"),
        ("block-never-reached", "waf.score < 30", "block"),
    )
)


@pytest.mark.parametrize(
    ("context", "decision"),
    [
        (CLEAN, Decision("allow", None, ())),
        (ctx(method="POST"), Decision("allow", None, ("log-all-posts",))),
        (ctx(path="/healthz", score=5), Decision("allow", "skip-health", ())),
        (ctx(path="/healthz", method="POST"), Decision("allow", "skip-health", ("log-all-posts",))),
        (ctx(score=50), Decision("allow", None, ("log-low",))),
        (ctx(score=50, path="/login"), Decision("challenge", "challenge-login", ("log-low",))),
        (ctx(score=5, path="/login"), Decision("challenge", "challenge-login", ("log-low",))),
        (ctx(score=5, method="POST"), Decision("block", "block-low", ("log-all-posts", "log-low"))),
    ],
)
def test_first_terminating_match_wins_and_logs_accumulate(
    context: RuleContext, decision: Decision
) -> None:
    assert RULES.evaluate(context) == decision


def test_ruleset_exposes_compiled_rules() -> None:
    assert len(RULES) == 6
    first = RULES.rules[0]
    assert (first.id, first.action, first.expression) == (
        "log-all-posts",
        Action.LOG,
        'method == "POST"',
    )
    assert first.matches(ctx(method="POST"))
    assert "log-all-posts" in repr(RULES)


def test_default_rules_log_below_40_and_block_below_20() -> None:
    rules = compile_rules(DEFAULT_RULE_SPECS)
    assert rules.evaluate(ctx(score=40)) == Decision("allow")
    assert rules.evaluate(ctx(score=39)) == Decision("allow", None, ("log-likely-attacks",))
    assert rules.evaluate(ctx(score=20)).action == "allow"
    assert rules.evaluate(ctx(score=19)) == Decision(
        "block", "block-attacks", ("log-likely-attacks",)
    )
    assert rules.evaluate(ctx(score=100, cls="unscored")) == Decision("allow")


def test_actions_may_be_enum_members_or_strings() -> None:
    rules = compile_rules([RuleSpec("a", "true", Action.CHALLENGE), RuleSpec("b", "true", "skip")])
    assert [r.action for r in rules.rules] == [Action.CHALLENGE, Action.SKIP]
    assert rules.evaluate(CLEAN) == Decision("challenge", "a")
    assert compile_rules([]).evaluate(CLEAN) == Decision("allow")


def test_errors_carry_rule_id_index_and_position() -> None:
    bad = specs(("ok", "true", "log"), ("block-admin", "waf.score < and", "block"))
    with pytest.raises(RuleError) as info:
        compile_rules(bad)
    err = info.value
    assert str(err) == (
        "rule 'block-admin' (#2), line 1, column 13: expected a number after '<', found 'and'"
    )
    assert (err.rule_id, err.index, err.line, err.column, err.expected) == (
        "block-admin",
        2,
        1,
        13,
        "a number",
    )
    again = pickle.loads(pickle.dumps(err))
    assert (str(again), again.rule_id, again.column) == (str(err), "block-admin", 13)


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        (
            [("a", "true", "log"), ("b", "true", "log"), ("a", "false", "block")],
            "rule 'a' (#3): duplicate rule id 'a' (also rule #1)",
        ),
        (
            [("a", "true", "blok")],
            "rule 'a' (#1): unknown action 'blok' (did you mean 'block'?); "
            "actions are block, log, challenge, skip",
        ),
        ([("a", "true", "BLOCK")], "unknown action 'BLOCK' (did you mean 'block'?)"),
        ([("a", "", "log")], "rule 'a' (#1): empty expression"),
        ([("", "true", "log")], "rule '' (#1): invalid rule id ''"),
        ([("has space", "true", "log")], "invalid rule id 'has space'"),
        ([("x" * 129, "true", "log")], "invalid rule id"),
    ],
)
def test_rule_list_validation(rules: list[tuple[str, str, str]], message: str) -> None:
    with pytest.raises(RuleError) as info:
        compile_rules(specs(*rules))
    assert message in str(info.value)
    assert info.value.line is None


def test_rule_count_cap() -> None:
    many = [RuleSpec(f"r{i}", "true", "log") for i in range(MAX_RULES + 1)]
    with pytest.raises(RuleError, match="more than the limit"):
        compile_rules(many)
    assert len(compile_rules(many[:MAX_RULES])) == MAX_RULES


def test_context_from_result_canonicalizes_method_and_host() -> None:
    result = WafResult(15, 12, 90, 80)
    context = RuleContext.from_result(result, method="post", host="API.Example.com:8443", path="/x")
    assert context == RuleContext(15, 12, 90, 80, "attack", "POST", "api.example.com", "/x")
    v6 = RuleContext.from_result(WafResult.unscored(), method="GET", host="[::1]:80", path="/")
    assert (v6.host, v6.cls, v6.score) == ("[::1]", "unscored", 100)
    assert RuleContext.from_result(result, method="GET", host="h", path="/").host == "h"
