"""Parse JavaScript with tree-sitter and flatten it into a pruned syntax tree.

The pruned tree drops comments, whitespace (tree-sitter never materializes it),
punctuation that only delimits (``( ) { } [ ] ; , . :`` and quotes) and redundant
parentheses. It is kept as two flat streams, which is what the hash and the features
need and what one pass over the tree-sitter cursor can produce cheaply:

* ``kinds``: canonical node-kind ids in pre-order, with ``CLOSE`` after the last child
  of every node that has children, so the stream determines the tree's shape;
* leaves: for identifiers, property names, strings, template-string text, numbers and
  regular expressions, the position in ``kinds``, a leaf type and the text. String
  values are unquoted and unescaped (``'a'``, ``"a"`` and ``"\\x61"`` are all ``a``).

One Python loop visits every node once; nothing recurses, so nesting depth is bounded
only by memory.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field

import tree_sitter
import tree_sitter_javascript

LANGUAGE = tree_sitter.Language(tree_sitter_javascript.language())

# Leaf types.
IDENT = 1
PROP = 2
STRING = 3
TEMPLATE = 4
NUMBER = 5
REGEX = 6

# Walk actions per raw kind id. Anonymous nodes (tokens) never have children, so the
# walk does not even try to descend into them.
_PUNCT = 0  # delimiter token: dropped
_TOKEN = 1  # operator or keyword token: kept
_INNER = 2  # named node: kept, children visited
_DROP_INNER = 3  # named node dropped, children kept (parentheses)
_SKIP = 4  # comments: dropped with their subtree
_STRING = 5
_LEAF = 6
_ERROR_NODE = 7

#: Reserved canonical ids.
CLOSE = 0
ERROR = 1
OTHER = 2

_SKIP_KINDS = {"comment", "html_comment", "hash_bang_line", "jsx_text"}
_DROP_ANON = {"(", ")", "{", "}", "[", "]", ";", ",", ".", ":", '"', "'", "`", "${"}
_DROP_NAMED = {"parenthesized_expression"}
_LEAF_KINDS = {
    "identifier": IDENT,
    "shorthand_property_identifier": IDENT,
    "shorthand_property_identifier_pattern": IDENT,
    "statement_identifier": IDENT,
    "property_identifier": PROP,
    "private_property_identifier": PROP,
    "string_fragment": TEMPLATE,
    "escape_sequence": TEMPLATE,
    "number": NUMBER,
    "regex_pattern": REGEX,
}


def _kind_key(kind_id: int) -> str:
    name = LANGUAGE.node_kind_for_id(kind_id) or "?"
    return name if LANGUAGE.node_kind_is_named(kind_id) else "'" + name


def _build_tables() -> tuple[tuple[str, ...], list[int], list[int], list[int]]:
    visible = [
        k for k in range(LANGUAGE.node_kind_count) if LANGUAGE.node_kind_is_visible(k) and k != 0
    ]
    keys = sorted({_kind_key(k) for k in visible})
    names = ("<close>", "<error>", "<other>", *keys)
    index = {n: i for i, n in enumerate(names)}
    canon = [OTHER] * 65536
    action = [_INNER] * 65536
    leaf_type = [0] * 65536
    canon[65535] = ERROR  # tree-sitter's ERROR symbol
    action[65535] = _ERROR_NODE
    for k in visible:
        key = _kind_key(k)
        canon[k] = index[key]
        named = not key.startswith("'")
        name = key if named else key[1:]
        if named and name in _SKIP_KINDS:
            action[k] = _SKIP
        elif not named:
            action[k] = _PUNCT if name in _DROP_ANON else _TOKEN
        elif name in _DROP_NAMED:
            action[k] = _DROP_INNER
        elif name == "string":
            action[k] = _STRING
        elif name in _LEAF_KINDS:
            action[k] = _LEAF
            leaf_type[k] = _LEAF_KINDS[name]
    for k in range(LANGUAGE.node_kind_count):
        if not LANGUAGE.node_kind_is_visible(k) and k != 0:
            action[k] = _DROP_INNER
    return names, canon, action, leaf_type


#: Canonical kind names, indexed by canonical id (the featurizer's contract).
KIND_NAMES, _CANON, _ACTION, _LEAF_TYPE = _build_tables()
STRING_KIND = KIND_NAMES.index("string")
NUMBER_KIND = KIND_NAMES.index("number")
IDENT_KIND = KIND_NAMES.index("identifier")

_ESCAPE = re.compile(
    r"\\(?:x([0-9a-fA-F]{2})|u\{([0-9a-fA-F]{1,6})\}|u([0-9a-fA-F]{4})|([0-7]{1,3})|(\r\n|[\s\S]))"
)
_SIMPLE_ESCAPES = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "b": "\b",
    "f": "\f",
    "v": "\v",
    "\n": "",
    "\r": "",
    "\r\n": "",
    "\u2028": "",
    "\u2029": "",
}


def _escape_repl(m: re.Match[str]) -> str:
    hx, brace, u4, octal, other = m.groups()
    if hx is not None:
        return chr(int(hx, 16))
    if brace is not None:
        cp = int(brace, 16)
        return chr(cp) if cp <= 0x10FFFF else "\ufffd"
    if u4 is not None:
        return chr(int(u4, 16))
    if octal is not None:
        return chr(int(octal, 8) & 0xFF)
    return _SIMPLE_ESCAPES.get(other, other)


def unescape(body: str) -> str:
    """The value of a JavaScript string literal's body (between the quotes)."""
    if "\\" not in body:
        return body
    return _ESCAPE.sub(_escape_repl, body)


@dataclass(slots=True)
class ScriptTree:
    """The pruned syntax tree of a script as flat streams (see the module docstring)."""

    kinds: list[int] = field(default_factory=list)
    leaf_pos: list[int] = field(default_factory=list)
    leaf_type: list[int] = field(default_factory=list)
    leaf_text: list[str] = field(default_factory=list)
    nodes: int = 0  # tree-sitter nodes visited
    errors: int = 0  # ERROR nodes

    def extend(self, other: ScriptTree, at: int | None = None) -> None:
        """Append ``other``; its leaves keep positions shifted, or all get ``at`` when given."""
        base = len(self.kinds)
        self.kinds.extend(other.kinds)
        if at is None:
            self.leaf_pos.extend(p + base for p in other.leaf_pos)
        else:
            self.leaf_pos.extend([at] * len(other.leaf_pos))
        self.leaf_type.extend(other.leaf_type)
        self.leaf_text.extend(other.leaf_text)
        self.nodes += other.nodes
        self.errors += other.errors


_local = threading.local()


def _parser() -> tree_sitter.Parser:
    p: tree_sitter.Parser | None = getattr(_local, "parser", None)
    if p is None:
        p = tree_sitter.Parser(LANGUAGE)
        _local.parser = p
    return p


def parse(source: bytes) -> ScriptTree:
    """Parse UTF-8 JavaScript (error-tolerant) and flatten it into a :class:`ScriptTree`."""
    out = ScriptTree()
    if not source:
        return out
    tree = _parser().parse(source)
    ascii_text = source.decode("ascii") if source.isascii() else None
    kinds = out.kinds
    kapp = kinds.append
    lpos = out.leaf_pos.append
    ltyp = out.leaf_type.append
    ltxt = out.leaf_text.append
    canon, action, leaf_type = _CANON, _ACTION, _LEAF_TYPE
    stack: list[bool] = []
    push, pop = stack.append, stack.pop
    cur = tree.walk()
    gfc, gns, gp = cur.goto_first_child, cur.goto_next_sibling, cur.goto_parent
    errors = 0
    while True:
        node = cur.node
        kid = node.kind_id  # type: ignore[union-attr]  # never None inside the tree
        act = action[kid]
        if act == _PUNCT:
            pass
        elif act == _TOKEN:
            kapp(canon[kid])
        elif act == _INNER:
            kapp(canon[kid])
            if gfc():
                push(True)
                continue
        elif act >= _STRING:
            if act == _ERROR_NODE:
                errors += 1
                kapp(ERROR)
                if gfc():
                    push(True)
                    continue
            else:
                a = node.start_byte  # type: ignore[union-attr]
                b = node.end_byte  # type: ignore[union-attr]
                if act == _STRING:
                    a += 1
                    b -= 1
                    typ = STRING
                else:
                    typ = leaf_type[kid]
                if ascii_text is not None:
                    text = ascii_text[a:b]
                else:
                    text = source[a:b].decode("utf-8", "replace")
                if typ == STRING or (typ == TEMPLATE and text[:1] == "\\"):
                    text = unescape(text)
                lpos(len(kinds))
                kapp(canon[kid])
                ltyp(typ)
                ltxt(text)
        elif act == _DROP_INNER and gfc():
            push(False)
            continue
        # Leaves and skipped subtrees: on to the next sibling, closing finished parents.
        while not gns():
            if not gp():
                out.nodes = tree.root_node.descendant_count
                out.errors = errors
                return out
            if pop():
                kapp(CLOSE)


def parse_many(chunks: tuple[bytes, ...] | list[bytes]) -> ScriptTree:
    """Parse several chunks of one input as one tree (their streams concatenated)."""
    if len(chunks) == 1:
        return parse(chunks[0])
    out = ScriptTree()
    for c in chunks:
        out.extend(parse(c))
    return out
