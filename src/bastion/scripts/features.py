"""Hashed features of a pruned syntax tree, each tied to a position in the tree.

Designed to carry over to unseen families and to survive obfuscation:

* **names**: identifiers, property names and short string values share one token space,
  so ``document.cookie``, ``document["cookie"]`` and an obfuscator's string-array entry
  ``'cookie'`` all yield the token ``cookie``; camelCase/snake_case sub-words
  (``cc_number`` -> ``cc``, ``number``) generalise across spellings. Obfuscator-made
  names (``_0x3fa2c1``) collapse into shape tokens.
* **context**: bigrams of consecutive leaf tokens (``location`` -> ``href``,
  ``addEventListener`` -> ``submit``) and each leaf with the node kind before it.
* **structure**: trigrams of the pre-order node-kind stream (AST paths in short).
* **strings**: length / character-class / entropy shape of every literal, and the
  decoded text of base64 (also javascript-obfuscator's swapped-case alphabet), hex,
  percent-encoded, HTML-entity and char-code-list payloads; a decoded payload that is
  itself JavaScript is parsed and featurized in place (bounded depth and size).
* **behaviour**: every name, sub-word and decoded word that signals a capability (reading
  form fields, card words, event hooks, network sinks, encoders, storage, page location,
  dynamic code, DOM injection, Windows Script Host, mining, environment probes, encoded
  payloads) sets a bit for its half-window; each window gets one token per capability
  and per pair of capabilities present. Pairs such as *form read* with *network sink*
  describe what a skimmer does rather than how one family spells it, and they survive
  renaming, string arrays and minification as long as the words are recoverable.

A feature set is a list of groups, each a pair of arrays (hashed ids, positions) sorted
by position; the model pools them over windows of positions.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import html
import math
import re
import zlib
from collections import Counter
from dataclasses import dataclass
from urllib.parse import unquote

import numpy as np
import numpy.typing as npt

from bastion.scripts.tree import (
    CLOSE,
    KIND_NAMES,
    NUMBER,
    PROP,
    REGEX,
    STRING,
    TEMPLATE,
    ScriptTree,
    parse,
)

IdArray = npt.NDArray[np.uint32]
PosArray = npt.NDArray[np.int64]

#: log2 of the number of hash buckets.
BITS = 18
#: Half a pooling window, in tree positions; a window spans two halves.
HALF_WINDOW = 512

SEED_TOKEN = 0x2F0B3C1D
GROUP_KIND3 = 0x9E3779B97F4A7C15
GROUP_UNI = 0xC2B2AE3D27D4EB4F
GROUP_BI = 0x165667B19E3779F9
GROUP_CTX = 0xD6E8FEB86659FD93
GROUP_EXTRA = 0xFF51AFD7ED558CCD
GROUP_CAPS = 0x4CF5AD432745937F

#: Decoded payloads are parsed again at most this deep, and at most this many bytes in all.
MAX_DECODE_DEPTH = 2
MAX_DECODED_BYTES = 1 << 20
#: Only this much of a long string is tokenized.
STRING_SCAN_CHARS = 4096

_M64 = (1 << 64) - 1
_OBF_HEX = re.compile(r"_0x[0-9a-fA-F]{3,}\Z")
_OBF_MIX = re.compile(r"(?=(?:.*\d){2})(?=.*[A-Z])[A-Za-z0-9_$]{5,}\Z")
_SUBWORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_HEXSTR = re.compile(r"(?:[0-9a-fA-F]{2}){8,}\Z")
_B64STR = re.compile(r"[A-Za-z0-9+/_-]{16,}={0,2}\Z")
_NUMLIST = re.compile(r"\d{2,3}(?:[,;|.: ]\d{2,3}){7,}\Z")
_PCT = re.compile(r"%[0-9a-fA-F]{2}")
_UPCT = re.compile(r"%u[0-9a-fA-F]{4}")
_ENT = re.compile(r"&#x?[0-9a-fA-F]+;")
_WORDISH = re.compile(r"[A-Za-z_$][\w$]*\Z", re.ASCII)
_SELECTOR = re.compile(r"[\w\s#.,:=>*\[\]\"'()-]+\Z")
_URL = re.compile(r"(?:https?:)?//([A-Za-z0-9.-]+)", re.IGNORECASE)
_JSLIKE = re.compile(
    r"function\s*\(|=>|\bvar\s|\blet\s|\bdocument\.|\bwindow\.|\beval\(|\)\s*;|\bnew\s+[A-Z]"
)
_B64ISH = re.compile(r"(?=.*[0-9+/])(?=.*[a-z])(?=.*[A-Z])")
_B64_SWAP = bytes.maketrans(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
    b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
)


def token_hash(token: str) -> int:
    """Stable 32-bit hash of a token (the same in every process)."""
    return zlib.crc32(token.encode("utf-8", "surrogatepass"), SEED_TOKEN)


def _mix(group: int, h: npt.NDArray[np.uint64]) -> IdArray:
    """Hash ids in ``[0, 2**BITS)`` of 64-bit values for one feature group."""
    with np.errstate(over="ignore"):
        x = (h ^ np.uint64(group)) * np.uint64(0x9E3779B97F4A7C15)
        x ^= x >> np.uint64(29)
        x *= np.uint64(0xBF58476D1CE4E5B9)
    return (x >> np.uint64(64 - BITS)).astype(np.uint32)


def _pair(a: npt.NDArray[np.uint64], b: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    with np.errstate(over="ignore"):
        return (a * np.uint64(0x100000001B3)) ^ (b + np.uint64(0x7F4A7C15))


def _entropy(s: str) -> float:
    n = len(s)
    if n == 0:
        return 0.0
    return -sum(c / n * math.log2(c / n) for c in Counter(s).values())


def _len_bucket(n: int) -> int:
    return 0 if n == 0 else min(n.bit_length(), 14)


def subwords(s: str, limit: int = 24) -> list[str]:
    """Lower-cased camelCase/snake_case/punctuation-separated words of 2+ characters."""
    seen: dict[str, None] = {}
    for w in _SUBWORD.findall(s[:STRING_SCAN_CHARS]):
        if len(w) >= 2:
            seen.setdefault(w.lower(), None)
            if len(seen) >= limit:
                break
    return list(seen)


_FLIP = re.compile(r"(?=[a-z][A-Z]|[A-Z][a-z])")


def _case_flips(s: str) -> int:
    """How often the letter case changes between neighbouring letters."""
    return len(_FLIP.findall(s))


def name_token(s: str) -> str:
    """The token of an identifier, a property name or a short word-like string.

    Machine-made names collapse into shape tokens: javascript-obfuscator's ``_0x3fa2c1``,
    kit names mixing capitals and digits (``S7HYO6``), and random-case names
    (``qyBauKLAnmXWQ``) whose letter case flips far more often than camelCase does.
    """
    if _OBF_HEX.match(s):
        return "\x01obf:hex"
    if len(s) > 5 and _OBF_MIX.match(s) and not subwords(s, 3)[1:]:
        return "\x01obf:mix"
    if len(s) >= 8 and _case_flips(s) * 100 >= 45 * len(s):
        return "\x01obf:case"
    return s.lower()


def _char_class(s: str) -> str:
    if not s:
        return "empty"
    if _HEXSTR.match(s):
        return "hex"
    if _WORDISH.match(s):
        return "b64" if len(s) >= 16 and _B64ISH.match(s) else "word"
    if _NUMLIST.match(s):
        return "numlist"
    if len(s) >= 16 and _B64STR.match(s):
        return "b64"
    if _URL.match(s):
        return "url"
    if len(_PCT.findall(s, 0, 400)) >= 4:
        return "pct"
    if len(_ENT.findall(s, 0, 400)) >= 4:
        return "entity"
    if "<" in s and ">" in s:
        return "html"
    if not s.isascii():
        return "nonascii"
    if " " in s and s.replace(" ", "").isalpha():
        return "prose"
    if _SELECTOR.match(s):
        return "selector"
    return "other"


def _printable_ratio(t: str) -> float:
    if not t:
        return 0.0
    good = sum(1 for c in t[:2048] if c.isprintable() or c in "\n\r\t")
    return good / min(len(t), 2048)


_DECODABLE = frozenset({"hex", "b64", "numlist", "pct", "entity"})


def decode_string(s: str, cls: str | None = None) -> list[tuple[str, str]]:
    """Decodings of an encoded string that give printable text: (encoding, text) pairs."""
    out: list[tuple[str, str]] = []
    if len(s) < 8:
        return out
    if cls is None:
        cls = _char_class(s)
    if cls == "word" and _B64ISH.match(s) and len(s) % 4 != 1:
        cls = "b64"  # short base64, e.g. an obfuscator's encoded string-array entry
    if cls not in _DECODABLE and not _UPCT.search(s, 0, 400):
        return out
    candidates: list[tuple[str, str]] = []
    if cls == "hex":
        with contextlib.suppress(ValueError):
            candidates.append(("hex", bytes.fromhex(s).decode("latin-1")))
    if cls in ("b64", "hex") and s.isascii():
        raw = s.encode("ascii")
        padded = raw + b"=" * (-len(raw) % 4)
        for name, data in (("b64", padded), ("b64swap", padded.translate(_B64_SWAP))):
            with contextlib.suppress(binascii.Error, ValueError):
                candidates.append((name, base64.b64decode(data, altchars=b"-_").decode("latin-1")))
    if cls == "numlist":
        nums = [int(n) for n in re.findall(r"\d{1,7}", s)]
        candidates.append(("charcodes", "".join(chr(n) for n in nums if n < 0x110000)))
    if cls == "pct" or _UPCT.search(s, 0, 400):
        t = _UPCT.sub(lambda m: chr(int(m.group(0)[2:], 16)), s)
        candidates.append(("pct", unquote(t, errors="replace")))
    if cls == "entity":
        candidates.append(("entity", html.unescape(s)))
    for name, text in candidates:
        if text and text != s and _printable_ratio(text) >= 0.9:
            # Valid UTF-8 hidden in latin-1 text: decode it properly.
            with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
                text = text.encode("latin-1").decode("utf-8")
            out.append((name, text))
    return out


# ------------------------------------------------------------------ behaviour capabilities

#: Capability -> the lower-cased names, sub-words and marker tokens that signal it
#: (space-separated).
CAPABILITIES: tuple[tuple[str, str], ...] = (
    (
        "form-read",
        "value val serialize serializearray formdata elements forms input inputs "
        "select textarea getelementsbyname checked",
    ),
    (
        "card-words",
        "card cc ccnum cardnumber creditcard cvv cvc cvv2 cid exp expiry expiration "
        "holder cardholder billing checkout onepage onestepcheckout payment "
        "securitycode owner firecheckout",
    ),
    (
        "hook",
        "addeventlistener attachevent submit onsubmit click onclick change onchange "
        "blur onblur keyup keydown keypress mousedown mouseup touchend beforeunload "
        "focusout mutationobserver",
    ),
    (
        "net-sink",
        "image xmlhttprequest sendbeacon fetch websocket ajax post setrequestheader "
        "getjson jsonp beacon send",
    ),
    (
        "encode",
        "btoa atob stringify encodeuricomponent escape unescape charcodeat "
        "fromcharcode base64 decodeuricomponent tostring",
    ),
    ("storage", "localstorage sessionstorage cookie setitem getitem"),
    ("location", "location href pathname url referrer hostname host search"),
    (
        "dyn-code",
        "eval function execscript write writeln settimeout setinterval \x02nested-code",
    ),
    (
        "inject",
        "iframe script createelement appendchild insertbefore innerhtml outerhtml "
        "object embed applet src insertadjacenthtml",
    ),
    (
        "wsh",
        "activexobject wscript shell filesystemobject adodb stream xmlhttp savetofile "
        "run expandenvironmentstrings createobject getobject responsebody scripting "
        "msxml2 winhttp createtextfile deletefile exe cmd powershell sleep "
        "scriptfullname shellexecute regwrite temp appdata environment quit",
    ),
    (
        "mining",
        "coinhive miner cryptonight throttle hashes monero xmr stratum webassembly "
        "wasm worker mining coinimp hashrate nonce",
    ),
    (
        "env-probe",
        "useragent plugins navigator platform webdriver devtools outerwidth "
        "outerheight mimetypes javaenabled shockwave flash",
    ),
    (
        "decoded",
        "\x02decoded:b64 \x02decoded:b64swap \x02decoded:hex \x02decoded:charcodes "
        "\x02decoded:pct \x02decoded:entity \x02decoded:fromcharcode \x02folded",
    ),
    ("machine-names", "\x01obf:hex \x01obf:mix \x01obf:case"),
    ("url", "\x02url"),
)


def _capability_table() -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]]:
    """Sorted token hashes and their capability bit masks."""
    masks: dict[int, int] = {}
    for bit, (_, words) in enumerate(CAPABILITIES):
        for w in words.split():
            h = token_hash(w)
            masks[h] = masks.get(h, 0) | (1 << bit)
    # Long encoded literals (base64, hex, char-code lists, percent or entity escapes).
    for cls in ("b64", "hex", "numlist", "pct", "entity"):
        for lb in range(7, 15):
            for ent in range(-1, 17):
                h = token_hash(f"\x02str:{lb}:{cls}:{ent}")
                masks[h] = masks.get(h, 0) | (1 << _DECODED_BIT)
    keys = np.asarray(sorted(masks), dtype=np.uint64)
    vals = np.asarray([masks[int(k)] for k in keys], dtype=np.uint64)
    return keys, vals


_DECODED_BIT = [name for name, _ in CAPABILITIES].index("decoded")
_DYN_BIT = [name for name, _ in CAPABILITIES].index("dyn-code")
_CAP_KEYS, _CAP_MASKS = _capability_table()
#: Token hash of each capability's own token and of every pair (i < j), by bit numbers.
_NCAP = len(CAPABILITIES)
_CAP_SINGLE = np.asarray(
    [token_hash(f"\x04cap:{name}") for name, _ in CAPABILITIES], dtype=np.uint64
)
_CAP_PAIR = np.asarray(
    [[token_hash(f"\x04pair:{a}:{b}") for b, _ in CAPABILITIES] for a, _ in CAPABILITIES],
    dtype=np.uint64,
)


def capability_masks(tokens: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """Capability bit mask of each token hash (0 for tokens that signal none)."""
    if len(tokens) == 0 or len(_CAP_KEYS) == 0:
        return np.zeros(len(tokens), np.uint64)
    idx = np.searchsorted(_CAP_KEYS, tokens)
    idx = np.minimum(idx, len(_CAP_KEYS) - 1)
    hit = _CAP_KEYS[idx] == tokens
    return np.where(hit, _CAP_MASKS[idx], np.uint64(0))


def capability_feature_mask() -> npt.NDArray[np.bool_]:
    """Boolean mask over the hashed feature space: True at every capability token's id."""
    out = np.zeros(1 << BITS, dtype=bool)
    out[_mix(GROUP_CAPS, _CAP_SINGLE)] = True
    out[_mix(GROUP_CAPS, _CAP_PAIR.ravel())] = True
    return out


def capability_names(mask: int) -> list[str]:
    """Names of the capabilities in a bit mask."""
    return [name for bit, (name, _) in enumerate(CAPABILITIES) if mask >> bit & 1]


def _capability_tokens(half_masks: list[int], n: int) -> tuple[IdArray, PosArray]:
    """Tokens of the capabilities (single and pairs) of each half joined with the next one,
    at the half's first position: a window (two halves) sees its own conjunctions."""
    ids: list[int] = []
    pos: list[int] = []
    nhalf = len(half_masks)
    for h in range(nhalf):
        m = half_masks[h] | (half_masks[h + 1] if h + 1 < nhalf else 0)
        if not m:
            continue
        bits = [b for b in range(_NCAP) if m >> b & 1]
        p = min(h * HALF_WINDOW, max(n - 1, 0))
        for k, a in enumerate(bits):
            ids.append(int(_CAP_SINGLE[a]))
            for b in bits[k + 1 :]:
                ids.append(int(_CAP_PAIR[a, b]))
        pos.extend([p] * (len(ids) - len(pos)))
    return (
        _mix(GROUP_CAPS, np.asarray(ids, dtype=np.uint64)),
        np.asarray(pos, dtype=np.int64),
    )


@dataclass(slots=True)
class FeatureSet:
    """Hashed features of one script: groups of (ids, positions), positions sorted."""

    groups: list[tuple[IdArray, PosArray]]
    length: int  # number of positions (the kind stream's length)
    caps: int = 0  # capability bits of the whole script (nested payloads included)

    @property
    def count(self) -> int:
        return sum(len(ids) for ids, _ in self.groups)


class _StringInfo:
    __slots__ = ("extras", "nested", "token")

    def __init__(self, token: int, extras: list[int], nested: str | None) -> None:
        self.token = token
        self.extras = extras
        self.nested = nested


class Featurizer:
    """Turns pruned trees into :class:`FeatureSet`; decodes and re-parses payloads."""

    def __init__(self) -> None:
        self._name_cache: dict[str, tuple[int, tuple[int, ...]]] = {}
        self._word_class = (token_hash("\x02str:short:word"), token_hash("\x02str:long:word"))
        self._folded = token_hash("\x02folded")
        self._obf_tokens = np.asarray(
            [token_hash(t) for t in ("\x01obf:hex", "\x01obf:mix", "\x01obf:case")], np.uint64
        )

    def _name(self, s: str) -> tuple[int, tuple[int, ...]]:
        got = self._name_cache.get(s)
        if got is None:
            tok = name_token(s) if len(s) <= 64 else "\x01longname"
            parts = subwords(s, 6) if tok[:1] != "\x01" else []
            extra = tuple(token_hash(w) for w in parts if w != tok)
            got = (token_hash(tok), extra)
            if len(self._name_cache) < 200_000:
                self._name_cache[s] = got
        return got

    def _string(self, s: str) -> _StringInfo:
        n = len(s)
        if (
            n <= 64
            and _WORDISH.match(s)
            and not (n >= 8 and (_B64ISH.match(s) or (n >= 16 and _HEXSTR.match(s))))
        ):
            tok, sub = self._name(s)
            return _StringInfo(tok, [self._word_class[n >= 16], *sub], None)
        head = s[:STRING_SCAN_CHARS]
        cls = _char_class(s)
        ent = int(_entropy(head) * 2) if n >= 16 else -1
        extras = [token_hash(f"\x02str:{_len_bucket(n)}:{cls}:{ent}")]
        extras.extend(token_hash(w) for w in subwords(head, 48))
        if "//" in head:
            for m in _URL.finditer(head):
                host = m.group(1).lower().rstrip(".")
                tld = host.rsplit(".", 1)[-1] if "." in host else ""
                extras.append(token_hash("\x02url"))
                extras.append(token_hash(f"\x02tld:{tld}"))
        nested: str | None = None
        for enc, text in decode_string(s, cls):
            extras.append(token_hash(f"\x02decoded:{enc}"))
            extras.extend(token_hash(w) for w in subwords(text, 48))
            if len(text) >= 32 and _JSLIKE.search(text, 0, STRING_SCAN_CHARS):
                nested = text
        if cls in ("html", "other", "prose") and n >= 32 and _JSLIKE.search(head):
            nested = s  # code kept in a plain string (eval, document.write, Function)
        tok = token_hash(f"\x02strtok:{cls}") if n > 64 else token_hash(s.lower())
        return _StringInfo(tok, extras, nested)

    def _half_stats(
        self, tree: ScriptTree, pos: PosArray, uni: npt.NDArray[np.uint64], n: int
    ) -> tuple[IdArray, PosArray]:
        """Bucketed statistics of each half-window, as tokens at the half's first position.

        Share of machine-made names among the leaves, share of the text inside string
        literals, longest string, and leaves per position: what hand-rolled obfuscation
        changes, in a form that does not depend on any one family's spelling.
        """
        nhalf = max(1, -(-n // HALF_WINDOW))
        half = np.minimum(pos // HALF_WINDOW, nhalf - 1)
        leaves = np.bincount(half, minlength=nhalf).astype(np.float64)
        obf = np.bincount(half, weights=np.isin(uni, self._obf_tokens), minlength=nhalf)
        types = np.asarray(tree.leaf_type, dtype=np.int8)
        lengths = np.fromiter(map(len, tree.leaf_text), dtype=np.int64, count=len(types))
        lengths = np.where(types == STRING, lengths, 0)
        strchars = np.bincount(half, weights=lengths, minlength=nhalf)
        longest = np.zeros(nhalf, np.int64)
        np.maximum.at(longest, half, lengths)
        span = np.minimum(HALF_WINDOW, n - np.arange(nhalf) * HALF_WINDOW).clip(min=1)
        out: list[int] = []
        for h in range(nhalf):
            nl = max(leaves[h], 1.0)
            out.append(token_hash(f"\x03obf:{min(int(10 * obf[h] / nl), 9)}"))
            frac = strchars[h] / (strchars[h] + 4.0 * span[h])
            out.append(token_hash(f"\x03strfrac:{min(int(10 * frac), 9)}"))
            out.append(token_hash(f"\x03maxstr:{_len_bucket(int(longest[h]))}"))
            out.append(token_hash(f"\x03leafdens:{min(int(10 * leaves[h] / span[h]), 9)}"))
        ids = _mix(GROUP_EXTRA, np.asarray(out, dtype=np.uint64))
        starts = np.repeat(np.arange(nhalf, dtype=np.int64) * HALF_WINDOW, 4)
        return ids, np.minimum(starts, max(n - 1, 0))

    def featurize(
        self, tree: ScriptTree, *, depth: int = 0, budget: list[int] | None = None
    ) -> FeatureSet:
        """Features of ``tree``; decoded JavaScript payloads are parsed and added in place."""
        if budget is None:
            budget = [MAX_DECODED_BYTES]
        kinds = np.asarray(tree.kinds, dtype=np.uint64)
        n = len(kinds)
        groups: list[tuple[IdArray, PosArray]] = []
        if n >= 3:
            tri = _pair(_pair(kinds[:-2], kinds[1:-1]), kinds[2:])
            groups.append((_mix(GROUP_KIND3, tri), np.arange(n - 2, dtype=np.int64)))
        m = len(tree.leaf_pos)
        if m == 0:
            return FeatureSet(groups, n)
        uni_l: list[int] = []
        uapp = uni_l.append
        leaf_extra: list[int] = []  # extra ids of the leaves, in leaf order
        lext = leaf_extra.extend
        counts: list[int] = []  # how many of them each leaf has
        capp = counts.append
        extra_ids: list[int] = []  # extra ids with explicit positions (folded, decoded)
        extra_pos: list[int] = []
        nested: list[tuple[int, str]] = []
        strings: dict[str, _StringInfo] = {}
        numbers: dict[str, int] = {}
        cache = self._name_cache
        name = self._name
        positions = tree.leaf_pos
        regex_tok = token_hash("\x02regex")
        for i, (typ, text) in enumerate(zip(tree.leaf_type, tree.leaf_text, strict=True)):
            if typ <= PROP:  # IDENT, PROP
                got = cache.get(text) or name(text)
                uapp(got[0])
                sub = got[1]
                if sub:
                    lext(sub)
                    capp(len(sub))
                else:
                    capp(0)
            elif typ <= TEMPLATE:  # STRING, TEMPLATE
                info = strings.get(text)
                if info is None:
                    info = strings[text] = self._string(text)
                    if info.nested is not None:
                        nested.append((positions[i], info.nested))
                uapp(info.token)
                lext(info.extras)
                capp(len(info.extras))
            elif typ == NUMBER:
                h = numbers.get(text)
                if h is None:
                    h = numbers[text] = token_hash(_number_shape(text))
                uapp(h)
                capp(0)
            else:  # REGEX
                uapp(regex_tok)
                sub2 = [token_hash(w) for w in subwords(text, 16)]
                lext(sub2)
                capp(len(sub2))
        for p, text in _folded_strings(tree):
            info = strings.get(text)
            if info is None:
                info = strings[text] = self._string(text)
                if info.nested is not None:
                    nested.append((p, info.nested))
            extra_ids.append(self._folded)
            extra_ids.append(info.token)
            extra_ids.extend(info.extras)
            extra_pos.extend([p] * (len(info.extras) + 2))
        charcodes = _charcode_runs(tree)
        for p, text in charcodes:
            words = [token_hash("\x02decoded:fromcharcode")]
            words += [token_hash(w) for w in subwords(text, 48)]
            extra_ids.extend(words)
            extra_pos.extend([p] * len(words))
            if len(text) >= 32 and _JSLIKE.search(text):
                nested.append((p, text))
        pos = np.asarray(positions, dtype=np.int64)
        uni = np.asarray(uni_l, dtype=np.uint64)
        groups.append((_mix(GROUP_UNI, uni), pos))
        if m >= 2:
            groups.append((_mix(GROUP_BI, _pair(uni[:-1], uni[1:])), pos[1:]))
        prev_kind = kinds[np.maximum(pos - 1, 0)]
        groups.append((_mix(GROUP_CTX, _pair(uni, prev_kind)), pos))
        if leaf_extra:
            epos = np.repeat(pos, np.asarray(counts, dtype=np.int64))
            groups.append((_mix(GROUP_EXTRA, np.asarray(leaf_extra, dtype=np.uint64)), epos))
        if extra_ids:
            ep = np.asarray(extra_pos, dtype=np.int64)
            order = np.argsort(ep, kind="stable")
            ids = np.asarray(extra_ids, dtype=np.uint64)[order]
            groups.append((_mix(GROUP_EXTRA, ids), ep[order]))
        groups.append(self._half_stats(tree, pos, uni, n))
        nhalf = max(1, -(-n // HALF_WINDOW))
        half_masks = np.zeros(nhalf, np.uint64)
        cap_sources = [(uni, pos)]
        if leaf_extra:
            cap_sources.append((np.asarray(leaf_extra, dtype=np.uint64), epos))
        if extra_ids:
            cap_sources.append((np.asarray(extra_ids, dtype=np.uint64), np.asarray(extra_pos)))
        for toks, tpos in cap_sources:
            cm = capability_masks(toks)
            hit = np.flatnonzero(cm)
            if len(hit):
                np.bitwise_or.at(
                    half_masks, np.minimum(tpos[hit] // HALF_WINDOW, nhalf - 1), cm[hit]
                )
        if depth < MAX_DECODE_DEPTH:
            for p, text in nested:
                data = text.encode("utf-8", "surrogatepass")
                if len(data) > budget[0]:
                    continue
                budget[0] -= len(data)
                inner = self.featurize(parse(data), depth=depth + 1, budget=budget)
                mark = np.asarray([token_hash("\x02nested-code")], dtype=np.uint64)
                groups.append((_mix(GROUP_EXTRA, mark), np.asarray([p], dtype=np.int64)))
                for ids2, _ in inner.groups:
                    groups.append((ids2, np.full(len(ids2), p, dtype=np.int64)))
                h = min(p // HALF_WINDOW, nhalf - 1)
                half_masks[h] |= np.uint64(inner.caps | 1 << _DYN_BIT)
        masks = [int(x) for x in half_masks]
        cap_ids, cap_pos = _capability_tokens(masks, n)
        if len(cap_ids):
            groups.append((cap_ids, cap_pos))
        caps = 0
        for x in masks:
            caps |= x
        return FeatureSet(groups, n, caps)


def _number_shape(text: str) -> str:
    t = text.lower()
    if t.startswith("0x"):
        return f"\x02num:hex:{min(len(t) - 2, 9)}"
    if "." in t or "e" in t:
        return "\x02num:float"
    if t.isdigit():
        v = int(t)
        return f"\x02num:{v}" if v <= 16 else f"\x02num:d{min(len(t), 12)}"
    return "\x02num:other"


def _charcode_runs(tree: ScriptTree) -> list[tuple[int, str]]:
    """Text of ``String.fromCharCode(104, 116, ...)`` calls with literal arguments."""
    out: list[tuple[int, str]] = []
    texts = tree.leaf_text
    types = tree.leaf_type
    starts = [i for i, t in enumerate(texts) if t == "fromCharCode"]
    for i in starts:
        j = i + 1
        chars: list[str] = []
        while j < len(texts) and types[j] == NUMBER and len(chars) < 100_000:
            try:
                v = int(texts[j], 0)
            except ValueError:
                break
            if not 0 <= v < 0x110000:
                break
            chars.append(chr(v))
            j += 1
        if len(chars) >= 4:
            out.append((tree.leaf_pos[i], "".join(chars)))
    return out


_PLUS = KIND_NAMES.index("'+")
_SAFE_REGEX = re.compile(r"(?:[\w\s,.|@#%&!~:;<>=-]|\\[\W\w]|\[[^\]\\]{1,20}\])+\Z")
#: Folded strings longer than this are cut (a string built up by concatenation).
MAX_FOLDED_CHARS = 1 << 16
#: Characters of string literals the script's own literal substitutions are replayed on.
MAX_SUBSTITUTED_CHARS = 1 << 22


def _folded_strings(tree: ScriptTree) -> list[tuple[int, str]]:
    """Strings an obfuscator split up, put back together (text only, nothing is run).

    * ``"Scr" + "ipting" + ".FileSystemObject"`` -> one string;
    * ``"WxSxcxrxipt".replace(/x/g, "")`` with a simple literal pattern -> ``"WScript"``;
    * ``"a,b,c".split(",").join("")`` -> ``"abc"``.
    """
    out: list[tuple[int, str]] = []
    types = tree.leaf_type
    texts = tree.leaf_text
    pos = tree.leaf_pos
    kinds = tree.kinds
    n = len(types)
    run: list[str] = []
    start = -1
    for i in range(n - 1):
        if types[i] != STRING:
            continue
        j = i + 1
        joined = False
        if types[j] == STRING and pos[j] - pos[i] <= 8:
            between = kinds[pos[i] + 1 : pos[j]]
            joined = between.count(_PLUS) == 1 and all(k in (_PLUS, CLOSE) for k in between)
        if joined:
            if not run:
                run = [texts[i]]
                start = pos[i]
            if sum(map(len, run)) < MAX_FOLDED_CHARS:
                run.append(texts[j])
        elif run:
            out.append((start, "".join(run)[:MAX_FOLDED_CHARS]))
            run = []
    if run:
        out.append((start, "".join(run)[:MAX_FOLDED_CHARS]))
    # Literal substitutions the script applies (``.replace(/junk/g, "%")``,
    # ``.split("junk").join("%")``), then applied to every long string that has the pattern.
    subs: list[tuple[re.Pattern[str] | str, str]] = []
    for i in range(1, n - 2):
        if types[i] != PROP:
            continue
        if texts[i] == "replace" and types[i + 2] == STRING:
            if (
                types[i + 1] == REGEX
                and len(texts[i + 1]) <= 40
                and _SAFE_REGEX.match(texts[i + 1])
            ):
                with contextlib.suppress(re.error):
                    subs.append((re.compile(texts[i + 1]), texts[i + 2]))
            elif types[i + 1] == STRING and texts[i + 1]:
                subs.append((texts[i + 1], texts[i + 2]))
        elif texts[i] == "split" and types[i + 1] == STRING and texts[i + 1]:
            glue = (
                texts[i + 3]
                if i + 3 < n and texts[i + 2] == "join" and types[i + 3] == STRING
                else ""
            )
            subs.append((texts[i + 1], glue))
        if len(subs) >= 8:
            break
    if subs:
        budget = MAX_SUBSTITUTED_CHARS
        for i in range(n):
            if types[i] != STRING or len(texts[i]) < 16:
                continue
            text = texts[i][:MAX_FOLDED_CHARS]
            budget -= len(text) * len(subs)
            if budget < 0:
                break
            for pat, repl in subs:
                if isinstance(pat, str):
                    if pat in text:
                        text = text.replace(pat, repl)
                else:
                    text = pat.sub(lambda _m, r=repl: r, text)  # type: ignore[misc]
            if text != texts[i]:
                out.append((pos[i], text))
    return out
