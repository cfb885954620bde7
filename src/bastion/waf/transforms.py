"""Named text transformations (Coraza/ModSecurity style) and the model's normalization chain.

Every transform is a pure ``str -> str`` function registered by name in :data:`TRANSFORMS`.
:func:`normalize` chains them the way the model expects its input. Everything here runs
in linear time on its input: compiled regexes without nested quantifiers, no recursion.
"""

from __future__ import annotations

import binascii
import re
import unicodedata
from collections.abc import Callable
from html.entities import html5

_normalize_simple: Callable[[str, int], str | None] | None
try:
    from bastion.waf._fastpath import normalize_simple as _normalize_simple
except ImportError:  # pragma: no cover - the C accelerator is optional
    _normalize_simple = None

__all__ = [
    "TRANSFORMS",
    "base64_decode_plausible",
    "cmdline",
    "compress_whitespace",
    "decode_bytes",
    "html_entity_decode",
    "js_decode",
    "lowercase",
    "normalize",
    "normalize_steps",
    "remove_comments",
    "remove_nulls",
    "unicode_fold",
    "url_decode_uni",
    "utf8_fix",
]

_REPLACEMENT = "\ufffd"
_MAX_CODE_POINT = 0x10FFFF

# --------------------------------------------------------------------------- utf8_fix

# Overlong UTF-8 forms: 2-byte C0/C1 lead, 3-byte E0 80-9F, 4-byte F0 80-8F.
_OVERLONG = re.compile(
    rb"[\xc0\xc1][\x80-\xbf]|\xe0[\x80-\x9f][\x80-\xbf]|\xf0[\x80-\x8f][\x80-\xbf]{2}"
)
_LEAD_MASK = {2: 0x1F, 3: 0x0F, 4: 0x07}


def _overlong_to_utf8(match: re.Match[bytes]) -> bytes:
    seq = match.group()
    code = seq[0] & _LEAD_MASK[len(seq)]
    for byte in seq[1:]:
        code = (code << 6) | (byte & 0x3F)
    if 0xD800 <= code <= 0xDFFF:
        return _REPLACEMENT.encode()
    return chr(code).encode()


def decode_bytes(data: bytes) -> str:
    """Decode bytes as UTF-8; overlong forms become the character they encode, bad bytes U+FFFD."""
    try:
        return data.decode()
    except UnicodeDecodeError:
        return _OVERLONG.sub(_overlong_to_utf8, data).decode(errors="replace")


_WIDE_RUN = re.compile(r"([^\x00-\xff]+)")


def utf8_fix(value: str) -> str:
    """:func:`decode_bytes` for text whose code points below 256 stand for bytes.

    This is how byte strings arrive when decoded as latin-1 (e.g. ``"\\xc0\\xaf"`` becomes
    ``"/"``); characters above U+00FF are taken as already decoded and kept.
    """
    if value.isascii():
        return value
    pieces = _WIDE_RUN.split(value)
    data = b"".join(
        piece.encode(errors="surrogatepass") if i % 2 else piece.encode("latin-1")
        for i, piece in enumerate(pieces)
    )
    return decode_bytes(data)


# --------------------------------------------------------------------------- url_decode_uni

_HEX_DIGITS = "0123456789abcdefABCDEF"
_HEX_PAIR_TO_BYTE = {
    (a + b).encode(): bytes([int(a + b, 16)]) for a in _HEX_DIGITS for b in _HEX_DIGITS
}
_HEX4 = re.compile(rb"[0-9A-Fa-f]{4}")


def _code_point_utf8(code: int) -> bytes:
    if 0xD800 <= code <= 0xDFFF:
        return _REPLACEMENT.encode()
    return chr(code).encode()


def url_decode_uni(value: str) -> str:
    """Percent-decode once, including IIS ``%uXXXX``; invalid escapes stay; bytes via UTF-8 fix."""
    if "%" not in value:
        return value
    parts = value.encode(errors="surrogatepass").split(b"%")
    out = [parts[0]]
    append = out.append
    for part in parts[1:]:
        byte = _HEX_PAIR_TO_BYTE.get(part[:2])
        if byte is not None:
            append(byte)
            append(part[2:])
        elif part[:1] in (b"u", b"U") and _HEX4.fullmatch(part, 1, 5):
            append(_code_point_utf8(int(part[1:5], 16)))
            append(part[5:])
        else:
            append(b"%")
            append(part)
    return decode_bytes(b"".join(out))


# --------------------------------------------------------------------------- html_entity_decode

_ENTITY = re.compile(r"&(?:#[xX]([0-9A-Fa-f]+)|#([0-9]+)|([A-Za-z][A-Za-z0-9]{0,31}))(;?)")
# Entities a browser also decodes without the trailing ';' (the common legacy ones).
_BARE_ENTITIES = {
    name: html5[name] for name in ("lt", "gt", "amp", "quot", "nbsp", "LT", "GT", "AMP", "QUOT")
}


def _char_from_number(digits: str, base: int) -> str | None:
    digits = digits.lstrip("0") or "0"
    if len(digits) > 7:
        return None
    code = int(digits, base)
    if code > _MAX_CODE_POINT:
        return None
    if code == 0 or 0xD800 <= code <= 0xDFFF:
        return _REPLACEMENT
    return chr(code)


def _entity_replacement(match: re.Match[str]) -> str:
    hex_digits, dec_digits, name, semi = match.groups()
    if name is None:
        char = (
            _char_from_number(hex_digits, 16) if hex_digits else _char_from_number(dec_digits, 10)
        )
        return match.group() if char is None else char
    if semi:
        named = html5.get(name + ";")
        if named is not None:
            return named
    for end in range(len(name), 1, -1):
        bare = _BARE_ENTITIES.get(name[:end])
        if bare is not None:
            return bare + name[end:] + semi
    return match.group()


def html_entity_decode(value: str) -> str:
    """Decode HTML character references: named, ``&#60;``, ``&#x3c;``, ``&#0000060``, ``&lt``."""
    if "&" not in value:
        return value
    return _ENTITY.sub(_entity_replacement, value)


# --------------------------------------------------------------------------- js_decode

# ``\\`` is matched (and kept) as a unit so that an escaped backslash never starts an escape.
_JS_ESCAPE = re.compile(
    r"\\(?:(\\)|u\{([0-9A-Fa-f]{1,6})\}|u([0-9A-Fa-f]{4})|x([0-9A-Fa-f]{2})|([0-3][0-7]{2}|[0-7]{2}))"
)


def _js_replacement(match: re.Match[str]) -> str:
    backslash, braced, u4, x2, octal = match.groups()
    if backslash:
        return match.group()
    if braced:
        code = int(braced, 16)
        if code > _MAX_CODE_POINT:
            return match.group()
    elif u4:
        code = int(u4, 16)
    elif x2:
        code = int(x2, 16)
    else:
        code = int(octal, 8)
    if 0xD800 <= code <= 0xDFFF:
        return _REPLACEMENT
    return chr(code)


def js_decode(value: str) -> str:
    """Decode JavaScript escapes ``\\uXXXX``, ``\\u{X..}``, ``\\xXX`` and octal ``\\074``.

    A backslash before any other character is kept (shell payloads rely on it).
    """
    if "\\" not in value:
        return value
    return _JS_ESCAPE.sub(_js_replacement, value)


# --------------------------------------------------------------------------- base64

_B64_RUN = re.compile(r"[A-Za-z0-9+/_-]{16,}={0,2}")
_B64_URL_TO_STD = str.maketrans("-_", "+/", "=")
_B64_MAX_RUN_CHARS = 65536
_B64_MAX_RUNS_EXAMINED = 16
_B64_MAX_APPENDED = 4
_NON_PRINTABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd]")
_NON_ALNUM = re.compile(r"[\W_]")


def _decode_b64_run(run: str) -> str | None:
    # Base64 of text of this length mixes upper and lower case; single-case runs are hex ids,
    # paths or words, and decoding them would only cost time.
    if not run.endswith("=") and (run.islower() or run.isupper() or run.isdigit()):
        return None
    data = run[:_B64_MAX_RUN_CHARS].translate(_B64_URL_TO_STD)
    if len(data) % 4 == 1:
        data = data[:-1]
    try:
        text = binascii.a2b_base64(data + "=" * (-len(data) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    if not text or len(_NON_PRINTABLE.findall(text)) * 10 > len(text):
        return None
    if _NON_ALNUM.search(text) is None:
        return None
    return text


def _base64_texts(value: str) -> list[str]:
    texts: list[str] = []
    for examined, match in enumerate(_B64_RUN.finditer(value)):
        if examined == _B64_MAX_RUNS_EXAMINED:
            break
        text = _decode_b64_run(match.group())
        if text is not None:
            texts.append(text)
            if len(texts) == _B64_MAX_APPENDED:
                break
    return texts


def base64_decode_plausible(value: str) -> str:
    """Append ``" " + decoded`` for base64(url) runs (>= 16 chars) that decode to plausible text.

    Plausible means valid UTF-8, at least 90% printable, with a non-alphanumeric character.
    At most 4 decoded runs are appended; the original text is kept.
    """
    texts = _base64_texts(value)
    if not texts:
        return value
    return value + "".join(" " + text for text in texts)


# --------------------------------------------------------------------------- simple transforms


def unicode_fold(value: str) -> str:
    """NFKC-normalize non-ASCII text (fullwidth ``＜`` becomes ``<``, ligatures split...)."""
    if value.isascii():
        return value
    return unicodedata.normalize("NFKC", value)


def lowercase(value: str) -> str:
    """Lowercase the text."""
    return value.lower()


def remove_nulls(value: str) -> str:
    """Delete NUL characters."""
    return value.replace("\x00", "")


_COMMENT = re.compile(r"/\*(!?)(.*?)(?:\*/|\Z)", re.DOTALL)


def _comment_replacement(match: re.Match[str]) -> str:
    # MySQL runs the body of a ``/*! ... */`` comment as code: keep it (without the version).
    if match.group(1):
        return " " + match.group(2).lstrip("0123456789") + " "
    return " "


def remove_comments(value: str) -> str:
    """Replace each ``/* ... */`` comment (an unterminated one runs to the end) by one space.

    The body of a MySQL executable comment ``/*!50000 select*/`` is kept between spaces.
    """
    if "/*" not in value:
        return value
    return _COMMENT.sub(_comment_replacement, value)


_HORIZONTAL_SPACE = re.compile(r"[^\S\r\n]+")
_NEWLINE_RUN = re.compile(r" ?[\r\n]\s*")


def compress_whitespace(value: str) -> str:
    """Collapse whitespace runs to one space (one ``\\n`` if the run has a line break); trim."""
    if value.isprintable() and "  " not in value and value[:1] != " " and value[-1:] != " ":
        return value
    value = _HORIZONTAL_SPACE.sub(" ", value)
    if "\n" in value or "\r" in value:
        value = _NEWLINE_RUN.sub("\n", value)
    return value.strip()


_CMDLINE_TABLE = str.maketrans({"\\": None, '"': None, "'": None, "^": None, ",": " ", ";": " "})
_SPACE_RUN = re.compile(r"\s+")
_SPACE_BEFORE = re.compile(r" (?=[/(])")


def cmdline(value: str) -> str:
    """ModSecurity ``cmdLine``: drop ``\\ " ' ^``, ``,;`` to space, squeeze spaces, lowercase."""
    value = _SPACE_RUN.sub(" ", value.translate(_CMDLINE_TABLE))
    return _SPACE_BEFORE.sub("", value).lower()


#: Every transform by its ModSecurity-like name.
TRANSFORMS: dict[str, Callable[[str], str]] = {
    "url_decode_uni": url_decode_uni,
    "utf8_fix": utf8_fix,
    "html_entity_decode": html_entity_decode,
    "js_decode": js_decode,
    "base64_decode_plausible": base64_decode_plausible,
    "unicode_fold": unicode_fold,
    "lowercase": lowercase,
    "remove_nulls": remove_nulls,
    "remove_comments": remove_comments,
    "compress_whitespace": compress_whitespace,
    "cmdline": cmdline,
}

# --------------------------------------------------------------------------- normalize

_DECODERS: tuple[tuple[str, Callable[[str], str]], ...] = (
    ("url_decode_uni", url_decode_uni),
    ("html_entity_decode", html_entity_decode),
    ("js_decode", js_decode),
)
_FINISHERS: tuple[tuple[str, Callable[[str], str]], ...] = (
    ("unicode_fold", unicode_fold),
    ("remove_nulls", remove_nulls),
    ("lowercase", lowercase),
    ("remove_comments", remove_comments),
    ("compress_whitespace", compress_whitespace),
)
# Printable ASCII except what some step could change: % & * \ and uppercase letters.
_INERT_CHARS = re.compile(r"[ -$'-)+-@\[\]-~]*")


def _is_normal(value: str) -> bool:
    """Cheap check that the chain would leave ``value`` as it is."""
    return (
        _INERT_CHARS.fullmatch(value) is not None
        and "  " not in value
        and value[:1] != " " != value[-1:]
        and (len(value) < 16 or _B64_RUN.search(value) is None)
    )


def _decode_once(value: str) -> str:
    for _, decoder in _DECODERS:
        value = decoder(value)
    return value


def _chain(
    value: str | bytes, max_chars: int, max_depth: int, steps: list[tuple[str, str]] | None
) -> str:
    limit = 4 * max_chars
    if isinstance(value, bytes):
        text = decode_bytes(value[: 4 * limit])[:limit]
        if steps is not None:
            steps.append(("utf8_fix", text))
    else:
        text = value[:limit]
        if steps is not None and len(text) < len(value):
            steps.append(("truncate", text))

    for _ in range(max_depth):
        before = text
        for name, decoder in _DECODERS:
            out = decoder(text)
            if steps is not None and out != text:
                steps.append((name, out))
            text = out
        if text == before:
            break

    decoded = _base64_texts(text)
    if decoded:
        text += "".join(" " + _decode_once(extra) for extra in decoded)
        if steps is not None:
            steps.append(("base64_decode_plausible", text))

    for name, finisher in _FINISHERS:
        out = finisher(text)
        if steps is not None and out != text:
            steps.append((name, out))
        text = out

    if len(text) > max_chars:
        text = text[:max_chars]
        if steps is not None:
            steps.append(("truncate", text))
    return text


def normalize(value: str | bytes, *, max_chars: int = 8192, max_depth: int = 4) -> str:
    """The model's normalization chain; the result has at most ``max_chars`` characters.

    Input is cut to ``4 * max_chars`` characters, then decoded (URL, HTML entities, JS
    escapes) up to ``max_depth`` times until stable, plausible base64 runs are appended,
    then NFKC fold, NUL removal, lowercase, comment removal and whitespace compression.
    A ``+`` is not turned into a space here.
    """
    if isinstance(value, str):
        if _is_normal(value):
            return value[:max_chars]
        if _normalize_simple is not None:
            # C fast path for plain ASCII text the chain only lowercases, uncomments and
            # squeezes; None means it needs the full chain.
            fast = _normalize_simple(value, max_chars)
            if fast is not None:
                return fast
    return _chain(value, max_chars, max_depth, None)


def normalize_steps(
    value: str | bytes, *, max_chars: int = 8192, max_depth: int = 4
) -> list[tuple[str, str]]:
    """The steps of :func:`normalize` that changed the text, as ``(transform name, output)``.

    Cutting to length shows as a ``truncate`` step. The last output is ``normalize(value)``;
    bytes input always starts with a ``utf8_fix`` step, and an empty list means that the
    text was already normal.
    """
    steps: list[tuple[str, str]] = []
    _chain(value, max_chars, max_depth, steps)
    return steps
