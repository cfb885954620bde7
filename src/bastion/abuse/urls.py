"""URL canonicalization: one spelling per resource, so reports about it land in one case.

:func:`canonicalize_url` applies, in order:

* surrounding whitespace stripped; a URL without a scheme (``shop.example/x``) gets
  ``http://``; only ``http`` and ``https`` are accepted;
* the scheme and host lower-cased; user info (``user:pass@``, a phishing disguise) dropped;
  the host percent-decoded, mapped with UTS 46 and each non-ASCII label IDNA-encoded
  (punycode ``xn--``); ``xn--`` labels must decode; a trailing dot removed; IPv6 literals
  compressed, IPv4 literals kept in dotted form;
* the default port (80 for http, 443 for https) dropped; other ports kept;
* percent-encoding normalised in the path and query: escapes of unreserved characters
  (``A-Z a-z 0-9 - . _ ~``) decoded, other escapes upper-cased, a stray ``%`` written as
  ``%25``, and characters not allowed in the component (spaces, non-ASCII) UTF-8 encoded;
* dot segments removed from the path (RFC 3986, 5.2.4); an empty path becomes ``/``;
  an empty query (a bare ``?``) dropped; the query's parameter order kept (it can matter);
* the fragment dropped (it never reaches the server).

The result is ASCII and canonical: ``canonicalize_url(canonicalize_url(u)) ==
canonicalize_url(u)`` (property-tested).
"""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache
from typing import NamedTuple
from urllib.parse import unquote_to_bytes

import idna

from bastion.abuse.errors import InvalidUrlError

MAX_URL_LENGTH = 2048
DEFAULT_PORTS = {"http": 80, "https": 443}

_HEX = frozenset("0123456789abcdefABCDEF")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_SUB_DELIMS = frozenset("!$&'()*+,;=")
#: Characters written as they are in a path (RFC 3986 ``pchar`` plus ``/``).
_PATH_SAFE = _UNRESERVED | _SUB_DELIMS | frozenset(":@/")
#: ... and in a query (``?`` is allowed there too).
_QUERY_SAFE = _PATH_SAFE | frozenset("?")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_NUMERIC_LABEL = re.compile(r"^(?:[0-9]+|0[xX][0-9a-fA-F]*)$")
_ASCII_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")


class CanonicalUrl(NamedTuple):
    """A canonical URL and its parts (``host`` is the IDNA form, without port)."""

    url: str
    scheme: str
    host: str
    port: int | None
    path: str
    query: str | None


def canonicalize_url(raw: str) -> str:
    """The canonical spelling of ``raw``; raises :class:`InvalidUrlError` naming the problem."""
    return parse_url(raw).url


def parse_url(raw: str) -> CanonicalUrl:
    """:func:`canonicalize_url` with the parts kept (popular URLs come from a bounded
    cache: abuse reports repeat the same URLs)."""
    if not isinstance(raw, str):
        raise InvalidUrlError("a URL must be a string")
    return _parse_cached(raw)


@lru_cache(maxsize=65_536)
def _parse_cached(raw: str) -> CanonicalUrl:
    fast = parse_canonical(raw)
    return fast if fast is not None else parse_url_reference(raw)


#: A URL that is already in canonical form, in its common shape: ``http`` or ``https``, a
#: host of lower-case ASCII labels, no port, a path and an optional non-empty query of
#: characters that need no escaping and upper-case escapes (the checks in
#: :func:`parse_canonical` rule out the rest).
_CANONICAL_RE = re.compile(
    r"(https?)://"
    r"((?:(?!-)[a-z0-9_-]{1,63}(?<!-)\.)*(?!-)[a-z0-9_-]{1,63}(?<!-))"
    r"(/(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-F]{2})*)"
    r"(?:\?((?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-F]{2})+))?"
)
#: An escape of an unreserved character (canonical form writes the character itself).
_UNRESERVED_ESCAPE = re.compile(r"%(?:2[DE]|3[0-9]|4[1-9A-F]|5[0-9AF]|6[1-9A-F]|7[0-9AE])")
_DOT_SEGMENT = re.compile(r"/\.\.?(?:/|$)")


def parse_canonical(raw: str) -> CanonicalUrl | None:
    """The parts of ``raw`` when it is already canonical in the common shape (one regular
    expression and a few checks, several times cheaper than the parser); ``None`` when it
    is not, or when only :func:`parse_url_reference` can tell (ports, IP addresses,
    ``xn--`` labels, dot segments, unreserved escapes). Whenever it answers, the answer is
    :func:`parse_url_reference`'s (property-tested)."""
    match = _CANONICAL_RE.fullmatch(raw)
    if match is None or len(raw) > MAX_URL_LENGTH:
        return None
    scheme, host, path, query = match.groups()
    if (
        len(host) > 253
        or "xn--" in host
        or _NUMERIC_LABEL.match(host.rpartition(".")[2])
        or ("." in path and _DOT_SEGMENT.search(path))
        or ("%" in raw and _UNRESERVED_ESCAPE.search(raw))
    ):
        return None
    return CanonicalUrl(raw, scheme, host, None, path, query)


def parse_url_reference(raw: str) -> CanonicalUrl:
    """The full parser, step by step (the reference :func:`parse_canonical` is tested
    against); raises :class:`InvalidUrlError`."""
    text = raw.strip().split("#", 1)[0].rstrip()  # the fragment never reaches the server
    if not text:
        raise InvalidUrlError("the URL is empty")
    if len(text) > MAX_URL_LENGTH:
        raise InvalidUrlError(f"the URL is longer than {MAX_URL_LENGTH} characters")
    if _CONTROL.search(text):
        raise InvalidUrlError("the URL contains control characters")
    text = text.replace("\\", "/")
    match = _SCHEME_RE.match(text)
    if match is not None and text[match.end() : match.end() + 2] == "//":
        scheme = match.group(1).lower()
        rest = text[match.end() + 2 :]
    elif match is not None and not _looks_like_host_port(text):
        raise InvalidUrlError(f"the URL has no host after '{match.group(1)}:'")
    else:
        scheme, rest = "http", text.lstrip("/")
    if scheme not in DEFAULT_PORTS:
        raise InvalidUrlError(f"unsupported scheme {scheme!r}: only http and https URLs")
    cut = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
    authority, tail = rest[:cut], rest[cut:]
    host, port = _split_authority(authority)
    host = canonical_host(host)
    if port == DEFAULT_PORTS[scheme]:
        port = None
    path, sep, query = tail.partition("?")
    path = _remove_dot_segments(_normalize_escapes(path, _PATH_SAFE)) or "/"
    if not path.startswith("/"):
        path = "/" + path
    query_text = _normalize_escapes(query, _QUERY_SAFE) if sep and query else None
    netloc = host if port is None else f"{host}:{port}"
    url = f"{scheme}://{netloc}{path}" + (f"?{query_text}" if query_text is not None else "")
    if len(url) > MAX_URL_LENGTH:
        raise InvalidUrlError(f"the URL is longer than {MAX_URL_LENGTH} characters once encoded")
    return CanonicalUrl(url, scheme, host, port, path, query_text)


def _looks_like_host_port(text: str) -> bool:
    """``shop.example:8080/x`` parses as scheme ``shop.example``; it is a host and port."""
    head = re.split(r"[/?#]", text, maxsplit=1)[0]
    name, _, port = head.rpartition(":")
    return bool(name) and port.isdigit() and "." in name


def _split_authority(authority: str) -> tuple[str, int | None]:
    authority = authority.rsplit("@", 1)[-1]  # user info is dropped
    if authority.startswith("["):
        end = authority.find("]")
        if end < 0:
            raise InvalidUrlError("unterminated IPv6 address in the host")
        host, after = authority[: end + 1], authority[end + 1 :]
        port_text = after[1:] if after.startswith(":") else None
        if after and port_text is None:
            raise InvalidUrlError(f"unexpected {after!r} after the IPv6 address")
    else:
        host, colon, port_text_raw = authority.partition(":")
        port_text = port_text_raw if colon else None
    port = None
    if port_text:
        if not port_text.isdigit() or not port_text.isascii() or len(port_text) > 5:
            raise InvalidUrlError(f"invalid port {port_text!r}")
        port = int(port_text)
        if not 0 < port < 65536:
            raise InvalidUrlError(f"port {port} is out of range (1-65535)")
    return host, port


def canonical_host(raw: str) -> str:
    """A host name or IP literal in canonical form (lower case, IDNA, no trailing dot)."""
    if raw.startswith("[") and raw.endswith("]"):
        try:
            return f"[{ipaddress.IPv6Address(raw[1:-1]).compressed}]"
        except ValueError:
            raise InvalidUrlError(f"invalid IPv6 address {raw!r}") from None
    try:
        host = unquote_to_bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidUrlError("the host is not valid UTF-8 once percent-decoded") from None
    if not host.isascii():
        try:
            host = idna.uts46_remap(host, std3_rules=False, transitional=False)
        except idna.IDNAError as exc:
            raise InvalidUrlError(f"invalid international host name: {exc}") from None
    host = host.lower().rstrip(".")
    if not host:
        raise InvalidUrlError("the URL has no host")
    if _NUMERIC_LABEL.match(host.rsplit(".", 1)[-1]):
        return _ipv4(host)
    labels = [_label(label) for label in host.split(".")]
    name = ".".join(labels)
    if len(name) > 253:
        raise InvalidUrlError("the host name is longer than 253 characters")
    return name


def _ipv4(host: str) -> str:
    """A host ending in a number is an IPv4 address, in any form browsers accept
    (``0x7f.1``, ``2130706433``, ``0177.0.0.1``): written back in dotted decimal."""
    parts = host.split(".")
    if len(parts) > 4:
        raise InvalidUrlError(f"invalid IPv4 address {host!r}: more than 4 parts")
    numbers: list[int] = []
    for part in parts:
        try:
            if part[:2] in ("0x", "0X"):
                numbers.append(int(part[2:] or "0", 16))
            elif len(part) > 1 and part.startswith("0"):
                numbers.append(int(part, 8))
            else:
                numbers.append(int(part, 10))
        except ValueError:
            raise InvalidUrlError(f"invalid IPv4 address {host!r}") from None
    last = numbers.pop()
    if any(n > 255 for n in numbers) or last >= 256 ** (4 - len(numbers)):
        raise InvalidUrlError(f"invalid IPv4 address {host!r}: a part is out of range")
    value = last
    for i, n in enumerate(numbers):
        value += n << (8 * (3 - i))
    return str(ipaddress.IPv4Address(value))


def _label(label: str) -> str:
    if not label:
        raise InvalidUrlError("the host name has an empty label ('..')")
    if not label.isascii():
        try:
            label = idna.alabel(label).decode("ascii")
        except (idna.IDNAError, UnicodeError) as exc:
            raise InvalidUrlError(f"invalid international host label {label!r}: {exc}") from None
    elif label.startswith("xn--"):
        try:
            idna.decode(label)
        except (idna.IDNAError, UnicodeError):
            raise InvalidUrlError(f"invalid punycode label {label!r}") from None
    if not _ASCII_LABEL.match(label):
        raise InvalidUrlError(f"invalid host label {label!r}")
    return label


def _normalize_escapes(text: str, safe: frozenset[str]) -> str:
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "%":
            if i + 2 < n and text[i + 1] in _HEX and text[i + 2] in _HEX:
                ch = chr(int(text[i + 1 : i + 3], 16))
                out.append(ch if ch in _UNRESERVED else f"%{ord(ch):02X}")
                i += 3
                continue
            out.append("%25")
        elif c in safe:
            out.append(c)
        else:
            out.extend(f"%{b:02X}" for b in c.encode("utf-8", "surrogatepass"))
        i += 1
    return "".join(out)


def _remove_dot_segments(path: str) -> str:
    """RFC 3986, section 5.2.4."""
    if "." not in path:
        return path
    rest = path
    out: list[str] = []
    while rest:
        if rest.startswith("../"):
            rest = rest[3:]
        elif rest.startswith("./") or rest.startswith("/./"):
            rest = rest[2:]
        elif rest == "/.":
            rest = "/"
        elif rest.startswith("/../") or rest == "/..":
            rest = "/" + rest[4:]
            if out:
                out.pop()
        elif rest in (".", ".."):
            rest = ""
        else:
            end = rest.find("/", 1)
            end = len(rest) if end < 0 else end
            out.append(rest[:end])
            rest = rest[end:]
    return "".join(out)
