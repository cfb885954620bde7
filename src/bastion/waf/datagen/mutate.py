"""Semantics-preserving payload mutations (WAF-A-MoLE style for SQLi, analogues for XSS/RCE)."""

# ruff: noqa: E501

from __future__ import annotations

import random
import re
from collections.abc import Callable

from bastion.waf.datagen.rce import _glob_path, _quote_word
from bastion.waf.datagen.sample import rand_word, weighted, words

Op = Callable[[str, random.Random], str]

# --- SQL --------------------------------------------------------------------------------------

_SQL_KW = frozenset(
    words(
        """
    select union all distinct from where and or not order by group having limit offset sleep
    benchmark waitfor delay exec execute declare drop table insert into values update set delete
    case when then else end if null like cast convert as int concat char substring substr mid
    ascii ord extractvalue updatexml information_schema version database user xor rlike between
    in is true false pg_sleep count length hex unhex load_file outfile dumpfile procedure analyse
    tables columns table_name column_name schema_name group_concat current_user system_user
    exists top varchar nvarchar dual floor rand exp json_keys elt make_set iif chr instr left
    """
    )
)
_BREAKOUT_BLOCK = re.compile(
    r"\b(select|union|and|or|where|from|insert|values|set|like|in|exec|order|by)\b|[(=]", re.I
)
_WORD = re.compile(r"[A-Za-z_@][A-Za-z0-9_@$]*")
_TRAILING_COMMENT = re.compile(r"(\s*(?:--[ \t+-]?[^\n]*|#[^\n]*|/\*[^*]*|;%00|%23|;--|%00))$")


def _sql_segments(payload: str) -> list[tuple[str, bool]]:
    """Split into (text, is_code) runs: string literals and the value before a breakout quote
    (with the quote) are not code."""
    segs: list[tuple[str, bool]] = []
    i = 0
    n = len(payload)
    first_q = next((k for k, c in enumerate(payload) if c in "'\""), -1)
    breakout = first_q >= 0 and not _BREAKOUT_BLOCK.search(payload[:first_q])
    start = 0
    if breakout:
        segs.append((payload[: first_q + 1], False))
        i = start = first_q + 1
    while i < n:
        c = payload[i]
        if c in "'\"`":
            if c == "`":
                i += 1
                continue
            if i > start:
                segs.append((payload[start:i], True))
            j = i + 1
            while j < n:
                if payload[j] == "\\":
                    j += 2
                    continue
                if payload[j] == c:
                    if j + 1 < n and payload[j + 1] == c:
                        j += 2
                        continue
                    break
                j += 1
            segs.append((payload[i : j + 1], False))
            i = j + 1
            start = i
            continue
        i += 1
    if start < n:
        segs.append((payload[start:], True))
    return segs


def _map_code(
    payload: str, rng: random.Random, fn: Callable[[str], str], *, all_segments: bool = False
) -> str:
    """Apply ``fn`` to the code part (before any trailing comment) of one or all code segments."""
    tail_m = _TRAILING_COMMENT.search(payload)
    tail = ""
    body = payload
    if tail_m:
        last_text, last_is_code = _sql_segments(payload)[-1]
        if last_is_code and tail_m.start(1) >= len(payload) - len(last_text):
            tail = tail_m.group(1)
            body = payload[: tail_m.start(1)]
    segs = _sql_segments(body)
    code_idx = [k for k, (_, is_code) in enumerate(segs) if is_code and _.strip()]
    if not code_idx:
        return payload
    chosen = set(code_idx) if all_segments else {rng.choice(code_idx)}
    out = [fn(text) if k in chosen else text for k, (text, _c) in enumerate(segs)]
    return "".join(out) + tail


def _sql_case(payload: str, rng: random.Random) -> str:
    def swap(text: str) -> str:
        def one(m: re.Match[str]) -> str:
            w = m.group(0)
            if w.lower() not in _SQL_KW or rng.random() < 0.3:
                return w
            return "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in w)

        return _WORD.sub(one, text)

    return _map_code(payload, rng, swap, all_segments=True)


_WS_SUBS = (
    ("/**/", 5.0), ("/*{w}*/", 1.5), ("\t", 1.5), ("\n", 1.5), ("\r\n", 0.5), ("\x0b", 0.4), ("\x0c", 0.4),
    ("  ", 1.0), ("%20", 0.5), ("%09", 0.5), ("%0a", 0.5), ("+", 0.8), ("/*!*/", 0.4), ("%a0", 0.1), ("\xa0", 0.2),
    ("%0b", 0.2), ("/*--*/", 0.2), ("/* */", 0.5),
)  # fmt: skip


def _sql_ws(payload: str, rng: random.Random) -> str:
    sub = weighted(rng, _WS_SUBS).replace("{w}", rand_word(rng, 1, 6))
    everywhere = rng.random() < 0.6

    def swap(text: str) -> str:
        return re.sub(
            r"[ ]+", lambda m: sub if everywhere or rng.random() < 0.5 else m.group(0), text
        )

    return _map_code(payload, rng, swap, all_segments=everywhere)


def _sql_comment_inject(payload: str, rng: random.Random) -> str:
    comment = rng.choice(["/**/", "/**/", f"/*{rand_word(rng, 1, 8)}*/", "/*!*/", "/*x*/"])

    def inject(text: str) -> str:
        spots = [
            m.start() for m in re.finditer(r"(?<=[\w)'])(?=[=<>,])|(?<=[=<>,(])(?=[\w('])", text)
        ]
        if not spots:
            return text
        k = rng.choice(spots)
        return text[:k] + comment + text[k:]

    return _map_code(payload, rng, inject)


def _sql_versioned(payload: str, rng: random.Random) -> str:
    def wrap(text: str) -> str:
        words = [
            m
            for m in _WORD.finditer(text)
            if m.group(0).lower()
            in ("union", "select", "from", "and", "or", "where", "sleep", "order")
        ]
        if not words:
            return text
        m = rng.choice(words)
        ver = rng.choice(["", "50000", "12345", "50001", "32302"])
        return f"{text[: m.start()]}/*!{ver}{m.group(0)}*/{text[m.end() :]}"

    return _map_code(payload, rng, wrap)


_NUM = re.compile(r"(?<![\w.@$:x!])(\d{1,6})(?![\w.:])")


def _sql_int(payload: str, rng: random.Random) -> str:
    def enc(text: str) -> str:
        cands = [
            m
            for m in _NUM.finditer(text)
            if not re.search(r"(by|limit|offset|top|,)\s*$", text[: m.start()], re.I)
        ]
        if not cands:
            return text
        m = rng.choice(cands)
        v = int(m.group(1))
        rep = rng.choice(
            [
                hex(v),
                f"({v + 1}-1)",
                f"(select {v})",
                f"{v}*1",
                f"{v}+0",
                f"abs({v})",
                f"{v}.0",
                f"(({v}))",
            ]
        )
        return text[: m.start()] + rep + text[m.end() :]

    return _map_code(payload, rng, enc)


def _sql_ops(payload: str, rng: random.Random) -> str:
    def swap(text: str) -> str:
        choice = rng.choice(["or", "and", "eq", "neq"])
        if choice == "or":
            return re.sub(
                r"(?i)(?<![\w])or(?![\w])",
                lambda m: rng.choice(["||", " || ", "or"]) if rng.random() < 0.7 else m.group(0),
                text,
            )
        if choice == "and":
            return re.sub(
                r"(?i)(?<![\w])and(?![\w])",
                lambda m: rng.choice(["&&", " && "]) if rng.random() < 0.7 else m.group(0),
                text,
            )
        if choice == "eq" and not re.search(r"(?i)\b(set|values|declare)\b", payload):
            return re.sub(
                r"(?<![<>!:=])=(?![=>])",
                lambda m: (
                    rng.choice([" like ", " LIKE ", "<=>", " rlike "])
                    if rng.random() < 0.6
                    else "="
                ),
                text,
            )
        return text.replace("!=", "<>") if "!=" in text else text.replace("<>", "!=")

    return _map_code(payload, rng, swap)


_INVARIANTS = (
    " and 1=1",
    " or 0=1",
    " and true",
    " and 2>1",
    " or false",
    " and 1",
    " or 1=2",
    " && 1",
    " and 'a'='a'",
    " and not 0",
)


def _sql_invariant(payload: str, rng: random.Random) -> str:
    m = re.match(r"^([\w%.@-]*)(['\"]?\)*)", payload)
    if not m or m.end() == 0 or m.end() >= len(payload) or m.group(1).lower() in _SQL_KW:
        return payload
    k = m.end()
    rest = payload[k:]
    if rest[0] not in " ;\t\n#-/":
        return payload
    inv = rng.choice(_INVARIANTS)
    return payload[:k] + inv + (rest if rest[0] == " " else " " + rest)


_TAUT_SUBS = (
    "2<>1",
    "2>1",
    "true",
    "not false",
    "3>=2",
    "2 between 1 and 3",
    "1 in (1)",
    "'x' like 'x'",
    "'a'='a'",
    "0x1=0x1",
    "1 is not null",
    "ascii(1)=49",
    "2=2",
)


def _sql_tautology(payload: str, rng: random.Random) -> str:
    pat = re.compile(r"\b(\d+)\s*=\s*\1\b|'(\w*)'\s*=\s*'\2'|\"(\w*)\"\s*=\s*\"\3\"")
    hits = list(pat.finditer(payload))
    if not hits:
        return payload
    m = rng.choice(hits)
    return payload[: m.start()] + rng.choice(_TAUT_SUBS) + payload[m.end() :]


def _sql_comment_end(payload: str, rng: random.Random) -> str:
    m = re.search(r"(--[ +-]*\w*|#\w*|/\*)$", payload)
    if not m:
        return payload
    ending = m.group(1)
    if ending.startswith("#") or ending.startswith("/*"):
        rep = rng.choice(["-- ", "-- -", "--+", f"-- {rand_word(rng, 1, 6)}", "#", "/*", "-- #"])
    else:
        rep = rng.choice(
            [
                "-- -",
                "--+",
                f"-- {rand_word(rng, 1, 6)}",
                "--",
                f"--{rng.choice(['%20', ' '])}{rand_word(rng, 1, 4)}",
                "#",
                ";--",
                "; --",
            ]
        )
    return payload[: m.start()] + rep


def _sql_spacing(payload: str, rng: random.Random) -> str:
    def pad(text: str) -> str:
        return re.sub(
            r"\s*(<=>|<>|!=|>=|<=|:=|[(),=<>])\s*",
            lambda m: f" {m.group(1)} " if rng.random() < 0.8 else m.group(0),
            text,
        )

    return _map_code(payload, rng, pad, all_segments=True)


def _sql_tight(payload: str, rng: random.Random) -> str:
    """Drop optional spaces next to parentheses/operators/quotes: ``or 1=1`` stays, ``( 1 )`` -> ``(1)``."""

    def tight(text: str) -> str:
        return re.sub(r"\s*([(),=<>])\s*", r"\1", text)

    out = _map_code(payload, rng, tight, all_segments=True)
    # "or(1=1)": parenthesise a simple comparison so the space after the operator can go
    return (
        re.sub(r"(?i)\b(or|and) (\d+=\d+)", lambda m: f"{m.group(1)}({m.group(2)})", out)
        if rng.random() < 0.5
        else out
    )


def _sql_literal(payload: str, rng: random.Random) -> str:
    segs = _sql_segments(payload)
    idx = [
        k
        for k, (t, code) in enumerate(segs)
        if not code and len(t) >= 3 and t[0] == t[-1] == "'" and t[1:-1].isalnum()
    ]
    if not idx:
        return payload
    k = rng.choice(idx)
    word = segs[k][0][1:-1]
    rep = rng.choice(
        [
            "0x" + word.encode().hex(),
            "char(" + ",".join(str(ord(c)) for c in word) + ")",
            f"concat('{word[: len(word) // 2]}','{word[len(word) // 2 :]}')"
            if len(word) > 1
            else f"'{word}'",
            "unhex('" + word.encode().hex() + "')",
        ]
    )
    return "".join(rep if j == k else t for j, (t, _c) in enumerate(segs))


_SYNONYMS = (
    (r"\bsubstring\(", ("substr(", "mid(")), (r"\bsubstr\(", ("substring(", "mid(")), (r"\bascii\(", ("ord(",)),
    (r"@@version\b", ("version()",)), (r"\bunion select\b", ("union all select", "union distinct select", "union(select")),
    (r"\bsleep\((\d+)\)", ("sleep(0x{1})", "sleep({1}.0)", "sleep(({1}))")), (r"\bunion all select\b", ("union select",)),
    (r"\binformation_schema\.", ("information_schema/**/.", "`information_schema`.", "information_schema .")),
    (r"\bdatabase\(\)", ("schema()",)), (r"\buser\(\)", ("current_user()", "system_user()", "session_user()")),
)  # fmt: skip


def _sql_synonym(payload: str, rng: random.Random) -> str:
    order = list(range(len(_SYNONYMS)))
    rng.shuffle(order)
    for k in order:
        pat, reps = _SYNONYMS[k]
        m = re.search(pat, payload, re.I)
        if not m:
            continue
        rep = rng.choice(reps)
        if "{1}" in rep:
            rep = rep.replace("{1}", hex(int(m.group(1)))[2:] if "0x" in rep else m.group(1))
        if rep == "union(select" and payload.rstrip().endswith(")"):
            continue
        if rep == "union(select":
            end = _TRAILING_COMMENT.search(payload)
            cut = end.start() if end else len(payload)
            return (
                payload[: m.start()] + "union(select" + payload[m.end() : cut] + ")" + payload[cut:]
            )
        return payload[: m.start()] + rep + payload[m.end() :]
    return payload


def _sql_comment_rewrite(payload: str, rng: random.Random) -> str:
    """Change what an inline ``/* */`` comment says, or add text after a trailing ``--``/``#``."""
    inline = list(re.finditer(r"/\*(?!!)[^*]*\*/", payload))
    if inline and rng.random() < 0.7:
        m = rng.choice(inline)
        body = rng.choice(
            [
                "",
                rand_word(rng, 1, 8),
                "*",
                "-",
                "!",
                " ",
                "x" * rng.randint(1, 4),
                rand_word(rng, 2, 5).upper(),
            ]
        )
        return payload[: m.start()] + f"/*{body}*/" + payload[m.end() :]
    tail = re.search(r"(--[ +]?|#)(\w*)$", payload)
    if not tail:
        return payload
    lead = tail.group(1) if tail.group(1) != "--" else "-- "
    return payload[: tail.start()] + lead + rand_word(rng, 1, 8) + rng.choice(["", " ", "\n"])


_SQL_OPS: tuple[tuple[Op, float], ...] = (
    (_sql_comment_rewrite, 0.6),
    (_sql_case, 2.0), (_sql_ws, 2.5), (_sql_comment_inject, 1.5), (_sql_versioned, 0.5), (_sql_int, 1.2),
    (_sql_ops, 1.5), (_sql_invariant, 1.0), (_sql_tautology, 1.2), (_sql_comment_end, 0.8), (_sql_spacing, 0.6),
    (_sql_tight, 0.6), (_sql_literal, 0.6), (_sql_synonym, 1.0),
)  # fmt: skip

# --- XSS --------------------------------------------------------------------------------------

_TAG_OPEN = re.compile(r"<(/?)([a-zA-Z][\w:-]*)")
_HANDLER = re.compile(r"([\s/\"'])(on[a-z]+)(\s*=\s*)", re.I)
_ALERT = re.compile(
    r"\b(alert|prompt|confirm)\((1|'XSS'|\"XSS\"|document\.domain|document\.cookie|\d+)\)"
)


def _in_tag(payload: str, pos: int) -> bool:
    """Whether ``pos`` is inside an HTML start tag (after ``<name``, before its ``>``)."""
    lt = payload.rfind("<", 0, pos)
    return lt > payload.rfind(">", 0, pos) and lt + 1 < len(payload) and payload[lt + 1].isalpha()


def _rand_case(word: str, rng: random.Random) -> str:
    return "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in word)


def _xss_tag_case(payload: str, rng: random.Random) -> str:
    return _TAG_OPEN.sub(lambda m: "<" + m.group(1) + _rand_case(m.group(2), rng), payload)


def _xss_handler_case(payload: str, rng: random.Random) -> str:
    out = _HANDLER.sub(
        lambda m: (
            m.group(1)
            + (_rand_case(m.group(2), rng) if _in_tag(payload, m.start(2)) else m.group(2))
            + m.group(3)
        ),
        payload,
    )
    return re.sub(r"(?i)javascript:", lambda m: _rand_case("javascript", rng) + ":", out)


def _xss_separator(payload: str, rng: random.Random) -> str:
    sep = rng.choice(["/", "/", "\t", "\n", "\x0c", "\r", "/x/", " \n", "%09", "%0a", "%0d", "%0c"])
    if sep.startswith("%") and rng.random() < 0.7:
        sep = "/"
    m = list(re.finditer(r"<([a-zA-Z][\w-]*)( +)", payload))
    if m and rng.random() < 0.6:
        hit = rng.choice(m)
        return payload[: hit.start(2)] + sep + payload[hit.end(2) :]
    hits = [
        h for h in re.finditer(r" (?=on[a-z]+\s*=)", payload, re.I) if _in_tag(payload, h.start())
    ]
    if not hits:
        return payload
    hit = rng.choice(hits)
    return payload[: hit.start()] + sep + payload[hit.end() :]


def _xss_eq_space(payload: str, rng: random.Random) -> str:
    hits = [m for m in _HANDLER.finditer(payload) if _in_tag(payload, m.start(2))]
    if not hits:
        return payload
    m = rng.choice(hits)
    return (
        payload[: m.end(2)] + rng.choice([" = ", "= ", " =", "\n=\n", "=\t"]) + payload[m.end(3) :]
    )


def _xss_quotes(payload: str, rng: random.Random) -> str:
    def requote(m: re.Match[str]) -> str:
        val = m.group(3)
        if val[:1] in "\"'" and val[-1:] == val[:1] and len(val) >= 2:
            inner = val[1:-1]
            if not any(c in inner for c in " >\"'`"):
                return m.group(1) + m.group(2) + inner
            other = "'" if val[0] == '"' else '"'
            return m.group(1) + m.group(2) + (other + inner + other if other not in inner else val)
        q = rng.choice(['"', "'"])
        return m.group(1) + m.group(2) + (q + val + q if q not in val else val)

    return re.sub(
        r"(\son[a-z]+|\ssrc|\shref)(\s*=\s*)(\"[^\"]*\"|'[^']*'|[^\s>]+)",
        requote,
        payload,
        count=1,
        flags=re.I,
    )


_ALERT_VARIANTS = (
    "{f}`{a}`", "({f})({a})", "[{a}].find({f})", "top[/{f1}/.source+/{f2}/.source]({a})", "self[`{f}`]({a})",
    "window[`{f1}`+`{f2}`]({a})", "{f}?.({a})", "{fu}({a})", "{f}.call(null,{a})", "Reflect.apply({f},null,[{a}])",
    "(0,{f})({a})", "[{a}].map({f})", "setTimeout({f},0,{a})",
)  # fmt: skip


def _xss_sink(payload: str, rng: random.Random) -> str:
    m = _ALERT.search(payload)
    if not m:
        return payload
    f, a = m.group(1), m.group(2)
    if "'" in a or '"' in a:
        a = "1"
    tmpl = rng.choice(_ALERT_VARIANTS)
    k = len(f) // 2
    fu = f[0] + "\\u" + format(ord(f[1]), "04x") + f[2:]
    rep = (
        tmpl.replace("{fu}", fu)
        .replace("{f1}", f[:k])
        .replace("{f2}", f[k:])
        .replace("{f}", f)
        .replace("{a}", a)
    )
    if "`" in rep and "`" in payload[: m.start()]:
        return payload
    return payload[: m.start()] + rep + payload[m.end() :]


def _xss_entity_js(payload: str, rng: random.Random) -> str:
    """HTML-entity-encode a few characters inside an event handler or javascript: URI."""
    hits = [
        m
        for m in re.finditer(r"(?i)(on[a-z]+\s*=\s*[\"']?|javascript:)([^\"'>\s]+)", payload)
        if _in_tag(payload, m.start()) or m.start() == 0
    ]
    if not hits:
        return payload
    m = rng.choice(hits)
    body = m.group(2)

    style = rng.choice(["dec", "hex", "dec0", "hexU"])
    semi = rng.random() < 0.7
    out: list[str] = []
    for i, c in enumerate(body):
        if not ((c in "()`'\".:" or (c.isalpha() and rng.random() < 0.25)) and rng.random() < 0.7):
            out.append(c)
            continue
        ent = {
            "dec": f"&#{ord(c)}",
            "hex": f"&#x{ord(c):x}",
            "dec0": f"&#0{ord(c)}",
            "hexU": f"&#X{ord(c):X}",
        }[style]
        nxt = body[i + 1] if i + 1 < len(body) else ""
        out.append(ent + (";" if semi or (nxt != "" and nxt in "0123456789abcdefABCDEF;") else ""))
    return payload[: m.start(2)] + "".join(out) + payload[m.end(2) :]


def _xss_js_uri(payload: str, rng: random.Random) -> str:
    hits = [
        m
        for m in re.finditer(r"(?i)javascript:", payload)
        if _in_tag(payload, m.start()) or m.start() == 0
    ]
    if not hits:
        return payload
    m = rng.choice(hits)
    rep = rng.choice(
        ["java&#x09;script:", "java&#9;script:", "jav&#x0A;ascript:", "javascript&colon;", "&#x6A;avascript:", "java\tscript:",
         "java\nscript:", " javascript:", "\x01javascript:", "JAVASCRIPT:", "javas&#99;ript:", "&#106;&#97;vascript:", "javascript&#58;"]
    )  # fmt: skip
    return payload[: m.start()] + rep + payload[m.end() :]


def _xss_junk_attr(payload: str, rng: random.Random) -> str:
    hits = list(re.finditer(r"<([a-zA-Z][\w-]*)(?=[\s/])", payload))
    if not hits:
        return payload
    hit = rng.choice(hits)
    junk = rng.choice(
        [
            f" id={rand_word(rng, 1, 5)}",
            " x",
            f" class={rand_word(rng, 2, 6)}",
            " tabindex=1",
            f" data-{rand_word(rng, 1, 4)}=1",
            " title=x",
            " style=x:y",
        ]
    )
    return payload[: hit.end()] + junk + payload[hit.end() :]


def _xss_close(payload: str, rng: random.Random) -> str:
    if re.search(r"(?i)</script>", payload):
        return re.sub(
            r"(?i)</script>",
            lambda m: rng.choice(
                [
                    "</script >",
                    "</script/x>",
                    "</SCRIPT>",
                    "</sCrIpT>",
                    "</script\n>",
                    "</script\t>",
                ]
            ),
            payload,
            count=1,
        )
    if payload.endswith(">") and not payload.endswith("->"):
        return payload[:-1] + rng.choice([" >", "//>", "/>", "\n>", " //>", ">"])
    if payload.endswith(("//", "<!--", " ", "<", "<!-- ")):
        return payload
    return payload + rng.choice(["//", "<!--", " ", "<", "<!-- "])


def _xss_space_slash(payload: str, rng: random.Random) -> str:
    """``<svg onload=...>`` -> ``<svg/onload=...>`` (and other whitespace between attributes)."""
    attrs = r"(?:on[a-z]+|src|href|style|id|tabindex|class|action|formaction|data|srcdoc|type|attributename|values|content|http-equiv)\s*="
    return re.sub(
        r"(?<=[\w\"'])[ ]+(?=" + attrs + ")",
        lambda m: rng.choice(["/", " ", "\n", "\t", "/ ", "\x0c"]),
        payload,
        flags=re.I,
    )


_XSS_OPS: tuple[tuple[Op, float], ...] = (
    (_xss_tag_case, 2.0), (_xss_handler_case, 1.5), (_xss_separator, 2.0), (_xss_eq_space, 0.6), (_xss_quotes, 1.2),
    (_xss_sink, 1.5), (_xss_entity_js, 1.0), (_xss_js_uri, 1.0), (_xss_junk_attr, 1.0), (_xss_close, 0.8),
    (_xss_space_slash, 0.8),
)  # fmt: skip

# --- RCE --------------------------------------------------------------------------------------

_UNIX_CMDS = frozenset(
    words(
        """
    cat head tail more less nl tac id whoami uname ls ping sleep nslookup dig host curl wget nc ncat bash
    sh python python3 perl php ruby node echo chmod touch rm mkdir ps netstat ifconfig env printenv find
    grep awk sed base64 xxd busybox socat telnet hostname pwd tar cp mv kill crontab useradd passwd sudo
    """
    )
)
_WIN_CMDS = frozenset(
    words(
        """
    dir type net ipconfig whoami systeminfo tasklist set ver ping timeout nslookup certutil bitsadmin
    powershell cmd mshta regsvr32 rundll32 wmic reg schtasks sc netsh calc notepad start del copy findstr
    hostname echo query qwinsta arp route netstat cscript tftp msiexec vssadmin taskkill
    """
    )
)
_WIN_ONLY = _WIN_CMDS - _UNIX_CMDS
_WIN_HINT = re.compile(
    r"(?i)(\b[a-z]:\\|%\w+%|\bpowershell\b|\bcmd(\.exe)?\b|\bipconfig\b|\bwin\.ini\b|\bnet (user|localgroup|view|share|use|stop)\b|\bcertutil\b|\bdir\b|\bver\b|whoami /|\bsysteminfo\b|\btasklist\b|\^)"
)


def _depth0_words(payload: str) -> list[tuple[int, int, str]]:
    """(start, end, word) for words outside quotes and not inside ``$()``-free contexts' strings."""
    out: list[tuple[int, int, str]] = []
    quote = ""
    i = 0
    n = len(payload)
    while i < n:
        c = payload[i]
        if quote:
            if c == quote:
                quote = ""
            elif c == "\\" and quote == '"':
                i += 1
            i += 1
            continue
        if c in "'\"":
            quote = c
            i += 1
            continue
        if c.isalpha():
            j = i
            while j < n and (payload[j].isalnum() or payload[j] in "_.-"):
                j += 1
            out.append((i, j, payload[i:j]))
            i = j
            continue
        i += 1
    return out


def _depth0_mask(payload: str) -> list[bool]:
    """Per character: True when outside single/double quotes."""
    mask: list[bool] = []
    quote = ""
    for c in payload:
        if quote:
            mask.append(False)
            if c == quote:
                quote = ""
        elif c in "'\"":
            quote = c
            mask.append(False)
        else:
            mask.append(True)
    return mask


def _cmd_words(
    payload: str, cmds: frozenset[str], *, fold: bool = False
) -> list[tuple[int, int, str]]:
    hits = []
    for s, e, w in _depth0_words(payload):
        key = w.lower() if fold else w
        if key in cmds and (s == 0 or payload[s - 1] in " \t\n;|&`($/{"):
            hits.append((s, e, w))
    return hits


def _rce_quote(payload: str, rng: random.Random) -> str:
    hits = [h for h in _cmd_words(payload, _UNIX_CMDS) if payload[h[0] - 1 : h[0]] != "/"]
    if not hits:
        return payload
    s, e, w = rng.choice(hits)
    return payload[:s] + _quote_word(w, rng) + payload[e:]


def _rce_ifs(payload: str, rng: random.Random) -> str:
    sub = rng.choice(["${IFS}", "$IFS$9", "${IFS}", "\t", "${IFS%??}", "$IFS$1"])
    out: list[str] = []
    quote = ""
    changed = False
    for k, c in enumerate(payload):
        if quote:
            if c == quote:
                quote = ""
            out.append(c)
            continue
        if c in "'\"":
            quote = c
        if (
            c == " "
            and 0 < k < len(payload) - 1
            and payload[k - 1] not in " ;|&\n{"
            and payload[k + 1] not in " ;|&\n<>}"
        ):
            out.append(sub)
            changed = True
        else:
            out.append(c)
    return "".join(out) if changed else payload


def _rce_glob(payload: str, rng: random.Random) -> str:
    hits = list(re.finditer(r"(?<![\w.:~/])/(?:[a-z0-9_]+/)*[a-z0-9_]+(?![\w./])", payload))
    depth0 = _depth0_mask(payload)
    hits = [
        h for h in hits if depth0[h.start()] and not h.group(0).startswith(("/dev/tcp", "/dev/udp"))
    ]
    if not hits:
        return payload
    h = rng.choice(hits)
    return payload[: h.start()] + _glob_path(h.group(0), rng) + payload[h.end() :]


def _rce_path(payload: str, rng: random.Random) -> str:
    hits = [
        h
        for h in _cmd_words(
            payload,
            frozenset(
                (
                    "cat",
                    "id",
                    "ls",
                    "whoami",
                    "uname",
                    "nc",
                    "sh",
                    "bash",
                    "sleep",
                    "ping",
                    "curl",
                    "wget",
                )
            ),
        )
        if payload[h[0] - 1 : h[0]] != "/"
    ]
    if not hits:
        return payload
    s, e, w = rng.choice(hits)
    return (
        payload[:s] + rng.choice(["/bin/", "/usr/bin/", "/???/", "/usr/bin/env "]) + w + payload[e:]
    )


def _rce_empty(payload: str, rng: random.Random) -> str:
    hits = [h for h in _cmd_words(payload, _UNIX_CMDS) if len(h[2]) > 1]
    if not hits:
        return payload
    s, _e, w = rng.choice(hits)
    k = rng.randint(1, len(w) - 1)
    return payload[: s + k] + rng.choice(["$@", "$()", "${x}", "``", "$9", "\\"]) + payload[s + k :]


def _rce_sep(payload: str, rng: random.Random) -> str:
    hits = [m for m in re.finditer(r";", payload)]
    if not hits:
        return payload
    h = rng.choice(hits)
    return (
        payload[: h.start()]
        + rng.choice(["\n", "%0a", "\r\n", "&&", "; ", " ;", "%0A"])
        + payload[h.end() :]
    )


def _rce_brace(payload: str, rng: random.Random) -> str:
    m = re.search(
        r"(?<![\w{/.-])(cat|ls|id|uname|ping|nc|wget|curl|head|tail) ([^\s;|&`$'\"<>(){}]+)(?: ([^\s;|&`$'\"<>(){}]+))?(?=$|[;|&\n#])",
        payload,
    )
    if not m:
        return payload
    parts = [g for g in m.groups() if g]
    return payload[: m.start()] + "{" + ",".join(parts) + "}" + payload[m.end() :]


def _win_caret(payload: str, rng: random.Random) -> str:
    hits = _cmd_words(payload, _WIN_CMDS, fold=True)
    if not hits:
        return payload
    s, e, w = rng.choice(hits)
    new = "".join(c + "^" if k < len(w) - 1 and rng.random() < 0.5 else c for k, c in enumerate(w))
    return payload[:s] + new + payload[e:]


def _win_case(payload: str, rng: random.Random) -> str:
    hits = _cmd_words(payload, _WIN_CMDS, fold=True)
    if not hits:
        return payload
    s, e, w = rng.choice(hits)
    return payload[:s] + _rand_case(w, rng) + payload[e:]


def _win_quote(payload: str, rng: random.Random) -> str:
    hits = [h for h in _cmd_words(payload, _WIN_CMDS, fold=True) if len(h[2]) > 2]
    if not hits:
        return payload
    s, e, w = rng.choice(hits)
    k = rng.randint(1, len(w) - 1)
    return payload[:s] + w[:k] + '""' + w[k:] + payload[e:]


def _win_sep(payload: str, rng: random.Random) -> str:
    m = re.search(r"(?<!&)&(?!&)", payload)
    if m:
        return (
            payload[: m.start()] + rng.choice(["&&", " & ", "|", "%26", "\n"]) + payload[m.end() :]
        )
    m = re.search(r"&&", payload)
    if m:
        return payload[: m.start()] + rng.choice(["&", " && "]) + payload[m.end() :]
    return payload


_UNIX_OPS: tuple[tuple[Op, float], ...] = (
    (_rce_quote, 2.5), (_rce_ifs, 2.0), (_rce_glob, 1.5), (_rce_path, 1.0), (_rce_empty, 1.5), (_rce_sep, 1.0),
    (_rce_brace, 0.8),
)  # fmt: skip
_WIN_OPS: tuple[tuple[Op, float], ...] = (
    (_win_caret, 2.5),
    (_win_case, 1.5),
    (_win_quote, 1.5),
    (_win_sep, 1.0),
)

# --- driver -----------------------------------------------------------------------------------


_CODE_INJECTION = re.compile(
    r"(system|exec|popen|passthru|shell_exec|eval|proc_open)\(|__\w+__|\{\{|<\?|<%|\$\{jndi|\$\{\$\{|require\(|Runtime|\{php\}|<!--#|\(\) \{"
)


def _ops_for(payload: str, vector: str) -> tuple[tuple[Op, float], ...]:
    if vector == "sqli":
        return _SQL_OPS
    if vector == "xss":
        return _XSS_OPS
    if vector == "rce":
        if _CODE_INJECTION.search(payload):
            return ()
        windows = _WIN_HINT.search(payload) or _cmd_words(payload, _WIN_ONLY, fold=True)
        return _WIN_OPS if windows else _UNIX_OPS
    return ()


def mutate(payload: str, vector: str, rng: random.Random, n_ops: int = 3) -> str:
    """Apply ``n_ops`` random semantics-preserving mutations for ``vector`` ("sqli"/"xss"/"rce").

    Operators that do not apply to a payload are skipped; other vectors return ``payload``.
    """
    ops = _ops_for(payload, vector)
    if not ops:
        return payload
    out = payload
    applied = 0
    attempts = 0
    while applied < n_ops and attempts < n_ops * 4:
        attempts += 1
        op = weighted(rng, ops)
        new = op(out, rng)
        if new != out and new.strip():
            out = new
            applied += 1
    return out
