"""Find the inputs of a request: path, query, body fields, cookies and headers.

Each input is the text of one place a client controls, after structural parsing only
(query/form values percent-decoded once, JSON strings unescaped); the model's
normalization (:func:`bastion.waf.transforms.normalize`) comes later. Parsing never
raises and is bounded by :class:`InputLimits` in time and memory.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from urllib.parse import unquote_to_bytes

from bastion.waf.request import HttpRequest
from bastion.waf.transforms import decode_bytes

__all__ = [
    "DEFAULT_LIMITS",
    "ExtractedInputs",
    "Input",
    "InputLimits",
    "extract_inputs",
    "native_tables",
]


class Input(NamedTuple):
    """One client-controlled text of a request (a named tuple: built per input, so cheap).

    ``location`` names the place (``"path"``, ``"query:id"``, ``"querykey:id"``, ``"query"``,
    ``"body:form:name"``, ``"body:formkey:name"``, ``"body:form"``, ``"body:json:$.a.b[0]"``,
    ``"body:jsonkey:$['k']"``, ``"body:multipart:field"``, ``"body:multipart:field:filename"``,
    ``"body:raw"``, ``"cookie:sid"``, ``"cookiekey:sid"``, ``"header:user-agent"``); ``kind``
    is the model's context (``"path"``, ``"value"``, ``"header"`` or ``"raw"``); ``value`` is
    the text after structural parsing, not yet normalized.
    """

    location: str
    kind: str
    value: str


@dataclass(frozen=True, slots=True)
class InputLimits:
    """Bounds on the work done per request; exceeding one sets ``truncated``."""

    max_inputs: int = 256
    max_body_bytes: int = 131072
    max_value_chars: int = 8192
    max_json_depth: int = 32
    max_uri_chars: int = 16384


DEFAULT_LIMITS = InputLimits()


@dataclass(frozen=True, slots=True)
class ExtractedInputs:
    """The inputs of a request, and whether some part was cut or skipped because of a limit."""

    inputs: list[Input]
    truncated: bool


# Parameter/key names made only of these characters are not inputs themselves.
_ODD_NAME = re.compile(r"[^A-Za-z0-9_.\-\[\]]")
_PLAIN_JSON_KEY = re.compile(r"[A-Za-z0-9_]+")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]")
_BOUNDARY = re.compile(r"""boundary\s*=\s*(?:"([^"]{1,200})"|([^\s;,"]{1,200}))""", re.IGNORECASE)
_DISPOSITION_PARAM = re.compile(
    r""";\s*([A-Za-z0-9_*\-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))""", re.DOTALL
)
_PART_HEAD_END = re.compile(rb"(?:\A|\r?\n)\r?\n")
#: Longest parameter/key name kept in a location string.
_MAX_NAME_CHARS = 128
_SNIFF_BYTES = 1024

_MEDIA_RANGE = r"[A-Za-z0-9*/+.\-_]+(?:\s*;\s*[A-Za-z]+=[0-9A-Za-z.\-_]+)*"
_MEDIA_RANGES = re.compile(f"{_MEDIA_RANGE}(?:\\s*,\\s*{_MEDIA_RANGE})*")
_PARAM_VALUE = r"(?:\"[\w'()+,\-./:=? ]{0,200}\"|[\w'()+\-./:=?]{0,200})"
_DIRECTIVE = r"[a-z\-]+(?:=[0-9A-Za-z\-\"]+)?"
_HTTP_DATE = re.compile(r"[A-Za-z]{3},? \d{1,2}[ \-][A-Za-z]{3}[ \-]\d{2,4} \d\d:\d\d:\d\d GMT")
_ETAGS = re.compile(r'\*|(?:W/)?"[A-Za-z0-9_.:+/=\-]*"(?:\s*,\s*(?:W/)?"[A-Za-z0-9_.:+/=\-]*")*')
_IP_LIST = re.compile(r"[0-9A-Fa-f.:\[\], ]{1,512}")
_KV_LIST = re.compile(r"[A-Za-z0-9_\-@*/.=%:,]{1,1024}")

#: Headers with a fixed grammar: a value that matches is not scored (nothing can hide in it);
#: a value that does not match is scored like any other header.
_WELL_FORMED_HEADERS: dict[str, re.Pattern[str]] = {
    "host": re.compile(r"[A-Za-z0-9.\-]{1,253}(?::\d{1,5})?|\[[0-9A-Fa-f:.]+\](?::\d{1,5})?"),
    "origin": re.compile(r"null|https?://[A-Za-z0-9.\-]{1,253}(?::\d{1,5})?"),
    "content-length": re.compile(r"\d{1,20}"),
    "content-type": re.compile(rf"[\w.+\-]+/[\w.+\-]+(?:\s*;\s*[\w\-]+={_PARAM_VALUE})*"),
    "accept": _MEDIA_RANGES,
    "accept-encoding": _MEDIA_RANGES,
    "accept-language": _MEDIA_RANGES,
    "accept-charset": _MEDIA_RANGES,
    "te": _MEDIA_RANGES,
    "cache-control": re.compile(
        r"[a-z\-]+(?:=[0-9A-Za-z\-\"]+)?(?:\s*,\s*[a-z\-]+(?:=[0-9A-Za-z\-\"]+)?)*"
    ),
    "pragma": re.compile(r"[A-Za-z\-]{1,32}"),
    "connection": re.compile(r"[A-Za-z\-]+(?:\s*,\s*[A-Za-z\-]+)*"),
    "upgrade-insecure-requests": re.compile(r"[01]"),
    "dnt": re.compile(r"[01]"),
    "sec-gpc": re.compile(r"[01]"),
    "save-data": re.compile(r"on|off"),
    "priority": re.compile(r"(?:u=\d|i)(?:\s*,\s*(?:u=\d|i))*"),
    "range": re.compile(r"bytes=[\d\-, ]{1,256}"),
    "if-modified-since": _HTTP_DATE,
    "if-unmodified-since": _HTTP_DATE,
    "date": _HTTP_DATE,
    "if-none-match": _ETAGS,
    "if-match": _ETAGS,
    "x-forwarded-for": _IP_LIST,
    "x-real-ip": _IP_LIST,
    "true-client-ip": _IP_LIST,
    "cf-connecting-ip": _IP_LIST,
    "x-forwarded-proto": re.compile(r"https?"),
    "x-forwarded-port": re.compile(r"\d{1,5}"),
    "traceparent": re.compile(r"[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}"),
    "x-amzn-trace-id": re.compile(r"[A-Za-z0-9=;\-]{1,256}"),
    "x-request-id": re.compile(r"[A-Za-z0-9_\-.]{1,128}"),
    "tracestate": _KV_LIST,
    "baggage": _KV_LIST,
    "via": re.compile(r"[A-Za-z0-9./ ,:\-]{1,256}"),
    "forwarded": re.compile(r"[A-Za-z0-9=;,.\"\[\]:\- ]{1,512}"),
}
#: Client-hint headers: quoted brand lists and booleans.
_CLIENT_HINT_PREFIXES = ("sec-fetch-", "sec-ch-")
_CLIENT_HINT = re.compile(r'[A-Za-z0-9 "?;=,.\-_()/]{0,512}')


def header_is_well_formed(name: str, value: str) -> bool:
    """True for a header whose value matches its fixed grammar (so it need not be scored)."""
    pattern = _WELL_FORMED_HEADERS.get(name)
    if pattern is None:
        if not name.startswith(_CLIENT_HINT_PREFIXES):
            return False
        pattern = _CLIENT_HINT
    return pattern.fullmatch(value) is not None


_BINARY_PREFIXES = ("image/", "video/", "audio/", "font/")
_BINARY_TYPES = frozenset(
    {
        "application/octet-stream",
        "application/zip",
        "application/pdf",
        "application/gzip",
        "application/x-gzip",
        "application/x-tar",
        "application/x-bzip2",
        "application/x-7z-compressed",
        "application/x-rar-compressed",
        "application/wasm",
        "application/protobuf",
        "application/x-protobuf",
        "application/grpc",
        "application/msgpack",
        "application/x-msgpack",
        "application/cbor",
    }
)
_TEXT_TYPES = frozenset(
    {"application/json", "application/xml", "application/javascript", "application/graphql"}
)
_TEXT_PREFIXES = ("text/",)
_TEXT_SUFFIXES = ("+json", "+xml", "/json", "/xml")
_JSON_SUFFIXES = ("/json", "+json")


def _no_surrogates(text: str) -> str:
    """Replace lone surrogates (JSON ``\\ud800``, odd request text) so the text encodes."""
    if _SURROGATE.search(text) is None:
        return text
    return _SURROGATE.sub("\ufffd", text)


class _Full(Exception):
    """Raised inside the collector when ``max_inputs`` is reached and more inputs follow."""


@dataclass(slots=True)
class _Collector:
    limits: InputLimits
    inputs: list[Input] = field(default_factory=list)
    seen: set[tuple[str, str]] = field(default_factory=set)
    truncated: bool = False

    def add(self, location: str, kind: str, value: str) -> None:
        if len(value) > self.limits.max_value_chars:
            value = value[: self.limits.max_value_chars]
            self.truncated = True
        if not value.isascii():
            value = _no_surrogates(value)
        if not location.isascii():
            location = _no_surrogates(location)
        key = (location, value)
        if key in self.seen:
            return
        if len(self.inputs) >= self.limits.max_inputs:
            self.truncated = True
            raise _Full
        self.seen.add(key)
        self.inputs.append(Input(location, kind, value))

    def text(self, data: bytes) -> str:
        """Decode at most ``4 * max_value_chars`` bytes (no longer value can be kept anyway)."""
        cap = 4 * self.limits.max_value_chars
        if len(data) > cap:
            data = data[:cap]
            self.truncated = True
        return decode_bytes(data)

    def unquote_plus(self, text: str) -> str:
        """Form-decode (``+`` is a space, ``%XX`` once) at most ``4 * max_value_chars`` chars."""
        cap = 4 * self.limits.max_value_chars
        if len(text) > cap:
            text = text[:cap]
            self.truncated = True
        text = text.replace("+", " ")
        if "%" not in text:
            return text
        return decode_bytes(unquote_to_bytes(text.encode(errors="surrogatepass")))


def extract_inputs(request: HttpRequest, limits: InputLimits = DEFAULT_LIMITS) -> ExtractedInputs:
    """All inputs of ``request`` in order path, query, body, cookies, headers (deduplicated)."""
    out = _Collector(limits)
    try:
        uri = request.uri
        if len(uri) > limits.max_uri_chars:
            uri = uri[: limits.max_uri_chars]
            out.truncated = True
        path, _, query = uri.partition("#")[0].partition("?")
        if path and path != "/":
            out.add("path", "path", path)
        if query:
            _add_urlencoded(out, query, "query", "querykey")
        _add_body(out, request)
        _add_cookies_and_headers(out, request.headers)
    except _Full:
        pass
    return ExtractedInputs(out.inputs, out.truncated)


# --------------------------------------------------------------------------- urlencoded


def _add_urlencoded(out: _Collector, text: str, prefix: str, key_prefix: str) -> None:
    if "=" not in text:
        out.add(prefix, "value", out.unquote_plus(text))
        return
    for pair in text.split("&"):
        if not pair:
            continue
        raw_name, _, raw_value = pair.partition("=")
        name = out.unquote_plus(raw_name)
        short = name[:_MAX_NAME_CHARS]
        if _ODD_NAME.search(name):
            out.add(f"{key_prefix}:{short}", "value", name)
        out.add(f"{prefix}:{short}", "value", out.unquote_plus(raw_value))


# --------------------------------------------------------------------------- body


def _media_type(content_type: str) -> str:
    return content_type.partition(";")[0].strip().lower()


def _is_binary_type(media: str) -> bool:
    return media.startswith(_BINARY_PREFIXES) or media in _BINARY_TYPES


def _is_text_type(media: str) -> bool:
    return (
        media.startswith(_TEXT_PREFIXES) or media in _TEXT_TYPES or media.endswith(_TEXT_SUFFIXES)
    )


def _looks_binary(data: bytes) -> bool:
    """More than 30% of the first KiB is control characters or invalid UTF-8."""
    head = decode_bytes(data[:_SNIFF_BYTES])
    return len(_UNPRINTABLE.findall(head)) * 10 > 3 * len(head)


def _add_body(out: _Collector, request: HttpRequest) -> None:
    body = request.body
    if not body:
        return
    if len(body) > out.limits.max_body_bytes:
        body = body[: out.limits.max_body_bytes]
        out.truncated = True
    content_type = request.header("content-type") or ""
    media = _media_type(content_type)
    if _is_binary_type(media):
        return
    if media == "application/x-www-form-urlencoded":
        _add_urlencoded(out, decode_bytes(body), "body:form", "body:formkey")
        return
    if media == "multipart/form-data":
        boundary = _BOUNDARY.search(content_type)
        if boundary is not None:
            delimiter = b"--" + (boundary.group(1) or boundary.group(2)).encode(
                errors="surrogatepass"
            )
            if delimiter in body:
                _add_multipart(out, body, delimiter)
                return
    json_typed = media.endswith(_JSON_SUFFIXES)
    if json_typed or body.lstrip()[:1] in (b"{", b"["):
        text = decode_bytes(body)
        try:
            doc = json.loads(text, parse_int=_no_number, parse_float=_no_number)
        except (ValueError, RecursionError):
            pass
        else:
            _add_json(out, doc)
            return
    if _is_text_type(media) or not _looks_binary(body):
        out.add("body:raw", "raw", out.text(body))


def _no_number(_: str) -> None:
    """JSON numbers are not inputs: skip converting them (and the int size limit)."""


#: What ``json.loads(text, parse_int=_no_number, parse_float=_no_number)`` builds per call;
#: the C extraction runs its ``scan_once`` as ``JSONDecoder.decode`` does.
_JSON_DECODER = json.JSONDecoder(parse_int=_no_number, parse_float=_no_number)


def _json_key_path(path: str, key: str) -> str:
    if _PLAIN_JSON_KEY.fullmatch(key):
        return f"{path}.{key[:_MAX_NAME_CHARS]}"
    quoted = key[:_MAX_NAME_CHARS].replace("\\", "\\\\").replace("'", "\\'")
    return f"{path}['{quoted}']"


def _add_json(out: _Collector, doc: Any) -> None:
    """Walk the document iteratively in document order: string leaves and odd keys."""
    # Entries: (path, node, depth, the object key leading to the node or None).
    stack: list[tuple[str, Any, int, str | None]] = [("$", doc, 0, None)]
    max_depth = out.limits.max_json_depth
    while stack:
        path, node, depth, key = stack.pop()
        if key is not None and _ODD_NAME.search(key):
            out.add(f"body:jsonkey:{path}", "value", key)
        if isinstance(node, str):
            out.add(f"body:json:{path}", "value", node)
        elif isinstance(node, dict | list):
            if depth >= max_depth:
                out.truncated = True
            elif isinstance(node, dict):
                items = [(_json_key_path(path, k), v, depth + 1, k) for k, v in node.items()]
                stack.extend(reversed(items))
            else:
                items = [(f"{path}[{i}]", v, depth + 1, None) for i, v in enumerate(node)]
                stack.extend(reversed(items))


def _iter_parts(body: bytes, delimiter: bytes) -> Iterator[tuple[bytes, bytes]]:
    """``(headers, content)`` of each part; stops at the closing delimiter."""
    chunks = body.split(delimiter)
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            return
        # The delimiter line ends with CRLF; the CRLF before the next delimiter belongs to it.
        chunk = chunk.partition(b"\n")[2]
        if chunk.endswith(b"\r\n"):
            chunk = chunk[:-2]
        elif chunk.endswith(b"\n"):
            chunk = chunk[:-1]
        head_end = _PART_HEAD_END.search(chunk)
        if head_end is None:
            yield chunk, b""
        else:
            yield chunk[: head_end.start()], chunk[head_end.end() :]


def _part_headers(head: bytes) -> tuple[dict[str, str], str]:
    """The Content-Disposition parameters (lower-cased names) and the media type of a part."""
    params: dict[str, str] = {}
    media = ""
    for line in decode_bytes(head).splitlines():
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-disposition":
            for match in _DISPOSITION_PARAM.finditer(value):
                quoted, bare = match.group(2), match.group(3)
                params.setdefault(
                    match.group(1).lower(), bare.strip() if quoted is None else quoted
                )
        elif name == "content-type":
            media = _media_type(value)
    return params, media


def _add_multipart(out: _Collector, body: bytes, delimiter: bytes) -> None:
    for head, content in _iter_parts(body, delimiter):
        params, media = _part_headers(head)
        name = params.get("name", "")[:_MAX_NAME_CHARS]
        filename = params.get("filename", params.get("filename*"))
        if filename is None:
            if content and not _is_binary_type(media):
                out.add(f"body:multipart:{name}", "value", out.text(content))
            continue
        if filename:
            out.add(f"body:multipart:{name}:filename", "value", filename)
        if content and (not media or _is_text_type(media)):
            try:
                text = content.decode()
            except UnicodeDecodeError:
                continue
            out.add(f"body:multipart:{name}", "value", text)


# --------------------------------------------------------------------------- cookies, headers


def _add_cookies_and_headers(out: _Collector, headers: tuple[tuple[str, str], ...]) -> None:
    for raw_name, value in headers:
        if raw_name.lower() != "cookie":
            continue
        for piece in value.split(";"):
            piece = piece.strip()
            if not piece:
                continue
            name, eq, cookie = piece.partition("=")
            if not eq:
                name, cookie = "", piece
            name = name.strip()
            short = name[:_MAX_NAME_CHARS]
            if _ODD_NAME.search(name):
                out.add(f"cookiekey:{short}", "value", name)
            out.add(f"cookie:{short}", "value", cookie.strip())
    for raw_name, value in headers:
        name = raw_name.lower()
        if name == "cookie" or header_is_well_formed(name, value):
            continue
        out.add(f"header:{name[:_MAX_NAME_CHARS]}", "header", value)


# --------------------------------------------------------------------------- C extraction


def native_tables(limits: InputLimits = DEFAULT_LIMITS) -> dict[str, object]:
    """The tables and fall-backs the C extraction (``_fastpath.Pipeline``) works from.

    Handing them over keeps this module the single definition of what an input is; the C
    code calls :func:`extract_inputs` itself for what it leaves to Python (multipart
    bodies, very deeply nested JSON, request objects that are not plain ``HttpRequest``).
    """
    return {
        "max_inputs": limits.max_inputs,
        "max_body_bytes": limits.max_body_bytes,
        "max_value_chars": limits.max_value_chars,
        "max_json_depth": limits.max_json_depth,
        "max_uri_chars": limits.max_uri_chars,
        "max_name_chars": _MAX_NAME_CHARS,
        "sniff_bytes": _SNIFF_BYTES,
        "binary_prefixes": _BINARY_PREFIXES,
        "binary_types": sorted(_BINARY_TYPES),
        "text_prefixes": _TEXT_PREFIXES,
        "text_types": sorted(_TEXT_TYPES),
        "text_suffixes": _TEXT_SUFFIXES,
        "json_suffixes": _JSON_SUFFIXES,
        "well_formed": _WELL_FORMED_HEADERS,
        "client_hint_prefixes": _CLIENT_HINT_PREFIXES,
        "client_hint": _CLIENT_HINT,
        "json_scan": _JSON_DECODER.scan_once,  # type: ignore[attr-defined]  # not in typeshed
        "request_type": HttpRequest,
        "extract": extract_inputs,
        "limits": limits,
    }
