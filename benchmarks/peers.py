"""Peer detectors for ``waf_bench.py``: libinjection applied to the values of a request.

The peer flags a request when libinjection's SQLi or XSS check fires on any URL-decoded
query or form parameter value, any cookie value, any header value (other than ``Cookie``,
whose values are checked one by one) or the raw body. Parsing is plain stdlib:
``urllib.parse.parse_qsl`` for the query and ``application/x-www-form-urlencoded`` bodies,
the ``Cookie`` header split on ``;``. Like ModSecurity's ``SecArgumentsLimit`` the number
of parameters parsed per query or body is capped (:data:`MAX_ARGS`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote

if TYPE_CHECKING:  # not at run time: the peer's footprint must not include bastion's imports
    from bastion.waf.request import HttpRequest

#: Most parameters parsed from one query string or one form body.
MAX_ARGS = 1000


def _first_args(text: str, limit: int) -> str:
    """``text`` cut before its ``limit``-th ``&`` (so at most ``limit`` parameters remain)."""
    end = -1
    for _ in range(limit):
        end = text.find("&", end + 1)
        if end < 0:
            return text
    return text[:end]


def _qsl_values(text: str) -> Iterator[str]:
    for _, value in parse_qsl(_first_args(text, MAX_ARGS), keep_blank_values=True):
        yield value


def request_values(request: HttpRequest) -> Iterator[str]:
    """Every text the peer inspects: decoded parameters, cookies, headers and the body."""
    if request.query:
        yield from _qsl_values(request.query)
    content_type = ""
    for name, value in request.headers:
        lname = name.lower()
        if lname == "cookie":
            for part in value.split(";"):
                _, _, cookie = part.strip().partition("=")
                yield unquote(cookie)
            continue
        if lname == "content-type":
            content_type = value.lower()
        yield value
    if request.body:
        body = request.body.decode("utf-8", "replace")
        yield body
        if content_type.startswith("application/x-www-form-urlencoded"):
            yield from _qsl_values(body)


def _clean(text: str) -> str:
    """Text libinjection can take (it encodes to UTF-8; lone surrogates are replaced)."""
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the libinjection peer found in one request."""

    sqli: bool
    xss: bool

    @property
    def flagged(self) -> bool:
        return self.sqli or self.xss


class LibinjectionPeer:
    """libinjection's ``is_sql_injection`` and ``is_xss`` over :func:`request_values`."""

    name = "libinjection"

    def __init__(self) -> None:
        import libinjection

        self._lib: Any = libinjection
        try:
            self.version = "libinjection-python " + metadata.version("libinjection-python")
        except metadata.PackageNotFoundError:
            self.version = "libinjection-python (unknown version)"

    def _check(self, func: Any, key: str, value: str) -> bool:
        try:
            return bool(func(value)[key])
        except UnicodeEncodeError:
            return bool(func(_clean(value))[key])

    def verdict(self, request: HttpRequest) -> Verdict:
        """Run both checks on every value (each stops at its first hit)."""
        values = [v for v in request_values(request) if v]
        sqli_fn, xss_fn = self._lib.is_sql_injection, self._lib.is_xss
        sqli = any(self._check(sqli_fn, "is_sqli", v) for v in values)
        xss = any(self._check(xss_fn, "is_xss", v) for v in values)
        return Verdict(sqli=sqli, xss=xss)

    def flag(self, request: HttpRequest) -> bool:
        """Whether the request would be blocked."""
        return self.verdict(request).flagged
