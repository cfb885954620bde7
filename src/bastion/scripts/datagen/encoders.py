"""Hand-rolled obfuscation wrappers seen on hacked shops, as text transforms.

The *decodable* wrappers (``eval(atob(..))``, char-code lists, hex/percent escapes, the
classic p,a,c,k,e,d packer) are applied to benign and malicious code alike: the
featurizer decodes them, so the verdict should follow the payload, not the wrapper.
The *cipher* wrapper (a custom shift cipher decoded at run time, like the ATMZOW kit)
cannot be read statically and is applied to malicious code only, because benign
libraries do not ship run-time-decrypted eval payloads.
"""

# ruff: noqa: E501  (JavaScript templates are kept one statement per line)

from __future__ import annotations

import base64
import random
import re
from collections import Counter
from collections.abc import Callable

_WORD = re.compile(r"\b\w+\b")
_B62 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _js_str(s: str, quote: str = "'") -> str:
    out = s.replace("\\", "\\\\").replace(quote, "\\" + quote)
    return (
        quote + out.replace("\n", "\\n").replace("\r", "\\r").replace("\u2028", "\\u2028") + quote
    )


def eval_atob(code: str, rng: random.Random) -> str:
    b64 = base64.b64encode(code.encode("utf-8")).decode()
    fn = rng.choice(["eval", "window.eval", "window['eval']", "new Function", "Function"])
    if fn in ("new Function", "Function"):
        return f"{fn}(atob({_js_str(b64)}))();"
    return f"{fn}(atob({_js_str(b64)}));"


def charcodes(code: str, rng: random.Random) -> str:
    nums = ",".join(str(ord(c)) for c in code)
    if rng.random() < 0.5:
        return f"eval(String.fromCharCode({nums}));"
    sep = rng.choice([",", "|", ";"])
    return (
        f"var _c = {_js_str(nums.replace(',', sep))}.split({_js_str(sep)}), _s = '';\n"
        "for (var _i = 0; _i < _c.length; _i++) _s += String.fromCharCode(_c[_i]);\neval(_s);"
    )


def hex_escape(code: str, rng: random.Random) -> str:
    body = "".join(f"\\x{ord(c):02x}" if ord(c) < 256 else f"\\u{ord(c):04x}" for c in code)
    return f"{rng.choice(['eval', 'setTimeout', 'Function'])}('{body}');"


def percent(code: str, rng: random.Random) -> str:
    body = "".join(f"%{ord(c):02X}" if ord(c) < 256 else c for c in code)
    return (
        f"eval(unescape('{body}'));"
        if rng.random() < 0.5
        else f"eval(decodeURIComponent('{body}'));"
    )


def _base62(n: int) -> str:
    out = ""
    while True:
        out = _B62[n % 62] + out
        n //= 62
        if n == 0:
            return out


def packer(code: str, rng: random.Random) -> str:
    """Dean Edwards' p,a,c,k,e,d packer (base 62)."""
    counts = Counter(_WORD.findall(code))
    words = [w for w, _ in counts.most_common()]
    index = {w: _base62(i) for i, w in enumerate(words)}
    packed = _WORD.sub(lambda m: index[m.group(0)], code)
    keys = "|".join(w if index[w] != w else "" for w in words)
    return (
        "eval(function(p,a,c,k,e,d){e=function(c){return(c<a?'':e(parseInt(c/a)))+((c=c%a)>35?"
        "String.fromCharCode(c+29):c.toString(36))};if(!''.replace(/^/,String)){while(c--)"
        "{d[e(c)]=k[c]||e(c)}k=[function(e){return d[e]}];e=function(){return'\\\\w+'};c=1};"
        "while(c--){if(k[c]){p=p.replace(new RegExp('\\\\b'+e(c)+'\\\\b','g'),k[c])}}return p}"
        f"({_js_str(packed)},62,{len(words)},{_js_str(keys)}.split('|'),0,{{}}))"
    )


def cipher(code: str, rng: random.Random) -> str:
    """A run-time shift cipher with a key derived from a string (not statically decodable)."""
    key = "".join(
        rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(rng.randint(6, 16))
    )
    base = rng.choice([30, 32, 36])
    out = []
    prev = 0
    for i, c in enumerate(code):
        v = ord(c) + ord(key[i % len(key)]) + prev
        prev = ord(c)
        # two base-N digits per character, like the ATMZOW encoder
        hi, lo = divmod(v, base)
        if hi >= base:
            hi, lo = base - 1, v - (base - 1) * base  # clamp: stays undecodable, shape preserved
        out.append(_B62[hi] + _B62[lo % base])
    fn = rng.choice(["_d", "KG0OOF", "dec", "x" + key[:3]])
    run = rng.choice(["eval", 'window["ev"+"al"]', "new Function"])
    call = "()" if run == "new Function" else ""
    return (
        f"(function(){{function {fn}(s,k){{var r='',p=0;for(var i=0;i<s.length;i+=2){{"
        f"var v=parseInt(s[i]+s[i+1],{base})-k.charCodeAt((i/2)%k.length)-p;r+=String.fromCharCode(v);p=v}}return r}}"
        f"var f={_js_str(''.join(out))};{run}({fn}(f,{_js_str(key)})){call}}})();"
    )


def junk_split(code: str, rng: random.Random) -> str:
    """Percent-encoded text with a junk separator removed at run time (exploit-kit style)."""
    junk = "".join(
        rng.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
        for _ in range(rng.randint(4, 16))
    )
    body = junk.join(f"{ord(c):02x}" if ord(c) < 256 else "3f" for c in code)
    var = rng.choice(["s", "p", "dat", "x" + junk[:3].lower()])
    sink = rng.choice(["eval", "document.write", "new Function"])
    call = "()" if sink == "new Function" else ""
    if rng.random() < 0.5:
        return f"var {var} = {_js_str(junk + body)};\n{sink}(unescape({var}.split({_js_str(junk)}).join('%'))){call};"
    return f"var {var} = {_js_str(junk + body)};\n{sink}(unescape({var}.replace(/{junk}/g, '%'))){call};"


#: Wrappers whose payload the featurizer can read back (applied to every label).
DECODABLE: tuple[Callable[[str, random.Random], str], ...] = (
    eval_atob,
    charcodes,
    hex_escape,
    percent,
    packer,
    junk_split,
)
