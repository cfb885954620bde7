"""Property tests: arbitrary input fails only with RuleError; compiled closures agree with a
plain reference interpreter; printing and re-parsing gives the same tree."""

from __future__ import annotations

import contextlib
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bastion.rules import RuleContext, RuleError, compile_expression, format_expression
from bastion.rules.compiler import compile_node
from bastion.rules.parser import parse_expression
from bastion.rules.syntax import (
    COMPARE_OPS,
    MAX_DEPTH,
    SCORE_CLASSES,
    And,
    Compare,
    Const,
    Expr,
    Field,
    InSet,
    Not,
    Operand,
    Or,
    Value,
)

# -- (a) token soup ------------------------------------------------------------------------

VOCABULARY = [
    *("waf.score", "waf.sqli", "waf.xss", "waf.rce", "waf.class", "method", "host", "path"),
    *("and", "or", "not", "in", "true", "false", "startswith", "endswith", "contains", "matches"),
    *("<", "<=", ">", ">=", "==", "!=", "(", ")", "{", "}", ",", "=", "!", "&&", "'", "\\"),
    *('"GET"', '"/admin"', '"attack"', '"(a"', '"a\\"b"', '"\\d"', '"', "0", "-1", "50", "99x"),
    *("waf.scroe", "pth", "\n", "\t", "é", "\x00", "--", "_x", "1" * 30),
]


@settings(max_examples=400, deadline=500, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.one_of(st.sampled_from(VOCABULARY), st.text(max_size=3)), min_size=0, max_size=30),
    st.sampled_from([" ", "", "\n"]),
)
def test_token_soup_raises_only_rule_error(tokens: list[str], sep: str) -> None:
    text = sep.join(tokens)
    try:
        predicate = compile_expression(text)
    except RuleError as err:
        if err.line is not None:
            assert err.column is not None
            lines = text.split("\n")
            assert 1 <= err.line <= len(lines)
            assert 1 <= err.column <= len(lines[err.line - 1]) + 1
        return
    assert predicate(RuleContext(1, 2, 3, 4, "attack", "GET", "h", "/")) in (True, False)


@settings(max_examples=200, deadline=500)
@given(st.text(max_size=200))
def test_arbitrary_text_raises_only_rule_error(text: str) -> None:
    with contextlib.suppress(RuleError):
        compile_expression(text)


def test_deep_and_long_inputs_fail_fast_with_rule_error() -> None:
    for text in ["(" * 5000, "not " * 1000 + "true", "true and " * 2000 + "true", '"' * 4000]:
        try:
            compile_expression(text)
        except RuleError:
            continue
    # The longest allowed flat chain still compiles and runs (no recursion per item).
    chain = " or ".join(["waf.score == 1"] * 200)
    assert compile_expression(chain)(RuleContext(1, 1, 1, 1, "attack", "GET", "h", "/"))


# -- generated valid trees -----------------------------------------------------------------

NUMBER_FIELDS = ["waf.score", "waf.sqli", "waf.xss", "waf.rce"]
STRING_FIELDS = ["method", "host", "path"]
REGEXES = ["^/a", "a$", "(?i)get", "[0-9]", "^$", "d|e", "\\\\", '"']
#: Boundary values are drawn often so that ``<`` and ``<=`` (etc.) disagree often.
BOUNDARIES = [0, 1, 20, 21, 50, 99, 100]

#: A few strings with shared prefixes and suffixes, and the characters that need escapes.
STRINGS = ["", "/", "a", "/a", "a/", "é", '"', "\\", 'a"', "/\\é"]
strings = st.sampled_from(STRINGS)
numbers = st.sampled_from(BOUNDARIES) | st.integers(-5, 105)
scores = st.sampled_from(BOUNDARIES[1:]) | st.integers(1, 100)
SHAPES = ["field-value", "value-field", "field-field", "value-value"]


@st.composite
def comparisons(draw: st.DrawFn) -> Compare:
    """Any operator, with operands of its type in any arrangement of fields and literals."""
    op = draw(st.sampled_from(COMPARE_OPS))
    if op == "matches":
        left = draw(st.sampled_from(["waf.class", *STRING_FIELDS]).map(Field) | strings.map(Value))
        return Compare(op, left, Value(draw(st.sampled_from(REGEXES))))
    kind = "number" if op in ("<", "<=", ">", ">=") else "string"
    if op in ("==", "!="):
        kind = draw(st.sampled_from(["number", "string", "class"]))
    values: st.SearchStrategy[int | str]
    if kind == "number":
        fields, values = st.sampled_from(NUMBER_FIELDS), numbers
    elif kind == "string":
        fields, values = st.sampled_from(STRING_FIELDS), strings
    else:  # literals compared with waf.class must be score classes
        fields, values = st.just("waf.class"), st.sampled_from(SCORE_CLASSES)
    shape = draw(st.sampled_from(SHAPES))
    left = Field(draw(fields)) if shape.startswith("field") else Value(draw(values))
    right = Field(draw(fields)) if shape.endswith("field") else Value(draw(values))
    return Compare(op, left, right)


@st.composite
def set_tests(draw: st.DrawFn) -> InSet:
    kind = draw(st.sampled_from(["number", "string", "class"]))
    if kind == "number":
        operand: Operand = draw(st.sampled_from(NUMBER_FIELDS).map(Field) | numbers.map(Value))
        values: tuple[int | str, ...] = tuple(draw(st.lists(numbers, min_size=1, max_size=4)))
    elif kind == "string":
        operand = draw(st.sampled_from(STRING_FIELDS).map(Field) | strings.map(Value))
        values = tuple(draw(st.lists(strings, min_size=1, max_size=4)))
    else:
        operand = Field("waf.class")
        values = tuple(draw(st.lists(st.sampled_from(SCORE_CLASSES), min_size=1, max_size=3)))
    return InSet(operand, values, draw(st.booleans()))


leaves = st.one_of(comparisons(), comparisons(), set_tests(), st.booleans().map(Const))


def _extend(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    items = st.lists(children, min_size=2, max_size=4).map(tuple)
    return st.one_of(children.map(Not), items.map(And), items.map(Or))


def nesting(node: Expr, parens: bool = False) -> int:
    """Levels of '(' and 'not' in the printed form of ``node``."""
    own = 1 if parens else 0
    if isinstance(node, Not):
        return own + 1 + nesting(node.operand, isinstance(node.operand, And | Or))
    if isinstance(node, And):
        return own + max(nesting(i, isinstance(i, And | Or)) for i in node.items)
    if isinstance(node, Or):
        return own + max(nesting(i, isinstance(i, Or)) for i in node.items)
    return own


trees = st.recursive(leaves, _extend, max_leaves=24).filter(lambda t: nesting(t) <= MAX_DEPTH)


def literals_of(node: Expr) -> tuple[set[int], set[str]]:
    """The integer and string literals in a tree."""
    ints: set[int] = set()
    strs: set[str] = set()
    if isinstance(node, Not):
        return literals_of(node.operand)
    if isinstance(node, And | Or):
        for item in node.items:
            i, t = literals_of(item)
            ints |= i
            strs |= t
        return ints, strs
    values: list[int | str] = []
    if isinstance(node, Compare):
        values = [op.value for op in (node.left, node.right) if isinstance(op, Value)]
    elif isinstance(node, InSet):
        values = [*node.values]
        if isinstance(node.operand, Value):
            values.append(node.operand.value)
    for v in values:
        if isinstance(v, str):
            strs.add(v)
        else:
            ints.add(v)
    return ints, strs


@st.composite
def contexts_for(draw: st.DrawFn, node: Expr) -> RuleContext:
    """A context whose values are built from the tree's literals (and their neighbours), so
    that comparisons are decided both ways and by a hair (equal values, shared prefixes)."""
    ints, strs = literals_of(node)
    near = sorted({v + d for v in ints for d in (-1, 0, 1) if 1 <= v + d <= 100})
    score = st.sampled_from(near or BOUNDARIES[1:]) | scores
    pool = st.sampled_from(sorted({*STRINGS, *strs}))
    text = st.tuples(pool, pool).map("".join)
    return RuleContext(
        draw(score),
        draw(score),
        draw(score),
        draw(score),
        draw(st.sampled_from(SCORE_CLASSES)),
        draw(text),
        draw(text),
        draw(text),
    )


def reference(node: Expr, ctx: RuleContext) -> bool:
    """The meaning of an expression, spelled out without any compilation."""
    if isinstance(node, Const):
        return node.value
    if isinstance(node, Not):
        return not reference(node.operand, ctx)
    if isinstance(node, And):
        return all(reference(item, ctx) for item in node.items)
    if isinstance(node, Or):
        return any(reference(item, ctx) for item in node.items)
    if isinstance(node, InSet):
        return (value_of(node.operand, ctx) in node.values) != node.negated
    a, b = value_of(node.left, ctx), value_of(node.right, ctx)
    if node.op == "<":
        return a < b  # type: ignore[operator]
    if node.op == "<=":
        return a <= b  # type: ignore[operator]
    if node.op == ">":
        return a > b  # type: ignore[operator]
    if node.op == ">=":
        return a >= b  # type: ignore[operator]
    if node.op == "==":
        return a == b
    if node.op == "!=":
        return a != b
    if node.op == "startswith":
        return str(a).startswith(str(b))
    if node.op == "endswith":
        return str(a).endswith(str(b))
    if node.op == "contains":
        return str(b) in str(a)
    assert node.op == "matches"
    return re.search(str(b), str(a)) is not None


def value_of(node: Operand, ctx: RuleContext) -> int | str:
    if isinstance(node, Value):
        return node.value
    fields: dict[str, int | str] = {
        "waf.score": ctx.score,
        "waf.sqli": ctx.sqli,
        "waf.xss": ctx.xss,
        "waf.rce": ctx.rce,
        "waf.class": ctx.cls,
        "method": ctx.method,
        "host": ctx.host,
        "path": ctx.path,
    }
    return fields[node.name]


PROPERTY_SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@given(trees, st.data())
def test_compiled_closure_agrees_with_reference(tree: Expr, data: st.DataObject) -> None:
    ctxs = data.draw(st.lists(contexts_for(tree), min_size=1, max_size=5))
    # Every sub-expression is checked on its own, so a wrong leaf cannot hide behind an
    # ``or`` that happens to be true anyway.
    for node in subexpressions(tree):
        text = format_expression(node)
        predicate = compile_expression(text)
        direct = compile_node(node)
        for ctx in ctxs:
            expected = reference(node, ctx)
            assert predicate(ctx) is expected, (text, ctx)
            assert direct(ctx) is expected, (text, ctx)


@settings(max_examples=600, deadline=None)
@given(leaves, st.data())
def test_each_kind_of_condition_agrees_with_reference(leaf: Expr, data: st.DataObject) -> None:
    ctxs = data.draw(st.lists(contexts_for(leaf), min_size=1, max_size=8))
    predicate = compile_expression(format_expression(leaf))
    for ctx in ctxs:
        assert predicate(ctx) is reference(leaf, ctx), (leaf, ctx)


@PROPERTY_SETTINGS
@given(
    st.sampled_from([And, Or]),
    st.lists(leaves, min_size=2, max_size=6),
    st.data(),
)
def test_flat_and_or_of_any_length_agree_with_reference(
    kind: type[And] | type[Or], items: list[Expr], data: st.DataObject
) -> None:
    node = kind(tuple(items))
    ctxs = data.draw(st.lists(contexts_for(node), min_size=1, max_size=8))
    predicate = compile_node(node)
    for ctx in ctxs:
        assert predicate(ctx) is reference(node, ctx), (node, ctx)


def subexpressions(node: Expr) -> list[Expr]:
    if isinstance(node, Not):
        return [node, *subexpressions(node.operand)]
    if isinstance(node, And | Or):
        return [node, *(sub for item in node.items for sub in subexpressions(item))]
    return [node]


@PROPERTY_SETTINGS
@given(trees)
def test_print_then_parse_round_trips(tree: Expr) -> None:
    text = format_expression(tree)
    assert parse_expression(text) == tree
    assert format_expression(parse_expression(text)) == text
