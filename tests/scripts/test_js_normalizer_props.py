"""Property tests: the pruned tree and its hash ignore formatting, quoting, escapes, renaming.

Random programs are built as small syntax trees and rendered twice: once plainly, once
with random whitespace and comments between tokens, redundant parentheses, other quote
characters, escaped string characters and hexadecimal numbers. Both renderings must
give the same hash; renaming locals must too; changing a string must not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bastion.scripts.normhash import normalized_hash
from bastion.scripts.tree import STRING, parse

LOCALS = ["a", "b", "cnt", "data", "el", "item"]
GLOBALS = ["document", "window", "navigator", "JSON"]
PROPS = ["value", "length", "push", "forms", "querySelector", "x"]
OPS = ["+", "-", "*", "===", "<", "&&"]

names = st.sampled_from(LOCALS)
strings = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=0x24F, exclude_characters="\\'\"`"),
    max_size=8,
)

expr = st.recursive(
    st.one_of(
        st.tuples(st.just("num"), st.integers(0, 5000)),
        st.tuples(st.just("str"), strings),
        st.tuples(st.just("id"), names),
        st.tuples(st.just("glob"), st.sampled_from(GLOBALS)),
    ),
    lambda sub: st.one_of(
        st.tuples(st.just("member"), sub, st.sampled_from(PROPS)),
        st.tuples(st.just("call"), sub, st.lists(sub, max_size=3)),
        st.tuples(st.just("bin"), st.sampled_from(OPS), sub, sub),
        st.tuples(st.just("arr"), st.lists(sub, max_size=3)),
    ),
    max_leaves=8,
)
stmt = st.one_of(
    st.tuples(st.just("var"), names, expr),
    st.tuples(st.just("expr"), expr),
    st.tuples(st.just("if"), expr, st.lists(st.tuples(st.just("expr"), expr), max_size=2)),
)
program = st.lists(stmt, min_size=1, max_size=5)


@dataclass
class Style:
    """How to render: ``fancy`` draws spacing, quotes, escapes and parentheses from ``draw``."""

    draw: Any = None
    rename: dict[str, str] | None = None

    def ws(self) -> str:
        if self.draw is None:
            return " "
        return self.draw(st.sampled_from([" ", "", "\n", "\t", "  ", " /* c */ ", " // c\n"]))

    def string(self, s: str) -> str:
        if self.draw is None:
            return '"' + s + '"'
        quote = self.draw(st.sampled_from(["'", '"']))
        out = []
        for ch in s:
            how = self.draw(st.integers(0, 3))
            if how == 0 and ord(ch) < 256:
                out.append(f"\\x{ord(ch):02x}")
            elif how == 1:
                out.append(f"\\u{ord(ch):04x}")
            else:
                out.append(ch)
        return quote + "".join(out) + quote

    def num(self, n: int) -> str:
        if self.draw is not None and self.draw(st.booleans()):
            return hex(n)
        return str(n)

    def name(self, n: str) -> str:
        return self.rename.get(n, n) if self.rename else n

    def paren(self, s: str) -> str:
        if self.draw is not None and self.draw(st.integers(0, 4)) == 0:
            return "(" + self.ws() + s + self.ws() + ")"
        return s


def render_expr(e: Any, s: Style) -> str:
    kind = e[0]
    if kind == "num":
        return s.num(e[1])
    if kind == "str":
        return s.string(e[1])
    if kind == "id":
        return s.name(e[1])
    if kind == "glob":
        return e[1]
    if kind == "member":
        return "(" + render_expr(e[1], s) + ")" + s.ws() + "." + s.ws() + e[2]
    if kind == "call":
        args = ("," + s.ws()).join(s.paren(render_expr(a, s)) for a in e[2])
        return "(" + render_expr(e[1], s) + ")" + s.ws() + "(" + args + ")"
    if kind == "bin":
        inner = render_expr(e[2], s) + s.ws() + e[1] + s.ws() + render_expr(e[3], s)
        return "(" + inner + ")"
    if kind == "arr":
        return "[" + ("," + s.ws()).join(s.paren(render_expr(a, s)) for a in e[1]) + "]"
    raise AssertionError(kind)


def render(prog: list[Any], s: Style) -> str:
    out = []
    for st_ in prog:
        if st_[0] == "var":
            out.append(f"var {s.name(st_[1])}{s.ws()}={s.ws()}{s.paren(render_expr(st_[2], s))};")
        elif st_[0] == "expr":
            out.append(f"void {s.paren(render_expr(st_[1], s))};")
        else:
            body = s.ws().join(f"void {render_expr(x[1], s)};" for x in st_[2])
            out.append(f"if{s.ws()}({render_expr(st_[1], s)}){s.ws()}{{{s.ws()}{body}{s.ws()}}}")
    return s.ws().join(out) if s.draw is not None else "\n".join(out)


def h(src: str) -> str:
    return normalized_hash(parse(src.encode()))


@settings(max_examples=60, deadline=None)
@given(prog=program, data=st.data())
def test_hash_ignores_formatting_quotes_escapes_and_parentheses(
    prog: list[Any], data: st.DataObject
) -> None:
    plain = render(prog, Style())
    fancy = render(prog, Style(draw=data.draw))
    assert h(plain) == h(fancy), (plain, fancy)


@settings(max_examples=40, deadline=None)
@given(prog=program, perm=st.permutations(LOCALS))
def test_hash_ignores_consistent_renaming_of_locals(prog: list[Any], perm: list[str]) -> None:
    renamed = render(prog, Style(rename={a: "v_" + b for a, b in zip(LOCALS, perm, strict=True)}))
    assert h(render(prog, Style())) == h(renamed)


@settings(max_examples=40, deadline=None)
@given(prog=program, data=st.data())
def test_string_values_survive_normalization(prog: list[Any], data: st.DataObject) -> None:
    plain = parse(render(prog, Style()).encode())
    fancy = parse(render(prog, Style(draw=data.draw)).encode())

    def strs(t: Any) -> list[str]:
        return [x for k, x in zip(t.leaf_type, t.leaf_text, strict=True) if k == STRING]

    assert strs(plain) == strs(fancy)


@settings(max_examples=30, deadline=None)
@given(prog=program, extra=strings)
def test_hash_changes_with_a_string_value(prog: list[Any], extra: str) -> None:
    base = render(prog, Style())
    assert h(base + f'\nvoid "{extra}";') != h(base + f'\nvoid "{extra}!";')
