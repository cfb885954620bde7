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
from bastion.rules.syntax import Expr, fields_of

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
    #: Leave one parameter out of scoring for the requests the expression matches (a
    #: narrowly scoped false-positive exception); decides nothing by itself.
    EXCLUDE = "exclude"


#: Longest parameter name an ``exclude`` rule names.
MAX_PARAM_CHARS = 256
#: Fields an ``exclude`` rule may read: it runs before scoring, so no ``waf.*`` field.
PRE_SCORE_FIELDS = frozenset({"method", "host", "path"})


@dataclass(frozen=True)
class RuleSpec:
    """One configured rule, before compilation."""

    id: str
    expression: str
    action: Action | str
    description: str = ""
    #: For ``exclude`` rules only: the parameter left out of scoring (``q`` for a query,
    #: form or top-level JSON parameter, ``cookie:NAME`` for a cookie).
    param: str = ""


@dataclass(frozen=True)
class CompiledRule:
    """A checked rule: its spec's fields, the parsed tree and the compiled predicate."""

    id: str
    action: Action
    expression: str
    description: str
    node: Expr = field(repr=False)
    predicate: Predicate = field(repr=False, compare=False)
    param: str = ""

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

    __slots__ = ("_exclusions", "_plan", "rules")

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
            if r.action is not Action.EXCLUDE
        )
        self._exclusions: tuple[tuple[Predicate, str], ...] = tuple(
            (r.predicate, r.param) for r in self.rules if r.action is Action.EXCLUDE
        )

    @property
    def has_exclusions(self) -> bool:
        """Whether any ``exclude`` rule is in the set."""
        return bool(self._exclusions)

    def excluded_params(self, method: str, host: str, path: str) -> tuple[str, ...]:
        """The parameters ``exclude`` rules leave out of scoring for this request."""
        if not self._exclusions:
            return ()
        ctx = RuleContext.before_scoring(method=method, host=host, path=path)
        return tuple(dict.fromkeys(param for pred, param in self._exclusions if pred(ctx)))

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
        param = _param(spec, action, node, rule_id, index)
        compiled.append(
            CompiledRule(
                rule_id,
                action,
                spec.expression,
                spec.description,
                node,
                compile_node(node),
                param,
            )
        )
    return RuleSet(compiled)


def _param(spec: RuleSpec, action: Action, node: Expr, rule_id: str, index: int) -> str:
    """The checked parameter of an ``exclude`` rule (``""`` for other actions)."""
    param = spec.param if isinstance(spec.param, str) else ""
    if action is not Action.EXCLUDE:
        if param:
            raise RuleError("only 'exclude' rules take a 'param'", rule_id=rule_id, index=index)
        return ""
    name = param.removeprefix("cookie:")
    if not name or len(param) > MAX_PARAM_CHARS or not name.isprintable():
        raise RuleError(
            f"an 'exclude' rule needs a 'param' of 1-{MAX_PARAM_CHARS} printable characters "
            "(a parameter name, or cookie:NAME)",
            rule_id=rule_id,
            index=index,
            expected="a parameter name",
        )
    used = sorted({f.name for f in fields_of(node)} - PRE_SCORE_FIELDS)
    if used:
        raise RuleError(
            f"an 'exclude' rule runs before scoring and cannot read {', '.join(used)}; "
            "it may test method, host and path",
            rule_id=rule_id,
            index=index,
        )
    return param


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
