"""The rule language's syntax tree, fields, operators and limits.

Nodes are plain frozen dataclasses compared structurally (no positions), so a parsed
tree can be compared with a generated or re-parsed one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal, TypeAlias

ValueType = Literal["number", "string"]

#: Field name in expressions -> (RuleContext attribute, value type).
FIELDS: dict[str, tuple[str, ValueType]] = {
    "waf.score": ("score", "number"),
    "waf.sqli": ("sqli", "number"),
    "waf.xss": ("xss", "number"),
    "waf.rce": ("rce", "number"),
    "waf.class": ("cls", "string"),
    "method": ("method", "string"),
    "host": ("host", "string"),
    "path": ("path", "string"),
}

#: The values ``waf.class`` can take; literals compared with it must be one of these.
SCORE_CLASSES: tuple[str, ...] = ("attack", "likely_attack", "likely_clean", "clean", "unscored")

NUMBER_OPS: tuple[str, ...] = ("<", "<=", ">", ">=", "==", "!=")
STRING_OPS: tuple[str, ...] = ("==", "!=", "startswith", "endswith", "contains", "matches")
#: Operators that compare two operands (``in`` / ``not in`` take a set instead).
COMPARE_OPS: tuple[str, ...] = (*NUMBER_OPS, "startswith", "endswith", "contains", "matches")
KEYWORDS: frozenset[str] = frozenset(
    {"and", "or", "not", "in", "true", "false", "startswith", "endswith", "contains", "matches"}
)

#: Longest expression, in UTF-8 bytes.
MAX_EXPRESSION_BYTES = 4096
#: Deepest nesting of parentheses and ``not``.
MAX_DEPTH = 32
#: Longest ``matches`` pattern, in characters.
MAX_REGEX_CHARS = 1024
#: Most digits in an integer literal.
MAX_INT_DIGITS = 18
#: Most elements in one ``in {...}`` set.
MAX_SET_SIZE = 256


@dataclass(frozen=True, slots=True)
class Field:
    """A request or score attribute, e.g. ``waf.score``."""

    name: str

    @property
    def type(self) -> ValueType:
        return FIELDS[self.name][1]


@dataclass(frozen=True, slots=True)
class Value:
    """An integer or string literal."""

    value: int | str

    @property
    def type(self) -> ValueType:
        return "string" if isinstance(self.value, str) else "number"


Operand: TypeAlias = Field | Value


@dataclass(frozen=True, slots=True)
class Compare:
    """``left op right`` with ``op`` one of :data:`COMPARE_OPS`; both sides of one type."""

    op: str
    left: Operand
    right: Operand


@dataclass(frozen=True, slots=True)
class InSet:
    """``operand in {v, ...}`` or, negated, ``operand not in {...}``."""

    operand: Operand
    values: tuple[int | str, ...]
    negated: bool = False


@dataclass(frozen=True, slots=True)
class Not:
    operand: Expr


@dataclass(frozen=True, slots=True)
class And:
    """Two or more conjuncts, as written at one level (parentheses nest, they do not flatten)."""

    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Or:
    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Const:
    """``true`` or ``false``."""

    value: bool


Expr: TypeAlias = Compare | InSet | Not | And | Or | Const


def fields_of(node: Expr) -> Iterator[Field]:
    """Every field an expression reads."""
    if isinstance(node, Compare):
        for side in (node.left, node.right):
            if isinstance(side, Field):
                yield side
    elif isinstance(node, InSet):
        if isinstance(node.operand, Field):
            yield node.operand
    elif isinstance(node, Not):
        yield from fields_of(node.operand)
    elif isinstance(node, And | Or):
        for item in node.items:
            yield from fields_of(item)
