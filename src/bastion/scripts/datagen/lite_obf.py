"""A light, text-level obfuscator in the style of hand-made droppers and kits.

Renames declared names to random-case or hexadecimal names, splits string literals
into concatenations, turns some ``.method(`` calls into ``["method"](`` and sprinkles
junk arithmetic statements. Applied to generated code of every label, so these
surface traits do not decide a class; only the text is transformed, nothing is run.
"""

from __future__ import annotations

import random
import re
import string

from bastion.scripts.normhash import KNOWN_GLOBALS

_DECL = re.compile(r"\b(?:var|let|const|function)\s+([A-Za-z_$][\w$]*)")
_PARAMS = re.compile(r"\bfunction\s*[\w$]*\s*\(([^)]*)\)")
_STRING = re.compile(r"'([^'\\\n]{6,200})'|\"([^\"\\\n]{6,200})\"")
_METHOD = re.compile(r"\.([A-Za-z_$][\w$]*)\(")
_KEYWORDS = frozenset(
    (
        "var",
        "let",
        "const",
        "function",
        "return",
        "if",
        "else",
        "for",
        "while",
        "do",
        "in",
        "of",
        "new",
        "this",
        "typeof",
        "void",
        "delete",
        "true",
        "false",
        "null",
        "undefined",
        "try",
        "catch",
        "finally",
        "throw",
        "switch",
        "case",
        "default",
        "break",
        "continue",
        "instanceof",
        "with",
        "yield",
        "async",
        "await",
        "class",
        "extends",
        "super",
        "import",
        "export",
        "from",
    )
)


def _random_name(rng: random.Random, style: str) -> str:
    if style == "hex":
        return "_0x" + "".join(rng.choice("0123456789abcdef") for _ in range(rng.choice([4, 5, 6])))
    n = rng.randint(6, 16)
    return rng.choice(string.ascii_letters) + "".join(
        rng.choice(string.ascii_letters) for _ in range(n - 1)
    )


def _errors(code: str) -> int:
    from bastion.scripts.tree import parse

    return parse(code.encode("utf-8", "surrogatepass")).errors


def lite_obfuscate(code: str, rng: random.Random) -> str:
    """``code`` with renamed locals, split strings, bracketed calls and junk statements.

    Each step is kept only if the result still parses as well as before.
    """
    base = _errors(code)
    original = code
    style = rng.choice(["case", "case", "hex"])
    names = set(_DECL.findall(code))
    for params in _PARAMS.findall(code):
        names.update(p.strip() for p in params.split(",") if p.strip())
    names = {n for n in names if n not in KNOWN_GLOBALS and n not in _KEYWORDS and len(n) > 1}
    mapping = {n: _random_name(rng, style) for n in sorted(names)}
    if mapping:
        alternatives = "|".join(map(re.escape, sorted(mapping, key=len, reverse=True)))
        pattern = re.compile(r"(?<![\w$.'\"])(" + alternatives + r")(?![\w$])")
        code = pattern.sub(lambda m: mapping[m.group(1)], code)
        if _errors(code) > base:
            code = original

    def split(m: re.Match[str]) -> str:
        body = m.group(1) if m.group(1) is not None else m.group(2)
        q = "'" if m.group(1) is not None else '"'
        if rng.random() < 0.4:
            return m.group(0)
        cuts = sorted(rng.sample(range(1, len(body)), min(len(body) - 1, rng.randint(1, 3))))
        pieces = [body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)], strict=True)]
        return "(" + " + ".join(q + p + q for p in pieces) + ")"

    def bracket(m: re.Match[str]) -> str:
        return f'["{m.group(1)}"](' if rng.random() < 0.35 else m.group(0)

    changed = _STRING.sub(split, code)
    if _errors(changed) <= base:
        code = changed
    changed = _METHOD.sub(bracket, code)
    if _errors(changed) <= base:
        code = changed
    if rng.random() < 0.6:
        lines = code.split("\n")
        for _ in range(rng.randint(1, 6)):
            junk = (
                f"var {_random_name(rng, style)} = {rng.randint(2, 999)} * {rng.randint(2, 99)}"
                f" - {rng.randint(1, 9999)};"
            )
            at = rng.randint(0, len(lines))
            trial = [*lines[:at], junk, *lines[at:]]
            if _errors("\n".join(trial)) <= base:
                lines = trial
        code = "\n".join(lines)
    return code
