"""From raw file bytes to the JavaScript text to analyse.

Handles byte-order marks and UTF-16, refuses binary data, bounds the size analysed
(the head and the tail of a huge file), and pulls the scripts out of HTML pages:
``<script>`` bodies, inline ``on*=`` event handlers, ``javascript:`` URLs, and the
``src`` of external scripts, which become a one-line loader statement so that a page
that only injects a remote script still has something to classify.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

#: Files larger than this are refused outright (they are not scripts a page loads).
MAX_FILE_BYTES = 256 * 1024 * 1024
#: At most this many bytes are parsed: the first ``HEAD_BYTES`` and the last ``TAIL_BYTES``.
HEAD_BYTES = 2 * 1024 * 1024
TAIL_BYTES = 1024 * 1024


class SourceError(ValueError):
    """The input cannot be analysed as JavaScript (binary, too large, empty)."""


@dataclass(frozen=True, slots=True)
class ScriptSource:
    """JavaScript to parse: one or more UTF-8 chunks of one input file."""

    chunks: tuple[bytes, ...]
    container: str  # "js" or "html"
    truncated: bool
    size: int  # bytes of the original input

    @property
    def nbytes(self) -> int:
        return sum(len(c) for c in self.chunks)


_BOMS: tuple[tuple[bytes, str], ...] = (
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)

_HTML_START = re.compile(
    rb"\s*<(?:!doctype|html|head|body|script|meta|title|div|iframe|p|span|a|form|link|style|"
    rb"noscript|center|table|img|!--)[\s>/]",
    re.IGNORECASE,
)
_SCRIPT_BLOCK = re.compile(rb"<script\b([^>]*)>(.*?)(?:</script\s*>|\Z)", re.IGNORECASE | re.DOTALL)
_SRC_ATTR = re.compile(rb"""\bsrc\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE)
_TYPE_ATTR = re.compile(rb"""\btype\s*=\s*["']?([^"'\s>]+)""", re.IGNORECASE)
_HANDLER_ATTR = re.compile(
    rb"""\son[a-z]{3,20}\s*=\s*(?:"([^"]{1,20000})"|'([^']{1,20000})')""", re.IGNORECASE
)
_JS_URL = re.compile(rb"""["']\s*javascript:([^"']{1,20000})["']""", re.IGNORECASE)
_JS_TYPES = frozenset(
    {
        b"text/javascript",
        b"application/javascript",
        b"module",
        b"text/ecmascript",
        b"application/x-javascript",
        b"text/jscript",
        b"text/babel",
    }
)


def _transcode(data: bytes) -> bytes:
    """UTF-8 bytes of ``data``: BOMs removed, UTF-16/32 converted."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            if codec == "utf-8":
                return data[len(bom) :]
            return data[len(bom) :].decode(codec, "replace").encode("utf-8", "replace")
    return data


def _looks_binary(data: bytes) -> bool:
    head = data[:8192]
    if not head:
        return False
    nul = head.count(0)
    if nul > len(head) // 100:
        return True
    # Control bytes other than tab/newline/carriage return/form feed/escape.
    ctrl = sum(head.count(b) for b in (1, 2, 3, 4, 5, 6, 7, 8, 14, 15, 16, 17, 18, 19, 20))
    return ctrl > len(head) // 20


def is_html(data: bytes) -> bool:
    """True when the text is an HTML page or fragment rather than a bare script."""
    return _HTML_START.match(data, 0, 4096) is not None


def extract_html_scripts(data: bytes) -> bytes:
    """The JavaScript of an HTML page, one piece per line.

    Inline script bodies (of JavaScript types), event-handler attributes and
    ``javascript:`` URLs are entity-decoded where they live in attributes; each external
    script source becomes ``document.createElement("script").src = "URL";``.
    """
    parts: list[bytes] = []
    for m in _SCRIPT_BLOCK.finditer(data):
        attrs, body = m.group(1), m.group(2)
        t = _TYPE_ATTR.search(attrs)
        if t is not None and t.group(1).lower() not in _JS_TYPES:
            continue
        src = _SRC_ATTR.search(attrs)
        if src is not None:
            url = next(g for g in src.groups() if g is not None)
            url = html.unescape(url.decode("utf-8", "replace")).replace("\\", "\\\\")
            url = url.replace('"', '\\"').replace("\n", " ")
            parts.append(f'document.createElement("script").src = "{url}";'.encode())
        if body.strip():
            body = body.strip()
            # Scripts hidden from old browsers: <!-- ... //-->
            if body.startswith(b"<!--"):
                body = body[4:]
            parts.append(body)
    outside = _SCRIPT_BLOCK.sub(b" ", data)
    for m in _HANDLER_ATTR.finditer(outside):
        code = m.group(1) if m.group(1) is not None else m.group(2)
        parts.append(html.unescape(code.decode("utf-8", "replace")).encode("utf-8") + b";")
    for m in _JS_URL.finditer(outside):
        parts.append(html.unescape(m.group(1).decode("utf-8", "replace")).encode("utf-8") + b";")
    return b"\n".join(parts)


def prepare(data: bytes) -> ScriptSource:
    """The script text of one input file, bounded in size.

    Raises :class:`SourceError` for binary data and files over ``MAX_FILE_BYTES``.
    """
    size = len(data)
    if size > MAX_FILE_BYTES:
        raise SourceError(f"file of {size} bytes is larger than {MAX_FILE_BYTES}")
    text = _transcode(data)
    if _looks_binary(text):
        raise SourceError("binary data, not JavaScript or HTML")
    container = "js"
    if is_html(text):
        container = "html"
        text = extract_html_scripts(text)
    truncated = len(text) > HEAD_BYTES + TAIL_BYTES
    if truncated:
        chunks: tuple[bytes, ...] = (text[:HEAD_BYTES], text[-TAIL_BYTES:])
    else:
        chunks = (text,)
    return ScriptSource(chunks=chunks, container=container, truncated=truncated, size=size)
