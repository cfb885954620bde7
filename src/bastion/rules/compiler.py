"""Compile a checked expression tree into a Python closure over :class:`RuleContext`.

Each node becomes one small closure built from fixed code (no eval of rule text):
field-against-literal comparisons read the attribute and compare in one step, constant
sub-expressions are folded, and ``matches`` patterns are compiled here, once.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from typing import Any

from bastion.rules.context import RuleContext
from bastion.rules.syntax import FIELDS, And, Compare, Const, Expr, Field, InSet, Not, Value

Predicate = Callable[[RuleContext], bool]
_Getter = Callable[[RuleContext], Any]


def _true(ctx: RuleContext) -> bool:
    return True


def _false(ctx: RuleContext) -> bool:
    return False


def _contains(a: str, b: str) -> bool:
    return b in a


_BINARY: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
    "startswith": str.startswith,
    "endswith": str.endswith,
    "contains": _contains,
}
#: ``literal op field`` rewritten as ``field op' literal``.
_MIRROR = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}


def _field_vs_value(op: str, get: _Getter, v: Any) -> Predicate:
    if op == "<":
        return lambda c: get(c) < v
    if op == "<=":
        return lambda c: get(c) <= v
    if op == ">":
        return lambda c: get(c) > v
    if op == ">=":
        return lambda c: get(c) >= v
    if op == "==":
        return lambda c: get(c) == v
    if op == "!=":
        return lambda c: get(c) != v
    if op == "startswith":
        return lambda c: get(c).startswith(v)
    if op == "endswith":
        return lambda c: get(c).endswith(v)
    if op == "contains":
        return lambda c: v in get(c)
    raise AssertionError(op)


def compile_node(node: Expr) -> Predicate:
    """The predicate of a parsed and type-checked expression."""
    if isinstance(node, Const):
        return _true if node.value else _false
    if isinstance(node, Compare):
        return _compare(node)
    if isinstance(node, InSet):
        return _in_set(node)
    if isinstance(node, Not):
        inner = compile_node(node.operand)
        if inner is _true or inner is _false:
            return _false if inner is _true else _true
        return lambda c: not inner(c)
    if isinstance(node, And):
        return _all([compile_node(item) for item in node.items])
    return _any([compile_node(item) for item in node.items])


def _getter(field: Field) -> _Getter:
    return operator.attrgetter(FIELDS[field.name][0])


def _const(value: bool) -> Predicate:
    return _true if value else _false


def _compare(node: Compare) -> Predicate:
    op, left, right = node.op, node.left, node.right
    if op == "matches":
        assert isinstance(right, Value) and isinstance(right.value, str)
        rx = re.compile(right.value)
        if isinstance(left, Value):
            return _const(rx.search(str(left.value)) is not None)
        get = _getter(left)
        return lambda c: rx.search(get(c)) is not None
    fn = _BINARY[op]
    if isinstance(left, Value) and isinstance(right, Value):
        return _const(fn(left.value, right.value))
    if isinstance(left, Field) and isinstance(right, Value):
        return _field_vs_value(op, _getter(left), right.value)
    if isinstance(left, Value) and isinstance(right, Field) and op in _MIRROR:
        return _field_vs_value(_MIRROR[op], _getter(right), left.value)
    lget = _getter(left) if isinstance(left, Field) else _constant_getter(left.value)
    rget = _getter(right) if isinstance(right, Field) else _constant_getter(right.value)
    return lambda c: fn(lget(c), rget(c))


def _constant_getter(value: Any) -> _Getter:
    return lambda c: value


def _in_set(node: InSet) -> Predicate:
    values = frozenset(node.values)
    operand = node.operand
    if isinstance(operand, Value):
        return _const((operand.value in values) != node.negated)
    get = _getter(operand)
    if node.negated:
        return lambda c: get(c) not in values
    return lambda c: get(c) in values


def _all(preds: list[Predicate]) -> Predicate:
    if any(p is _false for p in preds):
        return _false
    preds = [p for p in preds if p is not _true]
    if not preds:
        return _true
    if len(preds) == 1:
        return preds[0]
    if len(preds) == 2:
        a, b = preds
        return lambda c: a(c) and b(c)
    if len(preds) == 3:
        a, b, d = preds
        return lambda c: a(c) and b(c) and d(c)
    items = tuple(preds)

    def all_of(c: RuleContext) -> bool:
        for p in items:  # noqa: SIM110 (a plain loop is faster than all() over a generator)
            if not p(c):
                return False
        return True

    return all_of


def _any(preds: list[Predicate]) -> Predicate:
    if any(p is _true for p in preds):
        return _true
    preds = [p for p in preds if p is not _false]
    if not preds:
        return _false
    if len(preds) == 1:
        return preds[0]
    if len(preds) == 2:
        a, b = preds
        return lambda c: a(c) or b(c)
    if len(preds) == 3:
        a, b, d = preds
        return lambda c: a(c) or b(c) or d(c)
    items = tuple(preds)

    def any_of(c: RuleContext) -> bool:
        for p in items:  # noqa: SIM110 (a plain loop is faster than any() over a generator)
            if p(c):
                return True
        return False

    return any_of
