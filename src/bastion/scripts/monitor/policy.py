"""Allow policies: which script and connection sources a zone allows, as an enforcing CSP.

A policy lists CSP source expressions for ``script-src`` and ``connect-src``. Each is
validated against the CSP Level 3 grammar: keywords (``'self'``, ``'unsafe-inline'``,
``'strict-dynamic'``...), hashes (``'sha256-...'``), schemes (``https:``) and hosts
(``https://cdn.example``, ``*.example.com:443/js/``). Nonces are refused (a stored policy
cannot carry a per-response nonce), and so is anything that could break out of the header:
whitespace, ``;``, ``,``, quotes outside a keyword, control or non-ASCII characters.
:func:`enforcing_header` renders the ``Content-Security-Policy`` header;
:func:`suggest_policy` proposes one from what the inventory has seen.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bastion.scripts.monitor.urls import normalize_url

ENFORCING_HEADER = "Content-Security-Policy"
MAX_SOURCES = 256
MAX_SOURCE_CHARS = 512

KEYWORDS = frozenset(
    {
        "'self'",
        "'none'",
        "'unsafe-inline'",
        "'unsafe-eval'",
        "'strict-dynamic'",
        "'unsafe-hashes'",
        "'report-sample'",
        "'wasm-unsafe-eval'",
        "'unsafe-allow-redirects'",
    }
)
_HASH_RE = re.compile(r"'sha(?:256|384|512)-[A-Za-z0-9+/_-]+={0,2}'", re.ASCII)
_SCHEME_RE = re.compile(r"[a-z][a-z0-9+.-]*:", re.ASCII)
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST_RE = re.compile(
    rf"(?:(?P<scheme>[a-z][a-z0-9+.-]*)://)?"
    rf"(?P<host>\*|(?:\*\.)?{_LABEL}(?:\.{_LABEL})*)"
    rf"(?::(?P<port>\*|[0-9]{{1,5}}))?"
    rf"(?P<path>/[A-Za-z0-9\-._~!$&'()*+=:@/%]*)?",
    re.ASCII,
)


class PolicyError(ValueError):
    """A policy that cannot be stored or rendered; the message names the bad source."""


def validate_source(source: str, directive: str = "script-src") -> str:
    """``source`` as it goes into the header (host and scheme lower-cased), or
    :class:`PolicyError`."""
    if not source or len(source) > MAX_SOURCE_CHARS:
        raise PolicyError(f"{directive}: a source must have 1 to {MAX_SOURCE_CHARS} characters")
    if not source.isascii() or not source.isprintable() or any(c in source for c in ' ;,"'):
        raise PolicyError(
            f"{directive}: {source[:60]!r} has whitespace, ';', ',', quotes or characters "
            "outside printable ASCII"
        )
    lowered = source.lower()
    if lowered in KEYWORDS:
        return lowered
    if lowered.startswith("'nonce-"):
        raise PolicyError(f"{directive}: nonces change per response and cannot be stored")
    if _HASH_RE.fullmatch(source):
        return source
    if "'" in source:
        raise PolicyError(f"{directive}: {source!r} is not a CSP keyword or hash source")
    if _SCHEME_RE.fullmatch(lowered):
        return lowered
    rest_at = source.find("://") + 3 if "://" in source else 0
    slash = source.find("/", rest_at)
    head_end = len(source) if slash < 0 else slash
    match = _HOST_RE.fullmatch(lowered[:head_end] + source[head_end:])
    if match is None:
        raise PolicyError(
            f"{directive}: {source!r} is not a CSP source (e.g. 'self', https:, "
            "https://cdn.example, *.example.com)"
        )
    port = match.group("port")
    if port not in (None, "*") and not 1 <= int(port) <= 65535:
        raise PolicyError(f"{directive}: {source!r} has port {port}, outside 1-65535")
    scheme = (match.group("scheme") or "").lower()
    head = f"{scheme}://" if scheme else ""
    tail = f":{port}" if port else ""
    return f"{head}{match.group('host')}{tail}{match.group('path') or ''}"


def _sources(values: Iterable[str], directive: str) -> tuple[str, ...]:
    out: list[str] = []
    for value in values:
        if not isinstance(value, str):
            raise PolicyError(f"{directive}: every source must be a string")
        normalized = validate_source(value, directive)
        if normalized not in out:
            out.append(normalized)
        if len(out) > MAX_SOURCES:
            raise PolicyError(f"{directive}: at most {MAX_SOURCES} sources")
    if "'none'" in out and len(out) > 1:
        raise PolicyError(f"{directive}: 'none' cannot be combined with other sources")
    return tuple(out)


@dataclass(frozen=True, slots=True)
class AllowPolicy:
    """The sources a zone allows; an empty list allows nothing (``'none'``)."""

    script_src: tuple[str, ...] = ("'self'",)
    connect_src: tuple[str, ...] = ("'self'",)
    #: Ask browsers to report violations of the enforcing policy to the monitor too.
    report: bool = True

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AllowPolicy:
        """A validated policy from ``{"script_src": [...], "connect_src": [...], "report"}``."""
        unknown = sorted(set(data) - {"script_src", "connect_src", "report"})
        if unknown:
            raise PolicyError(f"unknown field(s): {', '.join(unknown)}")
        lists: dict[str, tuple[str, ...]] = {}
        for name in ("script_src", "connect_src"):
            value = data.get(name, ["'self'"])
            if not isinstance(value, list | tuple):
                raise PolicyError(f"{name.replace('_', '-')}: must be a list of sources")
            lists[name] = _sources(value, name.replace("_", "-"))
        report = data.get("report", True)
        if not isinstance(report, bool):
            raise PolicyError("report: must be true or false")
        return cls(lists["script_src"], lists["connect_src"], report)

    def to_json(self) -> dict[str, Any]:
        return {
            "script_src": list(self.script_src),
            "connect_src": list(self.connect_src),
            "report": self.report,
        }


def enforcing_header(
    policy: AllowPolicy, *, report_uri: str | None = None, report_to: str | None = None
) -> tuple[str, str]:
    """``("Content-Security-Policy", value)`` for ``policy``.

    With ``policy.report``, ``report_uri`` and ``report_to`` (a ``Reporting-Endpoints`` group
    name) are added when given.
    """
    parts = [
        "script-src " + " ".join(_sources(policy.script_src, "script-src") or ("'none'",)),
        "connect-src " + " ".join(_sources(policy.connect_src, "connect-src") or ("'none'",)),
    ]
    if policy.report and report_uri:
        parts.append(f"report-uri {_checked_uri(report_uri)}")
    if policy.report and report_to:
        parts.append(f"report-to {_checked_token(report_to)}")
    return ENFORCING_HEADER, "; ".join(parts)


def _checked_uri(uri: str) -> str:
    if normalize_url(uri, schemes=frozenset({"http", "https"})) is None and not uri.startswith("/"):
        raise PolicyError(f"report-uri {uri[:60]!r} is not an http(s) URL or absolute path")
    if not uri.isascii() or not uri.isprintable() or any(c in uri for c in " ;,\"'"):
        raise PolicyError("report-uri has characters a header cannot carry")
    return uri


_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{1,64}", re.ASCII)


def _checked_token(name: str) -> str:
    if not _TOKEN_RE.fullmatch(name):
        raise PolicyError(f"report-to group {name[:60]!r} must be 1-64 of [A-Za-z0-9_-]")
    return name


def suggest_policy(
    zone: str, script_urls: Iterable[str], connection_urls: Iterable[str]
) -> AllowPolicy:
    """A policy allowing exactly the origins seen: ``'self'`` for the zone's own host and
    one host source (``https://cdn.example``) per other origin, sorted."""

    def sources(urls: Iterable[str]) -> tuple[str, ...]:
        origins: set[str] = set()
        own = False
        for url in urls:
            parsed = normalize_url(url)
            if parsed is None:
                continue
            if parsed.host == zone:
                own = True
                continue
            try:
                origins.add(validate_source(parsed.origin))
            except PolicyError:  # IPv6 literals have no CSP host-source spelling
                continue
        return (("'self'",) if own else ()) + tuple(sorted(origins))

    return AllowPolicy(sources(script_urls), sources(connection_urls))
