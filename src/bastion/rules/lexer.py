"""Tokenizer for rule expressions: identifiers, keywords, integers, strings, punctuation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bastion.rules.errors import RuleError
from bastion.rules.syntax import MAX_INT_DIGITS

TokenKind = Literal["ident", "int", "string", "op", "punct", "end"]

_TWO_CHAR_OPS = ("<=", ">=", "==", "!=")
_ONE_CHAR_OPS = "<>"
_PUNCT = "(){},"
#: Common spellings from other languages, with what to write instead.
_HINTS = {
    "&&": "use 'and' instead of '&&'",
    "||": "use 'or' instead of '||'",
    "!": "use 'not' instead of '!'",
    "=": "use '==' to compare",
    "'": "strings are written in double quotes",
}
_ESCAPES = {'"': '"', "\\": "\\"}


@dataclass(frozen=True, slots=True)
class Token:
    """One token; ``text`` is as written, ``value`` the decoded int or string literal."""

    kind: TokenKind
    text: str
    line: int
    column: int
    value: int | str | None = None

    def describe(self) -> str:
        """How the token is named in error messages."""
        if self.kind == "end":
            return "end of expression"
        text = self.text if len(self.text) <= 24 else self.text[:21] + "..."
        return f"'{text}'"


def _is_digit(ch: str) -> bool:
    return len(ch) == 1 and "0" <= ch <= "9"


def _is_ident_start(ch: str) -> bool:
    return ch.isascii() and (ch.isalpha() or ch == "_")


def _is_ident_char(ch: str) -> bool:
    return ch.isascii() and (ch.isalnum() or ch in "_.")


def tokenize(text: str) -> list[Token]:
    """Split an expression into tokens, ending with an ``end`` token; raises RuleError."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    line, line_start = 1, 0
    while i < n:
        ch = text[i]
        col = i - line_start + 1
        if ch == "\n":
            i += 1
            line, line_start = line + 1, i
            continue
        if ch in " \t\r":
            i += 1
            continue
        if _is_ident_start(ch):
            j = i + 1
            while j < n and _is_ident_char(text[j]):
                j += 1
            tokens.append(Token("ident", text[i:j], line, col))
            i = j
            continue
        if _is_digit(ch) or (ch == "-" and _is_digit(text[i + 1 : i + 2])):
            j = i + 1
            while j < n and _is_digit(text[j]):
                j += 1
            word = text[i:j]
            if j < n and _is_ident_char(text[j]):
                raise RuleError(f"malformed number {text[i : j + 1]!r}", line=line, column=col)
            if len(word.lstrip("-")) > MAX_INT_DIGITS:
                raise RuleError(
                    f"number too large (more than {MAX_INT_DIGITS} digits)", line=line, column=col
                )
            tokens.append(Token("int", word, line, col, int(word)))
            i = j
            continue
        if ch == '"':
            i = _string(text, i, line, col, tokens)
            continue
        two = text[i : i + 2]
        if two in _TWO_CHAR_OPS:
            tokens.append(Token("op", two, line, col))
            i += 2
            continue
        if ch in _ONE_CHAR_OPS:
            tokens.append(Token("op", ch, line, col))
            i += 1
            continue
        if ch in _PUNCT:
            tokens.append(Token("punct", ch, line, col))
            i += 1
            continue
        hint = _HINTS.get(two) or _HINTS.get(ch)
        shown = two if two in _HINTS else ch
        reason = f"unexpected character {shown!r}"
        raise RuleError(f"{reason}: {hint}" if hint else reason, line=line, column=col)
    tokens.append(Token("end", "", line, n - line_start + 1))
    return tokens


def _string(text: str, start: int, line: int, col: int, out: list[Token]) -> int:
    """Read the string literal opening at ``start``; append it and return the index after it."""
    chars: list[str] = []
    i, n = start + 1, len(text)
    while i < n:
        ch = text[i]
        if ch == '"':
            out.append(Token("string", text[start : i + 1], line, col, "".join(chars)))
            return i + 1
        if ch == "\n":
            break
        if ch == "\\":
            nxt = text[i + 1 : i + 2]
            if nxt not in _ESCAPES:
                shown = "\\" + nxt if nxt and nxt != "\n" else "\\"
                raise RuleError(
                    f"unknown escape '{shown}' in string: only \\\" and \\\\ are escapes "
                    "(write \\\\ for a backslash, e.g. in a regular expression)",
                    line=line,
                    column=col + (i - start),
                )
            chars.append(_ESCAPES[nxt])
            i += 2
            continue
        chars.append(ch)
        i += 1
    raise RuleError("unterminated string", line=line, column=col, expected="'\"'")
