"""Rules over WAF scores and request attributes, evaluated first match wins.

>>> from bastion.rules import RuleContext, RuleSpec, compile_rules
>>> rules = compile_rules([RuleSpec("admin", 'waf.score < 50 and path startswith "/admin"',
...                                 "block")])
>>> ctx = RuleContext(30, 30, 99, 99, "likely_attack", "GET", "example.com", "/admin/users")
>>> rules.evaluate(ctx)
Decision(action='block', rule_id='admin', logged=())

The language: fields ``waf.score``, ``waf.sqli``, ``waf.xss``, ``waf.rce`` (numbers),
``waf.class``, ``method``, ``host``, ``path`` (strings); integer and double-quoted string
literals; ``< <= > >= == !=`` on numbers, ``== != startswith endswith contains matches``
on strings, ``in {...}`` / ``not in {...}``; ``not``, ``and``, ``or``, parentheses,
``true``, ``false``.
"""

from bastion.rules.compiler import Predicate
from bastion.rules.context import Decision, DecisionAction, RuleContext
from bastion.rules.errors import RuleError
from bastion.rules.parser import parse_expression
from bastion.rules.printer import format_expression
from bastion.rules.ruleset import (
    DEFAULT_RULE_SPECS,
    Action,
    CompiledRule,
    RuleSet,
    RuleSpec,
    compile_expression,
    compile_rules,
)

__all__ = [
    "DEFAULT_RULE_SPECS",
    "Action",
    "CompiledRule",
    "Decision",
    "DecisionAction",
    "Predicate",
    "RuleContext",
    "RuleError",
    "RuleSet",
    "RuleSpec",
    "compile_expression",
    "compile_rules",
    "format_expression",
    "parse_expression",
]
