"""Parsing and type checking of rule expressions: trees, precedence and exact error positions."""

from __future__ import annotations

import pytest

from bastion.rules import RuleError, format_expression, parse_expression
from bastion.rules.syntax import (
    MAX_DEPTH,
    MAX_EXPRESSION_BYTES,
    MAX_REGEX_CHARS,
    And,
    Compare,
    Const,
    Field,
    InSet,
    Not,
    Or,
    Value,
)

SCORE_LT_50 = Compare("<", Field("waf.score"), Value(50))
ADMIN = Compare("startswith", Field("path"), Value("/admin"))


def test_the_documented_example_parses() -> None:
    tree = parse_expression('waf.score < 50 and path startswith "/admin"')
    assert tree == And((SCORE_LT_50, ADMIN))


def test_precedence_not_over_and_over_or() -> None:
    a, b, c = (Compare("==", Field("method"), Value(m)) for m in ("GET", "POST", "PUT"))
    text = 'not method == "GET" or method == "POST" and method == "PUT"'
    assert parse_expression(text) == Or((Not(a), And((b, c))))


def test_parentheses_group_and_do_not_flatten() -> None:
    tree = parse_expression("(waf.score < 50 or true) and (false)")
    assert tree == And((Or((SCORE_LT_50, Const(True))), Const(False)))
    assert parse_expression("true and (true and true)") == And(
        (Const(True), And((Const(True), Const(True))))
    )


def test_chains_are_flat_at_one_level() -> None:
    tree = parse_expression("waf.sqli < 1 or waf.xss < 2 or waf.rce < 3")
    assert isinstance(tree, Or) and len(tree.items) == 3


def test_sets_literals_and_escapes() -> None:
    assert parse_expression('method in {"GET", "HEAD"}') == InSet(Field("method"), ("GET", "HEAD"))
    assert parse_expression("waf.score not in {1, -2}") == InSet(Field("waf.score"), (1, -2), True)
    assert parse_expression(r'path == "a\"b\\c"') == Compare("==", Field("path"), Value('a"b\\c'))
    assert parse_expression("50 > waf.score") == Compare(">", Value(50), Field("waf.score"))
    assert parse_expression("path == host") == Compare("==", Field("path"), Field("host"))


def test_expressions_may_span_lines_and_use_every_operator() -> None:
    text = """waf.score <= 10
        or (waf.sqli >= 3 and waf.xss > 4 and waf.rce != 5 and waf.score == 6)
        or path endswith ".php" or host contains "internal"
        or path matches "^/(wp|xmlrpc)" or waf.class != "clean" or method != "GET" """
    tree = parse_expression(text)
    assert isinstance(tree, Or) and len(tree.items) == 7


@pytest.mark.parametrize(
    "text",
    [
        'waf.score < 50 and path startswith "/admin"',
        'not (method in {"GET", "HEAD"} or path == "/") and waf.class == "attack"',
        'path == "quote \\" and backslash \\\\" or not not true',
        "(waf.score < 1 or waf.xss < 2) and (waf.rce < 3 and waf.sqli not in {4, 5})",
    ],
)
def test_format_then_parse_gives_the_same_tree(text: str) -> None:
    tree = parse_expression(text)
    assert parse_expression(format_expression(tree)) == tree


# (expression, line, column, expected, message fragment)
ERRORS = [
    ("waf.score < and", 1, 13, "a number", "expected a number after '<', found 'and'"),
    ("waf.score <", 1, 12, "a number", "expected a number after '<', found end of expression"),
    ('waf.score < "5"', 1, 13, "a number", "found '\"5\"', a string literal"),
    ("path < 3", 1, 6, None, "'<' compares numbers, but path is a string"),
    ("path == 3", 1, 9, "a string", "expected a string after '==', found '3'"),
    ('waf.score startswith "a"', 1, 11, None, "'startswith' applies to strings"),
    ("waf.scroe < 5", 1, 1, "a field", "unknown field 'waf.scroe' (did you mean 'waf.score'?)"),
    ('true and\n  pth == "/"', 2, 3, "a field", "unknown field 'pth' (did you mean 'path'?)"),
    ('path startwith "/a"', 1, 6, "a comparison operator", "(did you mean 'startswith'?)"),
    ("waf.score", 1, 10, "a comparison operator", "after waf.score, found end of expression"),
    ('path not startswith "/"', 1, 10, "'in'", "to negate a comparison, write 'not' before it"),
    ("method in GET", 1, 11, "'{'", "expected '{' after 'in', found 'GET'"),
    ("method in {}", 1, 12, "a string", "expected a string after '{', found '}'"),
    ('method in {"GET" "HEAD"}', 1, 18, "',' or '}'", "found '\"HEAD\"'"),
    ('waf.score in {1, "a"}', 1, 18, "a number", "expected a number after ','"),
    ('waf.class == "atack"', 1, 14, "a score class", "(did you mean 'attack'?)"),
    ('waf.class in {"clean", "clen"}', 1, 24, "a score class", '"clen" is not a score class'),
    ('"atack" != waf.class', 1, 1, "a score class", "is not a score class"),
    ("(waf.score < 5", 1, 15, "'and', 'or' or ')'", "to close the '(' at line 1, column 1"),
    ("waf.score < 5)", 1, 14, None, "unmatched ')'"),
    ("waf.score < 5 waf.xss < 3", 1, 15, "'and', 'or' or end of expression", "found 'waf.xss'"),
    ("and", 1, 1, "a condition", "expected a condition, found 'and'"),
    ("true or", 1, 8, "a condition", "found end of expression"),
    ("waf.score = 5", 1, 11, None, "use '==' to compare"),
    ("true && false", 1, 6, None, "use 'and' instead of '&&'"),
    ("true || false", 1, 6, None, "use 'or' instead of '||'"),
    ("!true", 1, 1, None, "use 'not' instead of '!'"),
    ("path == 'x'", 1, 9, None, "strings are written in double quotes"),
    ('path == "abc', 1, 9, "'\"'", "unterminated string"),
    ('path == "a\nb"', 1, 9, "'\"'", "unterminated string"),
    (r'path matches "\d+"', 1, 15, None, "unknown escape '\\d' in string"),
    ('path matches "(a"', 1, 14, None, "invalid regular expression: missing )"),
    ("path matches host", 1, 14, "a string literal (a regular expression)", "found 'host'"),
    ("waf.score < 50x", 1, 13, None, "malformed number '50x'"),
    ("waf.score < 1234567890123456789", 1, 13, None, "number too large"),
    ("  waf.score\t<\n\n   § 1", 3, 4, None, "unexpected character '§'"),
]


@pytest.mark.parametrize(("text", "line", "column", "expected", "fragment"), ERRORS)
def test_errors_name_the_exact_position(
    text: str, line: int, column: int, expected: str | None, fragment: str
) -> None:
    with pytest.raises(RuleError) as info:
        parse_expression(text)
    err = info.value
    assert (err.line, err.column, err.expected) == (line, column, expected), str(err)
    assert fragment in str(err)
    assert str(err).startswith(f"line {line}, column {column}: ")
    assert err.rule_id is None and err.index is None


@pytest.mark.parametrize("text", ["", "   \n\t "])
def test_empty_expression(text: str) -> None:
    with pytest.raises(RuleError, match=r"^empty expression$"):
        parse_expression(text)


def test_expression_length_cap_counts_utf8_bytes() -> None:
    unit = 'path == "é" or '  # 16 bytes, 15 characters
    text = unit * (MAX_EXPRESSION_BYTES // 16) + "true"
    assert len(text) < MAX_EXPRESSION_BYTES < len(text.encode())
    with pytest.raises(RuleError, match=f"longer than the {MAX_EXPRESSION_BYTES}-byte limit"):
        parse_expression(text)
    parse_expression('path == "e" or ' * ((MAX_EXPRESSION_BYTES - 4) // 15) + "true")


def test_nesting_depth_cap() -> None:
    ok = "(" * MAX_DEPTH + "true" + ")" * MAX_DEPTH
    assert parse_expression(ok) == Const(True)
    with pytest.raises(RuleError, match="nested too deeply") as info:
        parse_expression("(" + ok + ")")
    assert info.value.column == MAX_DEPTH + 1
    with pytest.raises(RuleError, match="nested too deeply"):
        parse_expression("not " * (MAX_DEPTH + 1) + "true")
    with pytest.raises(RuleError, match="nested too deeply"):
        parse_expression("not (" * 17 + "true" + ")" * 17)


def test_regex_length_cap() -> None:
    parse_expression(f'path matches "{"a" * MAX_REGEX_CHARS}"')
    with pytest.raises(RuleError, match="longer than 1024 characters") as info:
        parse_expression(f'path matches "{"a" * (MAX_REGEX_CHARS + 1)}"')
    assert info.value.column == 14


def test_non_string_expression_is_a_rule_error() -> None:
    with pytest.raises(RuleError, match="must be a string"):
        parse_expression(None)  # type: ignore[arg-type]
