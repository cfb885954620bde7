"""Rule lists: specs as configured, their compiled form and first-match evaluation."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from bastion.rules.compiler import Predicate, compile_node
from bastion.rules.context import Decision, DecisionAction, RuleContext
from bastion.rules.errors import RuleError
from bastion.rules.parser import parse_expression
from bastion.rules.syntax import Expr

#: Rule ids: a letter or digit, then letters, digits and ``_ . : -`` (they appear in logs
#: and response headers).
RULE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:\-]{0,127}")
MAX_RULES = 1000


class Action(StrEnum):
    """What a matching rule does: ``log`` records and goes on, the others end evaluation."""

    BLOCK = "block"
    LOG = "log"
    CHALLENGE = "challenge"
    SKIP = "skip"


@dataclass(frozen=True)
class RuleSpec:
    """One configured rule, before compilation."""

    id: str
    expression: str
    action: Action | str
    description: str = ""


@dataclass(frozen=True)
class CompiledRule:
    """A checked rule: its spec's fields, the parsed tree and the compiled predicate."""

    id: str
    action: Action
    expression: str
    description: str
    node: Expr = field(repr=False)
    predicate: Predicate = field(repr=False, compare=False)

    def matches(self, ctx: RuleContext) -> bool:
        return self.predicate(ctx)


_ALLOW = Decision("allow")
_TERMINAL: dict[Action, DecisionAction] = {
    Action.BLOCK: "block",
    Action.CHALLENGE: "challenge",
    Action.SKIP: "allow",
}


class RuleSet:
    """An ordered, compiled rule list (Cloudflare custom-rule semantics).

    Rules are tried in order; a matching ``log`` rule is recorded and evaluation goes on;
    the first matching ``block``, ``challenge`` or ``skip`` rule ends it (``skip`` allows
    the request). When no such rule matches, the request is allowed.
    """

    __slots__ = ("_plan", "rules")

    def __init__(self, rules: Sequence[CompiledRule]) -> None:
        self.rules: tuple[CompiledRule, ...] = tuple(rules)
        # (predicate, rule id, decision when nothing was logged or None for a log rule)
        self._plan: tuple[tuple[Predicate, str, Decision | None], ...] = tuple(
            (
                r.predicate,
                r.id,
                None if r.action is Action.LOG else Decision(_TERMINAL[r.action], r.id),
            )
            for r in self.rules
        )

    def __len__(self) -> int:
        return len(self.rules)

    def __repr__(self) -> str:
        return f"RuleSet({[r.id for r in self.rules]!r})"

    def evaluate(self, ctx: RuleContext) -> Decision:
        """The decision for one request."""
        logged: list[str] | None = None
        for predicate, rule_id, decision in self._plan:
            if predicate(ctx):
                if decision is None:
                    if logged is None:
                        logged = [rule_id]
                    else:
                        logged.append(rule_id)
                elif logged is None:
                    return decision
                else:
                    return Decision(decision.action, rule_id, tuple(logged))
        return _ALLOW if logged is None else Decision("allow", None, tuple(logged))


def compile_expression(expression: str) -> Predicate:
    """Parse, check and compile one expression; raises :class:`RuleError`."""
    return compile_node(parse_expression(expression))


def compile_rules(specs: Sequence[RuleSpec]) -> RuleSet:
    """Check and compile a rule list; the first problem raises :class:`RuleError`."""
    if len(specs) > MAX_RULES:
        raise RuleError(f"{len(specs)} rules, more than the limit of {MAX_RULES}")
    seen: dict[str, int] = {}
    compiled: list[CompiledRule] = []
    for index, spec in enumerate(specs, start=1):
        rule_id = spec.id if isinstance(spec.id, str) else None
        if rule_id is None or not RULE_ID.fullmatch(rule_id):
            raise RuleError(
                f"invalid rule id {spec.id!r}: use 1-128 letters, digits, '_', '.', ':' or '-', "
                "starting with a letter or digit",
                rule_id=rule_id,
                index=index,
            )
        if rule_id in seen:
            raise RuleError(
                f"duplicate rule id {rule_id!r} (also rule #{seen[rule_id]})",
                rule_id=rule_id,
                index=index,
            )
        seen[rule_id] = index
        action = _action(spec.action, rule_id, index)
        try:
            node = parse_expression(spec.expression)
        except RuleError as err:
            raise err.for_rule(rule_id, index) from None
        compiled.append(
            CompiledRule(
                rule_id, action, spec.expression, spec.description, node, compile_node(node)
            )
        )
    return RuleSet(compiled)


def _action(value: Action | str, rule_id: str, index: int) -> Action:
    if isinstance(value, Action):
        return value
    if isinstance(value, str):
        try:
            return Action(value)
        except ValueError:
            pass
    names = [a.value for a in Action]
    close = difflib.get_close_matches(str(value).lower(), names, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    raise RuleError(
        f"unknown action {value!r}{hint}; actions are {', '.join(names)}",
        rule_id=rule_id,
        index=index,
        expected="an action",
    )


DEFAULT_RULE_SPECS: tuple[RuleSpec, ...] = (
    RuleSpec(
        "log-likely-attacks",
        "waf.score < 40",
        Action.LOG,
        "Record requests the WAF model finds likely to be attacks.",
    ),
    RuleSpec(
        "block-attacks",
        "waf.score < 20",
        Action.BLOCK,
        "Block requests the WAF model scores as attacks.",
    ),
)
