"""Parsing, pruning and the normalized-AST hash on hand-written snippets (parsed, never run)."""

from __future__ import annotations

from bastion.scripts.normhash import normalized_hash
from bastion.scripts.tree import (
    CLOSE,
    IDENT,
    KIND_NAMES,
    NUMBER,
    PROP,
    REGEX,
    STRING,
    TEMPLATE,
    parse,
    unescape,
)


def h(src: str) -> str:
    return normalized_hash(parse(src.encode()))


def kinds(src: str) -> list[str]:
    return [KIND_NAMES[k] for k in parse(src.encode()).kinds]


def leaves(src: str) -> list[tuple[int, str]]:
    t = parse(src.encode())
    return list(zip(t.leaf_type, t.leaf_text, strict=True))


ORIGINAL = """
// Tabs helper
function activate(tabs, index) {
    var current = tabs[index];   /* the tab to show */
    for (var i = 0; i < tabs.length; i++) {
        tabs[i].classList.remove('active');
    }
    current.classList.add("active");
    document.title = 'Tab ' + (index + 1);
    return current;
}
var list = document.querySelectorAll(".tab");
activate(list, 0x0);
"""

# The same program reformatted: no comments, other whitespace and quotes, escapes,
# semicolons left to ASI, redundant parentheses, number spelled differently.
REFORMATTED = """function activate(tabs,index){var current=tabs[index]
for(var i=0;i<tabs.length;i++){tabs[i].classList.remove("act\\x69ve")}
current.classList.add('\\u0061ctive')
document.title="Tab "+((index+1))
return current}
var list=document.querySelectorAll('.tab')
activate(list,0)"""

# The same program with locals renamed the way a minifier's mangler does it.
MANGLED = """function activate(t,n){var e=t[n];for(var r=0;r<t.length;r++)
{t[r].classList.remove("active")}
e.classList.add("active");document.title="Tab "+(n+1);return e}
var list=document.querySelectorAll(".tab");activate(list,0);"""


def test_comments_whitespace_and_delimiters_are_pruned() -> None:
    ks = kinds("a(/* x */ b); // y\n")
    assert "comment" not in ks
    assert not any(k in ("'(", "')", "';", "'{", "'}") for k in ks)
    assert ks[:3] == ["program", "expression_statement", "call_expression"]


def test_close_markers_make_the_stream_a_tree() -> None:
    t = parse(b"f(g(x))")
    depth = 0
    for k in t.kinds:
        if k == CLOSE:
            depth -= 1
            assert depth >= 0
        elif KIND_NAMES[k] in ("program", "expression_statement", "call_expression", "arguments"):
            depth += 1
    assert depth == 0


def test_string_values_are_unquoted_and_unescaped() -> None:
    assert leaves("'a\\x62\\u0063\\u{64}\\n'") == [(STRING, "abcd\n")]
    assert leaves('"it\\"s"') == [(STRING, 'it"s')]
    assert leaves("`t${x}\\x41`") == [(TEMPLATE, "t"), (IDENT, "x"), (TEMPLATE, "A")]


def test_leaf_types() -> None:
    assert leaves("o.p = 1.5; /re+/g") == [
        (IDENT, "o"),
        (PROP, "p"),
        (NUMBER, "1.5"),
        (REGEX, "re+"),
    ]


def test_unescape_line_continuation_and_octal() -> None:
    assert unescape("a\\\nb") == "ab"
    assert unescape("\\101") == "A"
    assert unescape("no escapes") == "no escapes"


def test_hash_is_stable_across_formatting() -> None:
    assert h(ORIGINAL) == h(REFORMATTED)


def test_hash_is_stable_across_mangling_of_locals() -> None:
    assert h(ORIGINAL) == h(MANGLED)


def test_hash_sees_behaviour_changes() -> None:
    base = h(ORIGINAL)
    assert h(ORIGINAL.replace("'active'", "'hidden'")) != base  # a string value
    assert h(ORIGINAL.replace("document.title", "window.title")) != base  # a known global
    assert h(ORIGINAL.replace("classList.add", "classList.toggle")) != base  # a property
    assert h(ORIGINAL.replace("index + 1", "index - 1")) != base  # an operator
    assert h("f(a)(b)") != h("f(a(b))")  # the shape


def test_hash_of_html_wrapped_script_matches_bare_script() -> None:
    from bastion.scripts.source import prepare
    from bastion.scripts.tree import parse_many

    page = f"<!DOCTYPE html><html><body><script>{ORIGINAL}</script></body></html>".encode()
    assert normalized_hash(parse_many(prepare(page).chunks)) == h(ORIGINAL)


def test_error_tolerant_parse_still_yields_leaves() -> None:
    t = parse(b"var x = document.cookie; function ( { ] ;; var y = 'tail';")
    assert t.errors > 0
    texts = [text for _, text in zip(t.leaf_type, t.leaf_text, strict=True)]
    assert "cookie" in texts and "tail" in texts


def test_deep_nesting_is_iterative() -> None:
    depth = 50_000
    t = parse(b"x = " + b"[" * depth + b"1" + b"]" * depth + b";")
    assert t.kinds.count(KIND_NAMES.index("array")) == depth
