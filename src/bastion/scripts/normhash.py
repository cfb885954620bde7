"""The normalized-AST hash: one id for a script across formatting and renaming.

It hashes the pruned tree (:mod:`bastion.scripts.tree`), so it does not change with
whitespace, comments, line breaks, semicolon insertion, redundant parentheses, quote
style or escape spelling of strings (``'a'``/``"a"``/``"\\x61"``), or number spelling
(``255``/``0xff``/``255.0``). Identifiers are replaced by a placeholder unless they are
well-known browser or JavaScript globals, so renaming local variables (what a
minifier's mangler does) keeps the hash, while swapping ``document`` for ``window``
does not. Property names and string values are kept: they are what minifiers leave
alone and what decides behaviour. Rewrites that change the syntax tree (a minifier's
``compress`` turning ``if (a) b()`` into ``a&&b()``) give a different hash; the
classifier, not the cache, handles those.
"""

from __future__ import annotations

import hashlib
from array import array

from bastion.scripts.tree import IDENT, NUMBER, ScriptTree

#: Globals a minifier never renames and whose use matters to a verdict.
KNOWN_GLOBALS = frozenset(
    [
        "window",
        "self",
        "top",
        "parent",
        "opener",
        "frames",
        "globalThis",
        "document",
        "location",
        "navigator",
        "history",
        "screen",
        "localStorage",
        "sessionStorage",
        "indexedDB",
        "caches",
        "crypto",
        "performance",
        "console",
        "alert",
        "confirm",
        "prompt",
        "eval",
        "Function",
        "Object",
        "Array",
        "String",
        "Number",
        "Boolean",
        "Symbol",
        "Math",
        "JSON",
        "Date",
        "RegExp",
        "Error",
        "Promise",
        "Proxy",
        "Reflect",
        "Map",
        "Set",
        "WeakMap",
        "WeakSet",
        "ArrayBuffer",
        "Uint8Array",
        "Int32Array",
        "Uint32Array",
        "Float64Array",
        "DataView",
        "BigInt",
        "parseInt",
        "parseFloat",
        "isNaN",
        "escape",
        "unescape",
        "encodeURI",
        "encodeURIComponent",
        "decodeURI",
        "decodeURIComponent",
        "atob",
        "btoa",
        "setTimeout",
        "setInterval",
        "clearTimeout",
        "clearInterval",
        "requestAnimationFrame",
        "queueMicrotask",
        "fetch",
        "XMLHttpRequest",
        "WebSocket",
        "EventSource",
        "Worker",
        "SharedWorker",
        "ServiceWorker",
        "WebAssembly",
        "Image",
        "Audio",
        "FormData",
        "Blob",
        "File",
        "FileReader",
        "URL",
        "URLSearchParams",
        "Headers",
        "Request",
        "Response",
        "MessageChannel",
        "BroadcastChannel",
        "MutationObserver",
        "IntersectionObserver",
        "ActiveXObject",
        "WScript",
        "GetObject",
        "Enumerator",
        "VBArray",
        "jQuery",
        "$",
        "require",
        "module",
        "exports",
        "define",
        "process",
        "Buffer",
        "global",
        "importScripts",
        "postMessage",
        "onmessage",
        "arguments",
        "undefined",
        "NaN",
        "Infinity",
        "CoinHive",
        "Client",
    ]
)


def _norm_number(text: str) -> str:
    t = text.replace("_", "")
    try:
        if t[-1:] == "n":
            return str(int(t[:-1], 0))
        if len(t) > 1 and t[0] == "0" and t[1] in "xXoObB":
            return str(int(t, 0))
        v = float(t)
    except ValueError:
        return text
    if v.is_integer() and abs(v) < 2**53:
        return str(int(v))
    return repr(v)


def normalized_hash(tree: ScriptTree) -> str:
    """Hex digest (32 characters) of the pruned tree with locals renamed away."""
    known = KNOWN_GLOBALS
    numbers: dict[str, str] = {}
    values: list[str] = []
    add = values.append
    for typ, text in zip(tree.leaf_type, tree.leaf_text, strict=True):
        if typ == IDENT:
            add(text if text in known else "")
        elif typ == NUMBER:
            v = numbers.get(text)
            if v is None:
                v = numbers[text] = _norm_number(text)
            add(v)
        else:
            add(text)
    h = hashlib.sha256(b"bastion-js-ast1\0")
    h.update(array("H", tree.kinds).tobytes())
    h.update(b"\xff\xff\xff\xff")
    h.update("\x00".join(values).encode("utf-8", "surrogatepass"))
    return h.hexdigest()[:32]
