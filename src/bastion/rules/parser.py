"""Recursive-descent parser and type checker for rule expressions.

Grammar (lowest precedence first)::

    expr       := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*
    not_expr   := "not" not_expr | primary
    primary    := "(" expr ")" | "true" | "false" | condition
    condition  := operand (cmp_op operand | "in" set | "not" "in" set)
    operand    := field | integer | string
    set        := "{" literal ("," literal)* "}"

Both sides of a comparison have one type (number or string); the operator must apply
to it. Every problem is a :class:`RuleError` at the line and column of the token at fault.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

from bastion.rules.errors import RuleError
from bastion.rules.lexer import Token, tokenize
from bastion.rules.syntax import (
    FIELDS,
    KEYWORDS,
    MAX_DEPTH,
    MAX_EXPRESSION_BYTES,
    MAX_REGEX_CHARS,
    MAX_SET_SIZE,
    NUMBER_OPS,
    SCORE_CLASSES,
    STRING_OPS,
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
    ValueType,
)

_WORD_OPS = frozenset({"startswith", "endswith", "contains", "matches"})
_LITERAL_KINDS = {"int": ", a number literal", "string": ", a string literal"}
_ALL_OPS = (*NUMBER_OPS, *sorted(_WORD_OPS), "in", "not in")


def parse_expression(text: str) -> Expr:
    """Parse and type-check one expression; raises :class:`RuleError`."""
    if not isinstance(text, str):
        raise RuleError(f"expression must be a string, got {type(text).__name__}")
    if not text.strip():
        raise RuleError("empty expression", expected="a condition")
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_EXPRESSION_BYTES:
        raise RuleError(
            f"expression is {size} bytes, longer than the {MAX_EXPRESSION_BYTES}-byte limit"
        )
    return _Parser(tokenize(text)).parse()


def _did_you_mean(word: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _type_noun(t: ValueType) -> str:
    return "a number" if t == "number" else "a string"


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.depth = 0

    # -- token helpers -------------------------------------------------------------------
    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.pos + ahead, len(self.tokens) - 1)]

    def advance(self) -> Token:
        tok = self.tokens[self.pos]
        if tok.kind != "end":
            self.pos += 1
        return tok

    def is_word(self, tok: Token, word: str) -> bool:
        return tok.kind == "ident" and tok.text == word

    def fail(self, tok: Token, reason: str, expected: str | None = None) -> RuleError:
        return RuleError(reason, line=tok.line, column=tok.column, expected=expected)

    def expected(self, tok: Token, what: str, after: str = "", hint: str = "") -> RuleError:
        where = f" after {after}" if after else ""
        return self.fail(tok, f"expected {what}{where}, found {tok.describe()}{hint}", what)

    def enter(self, tok: Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(
                tok, f"expression nested too deeply (more than {MAX_DEPTH} levels of '(' and 'not')"
            )

    # -- grammar -------------------------------------------------------------------------
    def parse(self) -> Expr:
        expr = self.or_expr()
        tok = self.peek()
        if tok.kind != "end":
            if tok.kind == "punct" and tok.text == ")":
                raise self.fail(tok, "unmatched ')'")
            raise self.expected(tok, "'and', 'or' or end of expression")
        return expr

    def or_expr(self) -> Expr:
        items = [self.and_expr()]
        while self.is_word(self.peek(), "or"):
            self.advance()
            items.append(self.and_expr())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def and_expr(self) -> Expr:
        items = [self.not_expr()]
        while self.is_word(self.peek(), "and"):
            self.advance()
            items.append(self.not_expr())
        return items[0] if len(items) == 1 else And(tuple(items))

    def not_expr(self) -> Expr:
        tok = self.peek()
        if self.is_word(tok, "not"):
            self.advance()
            self.enter(tok)
            operand = self.not_expr()
            self.depth -= 1
            return Not(operand)
        return self.primary()

    def primary(self) -> Expr:
        tok = self.peek()
        if tok.kind == "punct" and tok.text == "(":
            self.advance()
            self.enter(tok)
            expr = self.or_expr()
            close = self.peek()
            if not (close.kind == "punct" and close.text == ")"):
                raise self.expected(
                    close,
                    "'and', 'or' or ')'",
                    hint=f" (to close the '(' at line {tok.line}, column {tok.column})",
                )
            self.advance()
            self.depth -= 1
            return expr
        if self.is_word(tok, "true") or self.is_word(tok, "false"):
            self.advance()
            return Const(tok.text == "true")
        return self.condition()

    def condition(self) -> Expr:
        first = self.peek()
        left = self.operand(first, None, "a condition", "")
        shown = first.text
        op_tok = self.peek()
        op = self.operator(op_tok, shown)
        if op in ("in", "not in"):
            return self.in_set(left, op == "not in")
        self.check_op_type(op_tok, op, left, shown)
        right: Operand
        if op == "matches":
            right = self.regex()
        else:
            right_tok = self.peek()
            right = self.operand(right_tok, left.type, _type_noun(left.type), f"'{op}'")
            self.check_class_literal(left, right, right_tok, op)
            self.check_class_literal(right, left, first, op)
        return Compare(op, left, right)

    def operator(self, tok: Token, after: str) -> str:
        if tok.kind == "op":
            self.advance()
            return tok.text
        if tok.kind == "ident":
            if tok.text in _WORD_OPS or tok.text == "in":
                self.advance()
                return tok.text
            if tok.text == "not":
                nxt = self.peek(1)
                if self.is_word(nxt, "in"):
                    self.advance()
                    self.advance()
                    return "not in"
                raise self.expected(
                    nxt,
                    "'in'",
                    after="'not'",
                    hint=" (to negate a comparison, write 'not' before it)",
                )
            hint = "" if tok.text in KEYWORDS else _did_you_mean(tok.text, _ALL_OPS)
            raise self.expected(tok, "a comparison operator", after=after, hint=hint)
        raise self.expected(tok, "a comparison operator", after=after)

    def operand(self, tok: Token, want: ValueType | None, what: str, after: str) -> Operand:
        """A field or literal; of type ``want`` unless None."""
        node: Operand
        if tok.kind == "int" or tok.kind == "string":
            assert tok.value is not None
            node = Value(tok.value)
        elif tok.kind == "ident" and tok.text not in KEYWORDS:
            if tok.text not in FIELDS:
                hint = _did_you_mean(tok.text, [*FIELDS, "true", "false", "not"])
                raise self.fail(tok, f"unknown field '{tok.text}'{hint}", "a field")
            node = Field(tok.text)
        else:
            raise self.expected(tok, what, after=after)
        if want is not None and node.type != want:
            kind = "field" if isinstance(node, Field) else "literal"
            raise self.expected(tok, what, after=after, hint=f", {_type_noun(node.type)} {kind}")
        self.advance()
        return node

    def check_op_type(self, tok: Token, op: str, left: Operand, shown: str) -> None:
        if left.type == "number" and op not in NUMBER_OPS:
            raise self.fail(
                tok,
                f"'{op}' applies to strings, but {shown} is a number "
                "(numbers take < <= > >= == != and in)",
            )
        if left.type == "string" and op not in STRING_OPS:
            raise self.fail(
                tok,
                f"'{op}' compares numbers, but {shown} is a string "
                "(strings take == != startswith endswith contains matches and in)",
            )

    def check_class_literal(self, side: Operand, other: Operand, other_tok: Token, op: str) -> None:
        """``waf.class == "atack"`` can never match: reject literals that are not a class."""
        if not (isinstance(side, Field) and side.name == "waf.class"):
            return
        if op in ("==", "!=") and isinstance(other, Value):
            self.check_class_value(other_tok, other.value)

    def check_class_value(self, tok: Token, value: int | str) -> None:
        if value not in SCORE_CLASSES:
            hint = _did_you_mean(str(value), SCORE_CLASSES)
            raise self.fail(
                tok,
                f"{tok.text} is not a score class{hint}; "
                f"waf.class is one of {', '.join(SCORE_CLASSES)}",
                "a score class",
            )

    def regex(self) -> Value:
        tok = self.peek()
        if tok.kind != "string":
            raise self.expected(tok, "a string literal (a regular expression)", after="'matches'")
        assert isinstance(tok.value, str)
        if len(tok.value) > MAX_REGEX_CHARS:
            raise self.fail(tok, f"regular expression longer than {MAX_REGEX_CHARS} characters")
        try:
            re.compile(tok.value)
        except re.error as exc:
            raise self.fail(tok, f"invalid regular expression: {exc}") from None
        except (RecursionError, OverflowError, ValueError) as exc:
            raise self.fail(tok, f"invalid regular expression: {exc}") from None
        self.advance()
        return Value(tok.value)

    def in_set(self, operand: Operand, negated: bool) -> InSet:
        op = "not in" if negated else "in"
        open_tok = self.peek()
        if not (open_tok.kind == "punct" and open_tok.text == "{"):
            raise self.expected(open_tok, "'{'", after=f"'{op}'")
        self.advance()
        values: list[int | str] = []
        what = _type_noun(operand.type)
        class_field = isinstance(operand, Field) and operand.name == "waf.class"
        while True:
            tok = self.peek()
            want = "int" if operand.type == "number" else "string"
            if tok.kind != want:
                kind = _LITERAL_KINDS.get(tok.kind, "")
                raise self.expected(tok, what, after="'{'" if not values else "','", hint=kind)
            assert tok.value is not None
            if class_field:
                self.check_class_value(tok, tok.value)
            values.append(tok.value)
            if len(values) > MAX_SET_SIZE:
                raise self.fail(tok, f"set has more than {MAX_SET_SIZE} elements")
            self.advance()
            sep = self.peek()
            if sep.kind == "punct" and sep.text == ",":
                self.advance()
                continue
            if sep.kind == "punct" and sep.text == "}":
                self.advance()
                return InSet(operand, tuple(values), negated)
            raise self.expected(sep, "',' or '}'", after="a set element")
