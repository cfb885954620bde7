"""Payload encodings used by WAF-bypass attempts (URL, %u, JS escapes, HTML entities, base64)."""

from __future__ import annotations

import base64
import random
import re
from collections.abc import Callable
from urllib.parse import quote, quote_plus

from bastion.waf.datagen.sample import weighted

ENCODING_SCHEMES: tuple[str, ...] = (
    "url",
    "double_url",
    "url_all",
    "u_percent",
    "js_unicode",
    "js_hex",
    "html_dec",
    "html_hex",
    "html_named",
    "base64",
    "mixed",
)

_SCHEME_WEIGHTS: tuple[tuple[str, float], ...] = (
    ("url", 3.0),
    ("double_url", 1.5),
    ("url_all", 1.0),
    ("u_percent", 0.7),
    ("js_unicode", 1.0),
    ("js_hex", 0.8),
    ("html_dec", 1.2),
    ("html_hex", 1.2),
    ("html_named", 1.0),
    ("base64", 1.2),
    ("mixed", 1.5),
)

#: Named HTML entities for the characters that matter in payloads.
HTML_NAMED: dict[str, tuple[str, ...]] = {
    "<": ("&lt;", "&LT;", "&lt"),
    ">": ("&gt;", "&GT;", "&gt"),
    '"': ("&quot;", "&QUOT;"),
    "'": ("&apos;", "&#39;"),
    "&": ("&amp;", "&AMP;"),
    "(": ("&lpar;",),
    ")": ("&rpar;",),
    ":": ("&colon;",),
    ";": ("&semi;",),
    "/": ("&sol;",),
    "=": ("&equals;",),
    "!": ("&excl;",),
    ".": ("&period;",),
    ",": ("&comma;",),
    "[": ("&lsqb;", "&lbrack;"),
    "]": ("&rsqb;", "&rbrack;"),
    "{": ("&lcub;", "&lbrace;"),
    "}": ("&rcub;", "&rbrace;"),
    "`": ("&grave;",),
    "+": ("&plus;",),
    "#": ("&num;",),
    "%": ("&percnt;",),
    "_": ("&lowbar;",),
    "*": ("&ast;",),
    "\\": ("&bsol;",),
    "|": ("&vert;", "&verbar;"),
    "?": ("&quest;",),
    "@": ("&commat;",),
    "$": ("&dollar;",),
    "\t": ("&Tab;",),
    "\n": ("&NewLine;",),
    " ": ("&nbsp;", "&#32;"),
}

_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


_PCT_HEX = re.compile(r"%[0-9A-F]{2}")


def _hexcase(rng: random.Random, text: str) -> str:
    """Lower-case the hex digits of ``%XX`` escapes sometimes (both spellings occur in the wild)."""
    return _PCT_HEX.sub(lambda m: m.group(0).lower(), text) if rng.random() < 0.3 else text


def _pick_chars(payload: str, rng: random.Random) -> list[bool]:
    """Which characters a char-level scheme encodes: specials, all, or a random subset."""
    mode = weighted(rng, (("special", 0.6), ("all", 0.25), ("some", 0.15)))
    if mode == "all":
        return [True] * len(payload)
    if mode == "special":
        return [ch not in _ALNUM for ch in payload]
    flags = [ch not in _ALNUM and rng.random() < 0.6 for ch in payload]
    if not any(flags):
        flags = [ch not in _ALNUM for ch in payload]
    return flags


def _per_char(payload: str, rng: random.Random, enc: Callable[[str], str]) -> str:
    flags = _pick_chars(payload, rng)
    return "".join(enc(ch) if f else ch for ch, f in zip(payload, flags, strict=True))


def _url(payload: str, rng: random.Random) -> str:
    if rng.random() < 0.25:
        out = quote_plus(payload, safe=rng.choice(["", "()", "'", "*"]))
    else:
        out = quote(payload, safe=rng.choice(["", "", "/", "()", ",", "=:"]))
    return _hexcase(rng, out) if "%" in out else out


def _url_all(payload: str, rng: random.Random) -> str:
    lower = rng.random() < 0.3
    out = "".join(f"%{b:02X}" for b in payload.encode("utf-8"))
    return out.lower() if lower else out


def _u_percent(payload: str, rng: random.Random) -> str:
    lower = rng.random() < 0.4
    return _per_char(payload, rng, lambda ch: f"%u{ord(ch):04x}" if lower else f"%u{ord(ch):04X}")


def _js_unicode(payload: str, rng: random.Random) -> str:
    braces = rng.random() < 0.1
    return _per_char(
        payload, rng, lambda ch: f"\\u{{{ord(ch):x}}}" if braces else f"\\u{ord(ch):04x}"
    )


def _js_hex(payload: str, rng: random.Random) -> str:
    upper = rng.random() < 0.3
    return _per_char(
        payload,
        rng,
        lambda ch: (
            (f"\\x{ord(ch):02X}" if upper else f"\\x{ord(ch):02x}")
            if ord(ch) < 256
            else f"\\u{ord(ch):04x}"
        ),
    )


def _html_numeric(payload: str, rng: random.Random, hexa: bool) -> str:
    pad = rng.choice([0, 0, 0, 1, 2, 5])
    semi = rng.random() < 0.8
    xchar = "X" if rng.random() < 0.15 else "x"
    flags = _pick_chars(payload, rng)
    out: list[str] = []
    for i, (ch, f) in enumerate(zip(payload, flags, strict=True)):
        if not f:
            out.append(ch)
            continue
        body = f"{'0' * pad}{ord(ch):x}" if hexa else f"{'0' * pad}{ord(ch)}"
        ent = f"&#{xchar}{body}" if hexa else f"&#{body}"
        nxt = payload[i + 1] if i + 1 < len(payload) else ""
        needs_semi = (
            semi or nxt.isdigit() or nxt == ";" or (hexa and nxt != "" and nxt in "abcdefABCDEF")
        )
        out.append(ent + (";" if needs_semi else ""))
    return "".join(out)


def _html_named(payload: str, rng: random.Random) -> str:
    everything = rng.random() < 0.5
    out: list[str] = []
    for i, ch in enumerate(payload):
        names = HTML_NAMED.get(ch)
        if names and ch != " " and (everything or rng.random() < 0.7):
            name = rng.choice(names)
            nxt = payload[i + 1] if i + 1 < len(payload) else ""
            if not name.endswith(";") and (nxt.isalnum() or nxt == ";"):
                name += ";"
            out.append(name)
        else:
            out.append(ch)
    return "".join(out)


def _base64(payload: str, rng: random.Random) -> str:
    raw = payload.encode("utf-8")
    if rng.random() < 0.2:
        out = base64.urlsafe_b64encode(raw).decode("ascii")
    else:
        out = base64.b64encode(raw).decode("ascii")
    if rng.random() < 0.25:
        out = out.rstrip("=")
    return out


def _mixed(payload: str, rng: random.Random) -> str:
    if rng.random() < 0.35:
        first = rng.choice(["html_dec", "html_hex", "html_named", "js_hex", "js_unicode"])
        second = rng.choice(["url", "url", "double_url"])
        return _ENCODERS[second](_ENCODERS[first](payload, rng), rng)
    makers: list[Callable[[str], str]] = [
        lambda ch: "".join(f"%{b:02X}" for b in ch.encode("utf-8")),
        lambda ch: "".join(f"%{b:02x}" for b in ch.encode("utf-8")),
        lambda ch: f"&#{ord(ch)};",
        lambda ch: f"&#x{ord(ch):x};",
        lambda ch: f"%u{ord(ch):04x}",
        lambda ch: "".join(f"%25{b:02X}" for b in ch.encode("utf-8")),
    ]
    out: list[str] = []
    for ch in payload:
        if ch not in _ALNUM and rng.random() < 0.75:
            out.append(rng.choice(makers)(ch))
        elif ch.isalpha() and rng.random() < 0.12:
            out.append(rng.choice(makers[:4])(ch))
        else:
            out.append(ch)
    return "".join(out)


_ENCODERS: dict[str, Callable[[str, random.Random], str]] = {
    "url": _url,
    "double_url": lambda p, r: quote(_url(p, r), safe=""),
    "url_all": _url_all,
    "u_percent": _u_percent,
    "js_unicode": _js_unicode,
    "js_hex": _js_hex,
    "html_dec": lambda p, r: _html_numeric(p, r, hexa=False),
    "html_hex": lambda p, r: _html_numeric(p, r, hexa=True),
    "html_named": _html_named,
    "base64": _base64,
    "mixed": _mixed,
}


def pick_scheme(rng: random.Random) -> str:
    """A random encoding scheme, weighted towards the common ones."""
    return weighted(rng, _SCHEME_WEIGHTS)


def encode(payload: str, rng: random.Random, scheme: str | None = None) -> str:
    """Encode ``payload`` with ``scheme`` (random when None); see :data:`ENCODING_SCHEMES`."""
    name = scheme or pick_scheme(rng)
    try:
        enc = _ENCODERS[name]
    except KeyError:
        raise ValueError(
            f"unknown encoding scheme {name!r}; use one of {ENCODING_SCHEMES}"
        ) from None
    out = enc(payload, rng)
    for _ in range(3):
        if out != payload or not payload:
            break
        out = enc(payload, rng)  # nothing was encoded (random subset / alphanumeric payload)
    if out == payload and payload:
        out = _FULL[name](payload)
    return out


_FULL: dict[str, Callable[[str], str]] = {
    "url": lambda p: "".join(f"%{b:02X}" for b in p.encode("utf-8")),
    "double_url": lambda p: "".join(f"%25{b:02X}" for b in p.encode("utf-8")),
    "url_all": lambda p: "".join(f"%{b:02X}" for b in p.encode("utf-8")),
    "u_percent": lambda p: "".join(f"%u{ord(c):04X}" for c in p),
    "js_unicode": lambda p: "".join(f"\\u{ord(c):04x}" for c in p),
    "js_hex": lambda p: "".join(
        f"\\x{ord(c):02x}" if ord(c) < 256 else f"\\u{ord(c):04x}" for c in p
    ),
    "html_dec": lambda p: "".join(f"&#{ord(c)};" for c in p),
    "html_hex": lambda p: "".join(f"&#x{ord(c):x};" for c in p),
    "html_named": lambda p: "".join(f"&#{ord(c)};" for c in p),
    "base64": lambda p: p,
    "mixed": lambda p: "".join(f"%{b:02x}" for b in p.encode("utf-8")),
}
