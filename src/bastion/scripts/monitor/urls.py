"""URLs in the inventory: one spelling per resource, and no query strings.

Query strings are dropped from every URL the inventory keeps: they are cache-busters for
scripts (``app.js?v=123`` is one script with versions, not a new script per deploy), and
they carry user data for connections and page URLs (beacons, session ids, e-mail
addresses). The fragment never reaches a server and is dropped too.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
#: Schemes an inventory item may have (connections include WebSockets).
INVENTORY_SCHEMES = frozenset(_DEFAULT_PORTS)
MAX_URL_CHARS = 2048


@dataclass(frozen=True, slots=True)
class ResourceUrl:
    """A normalized URL: ``url`` (no query, no fragment), its ``host`` and ``origin``."""

    url: str
    scheme: str
    host: str
    origin: str


def normalize_url(raw: str, *, schemes: frozenset[str] = INVENTORY_SCHEMES) -> ResourceUrl | None:
    """``raw`` as an inventory URL, or ``None`` when it is not an absolute URL of ``schemes``.

    The scheme and host are lower-cased, a trailing dot and the default port dropped, IPv6
    hosts bracketed, user info removed, the path kept as sent (an empty one becomes ``/``)
    and cut to :data:`MAX_URL_CHARS` characters.
    """
    try:
        parts = urlsplit(raw.strip())
        port = parts.port
        host = parts.hostname
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in schemes or not host:
        return None
    host = host.rstrip(".")
    if not host or any(c.isspace() or c in "/\\@" for c in host):
        return None
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    shown = f"[{literal.compressed}]" if isinstance(literal, ipaddress.IPv6Address) else host
    netloc = shown if port in (None, _DEFAULT_PORTS[scheme]) else f"{shown}:{port}"
    path = parts.path or "/"
    url = urlunsplit((scheme, netloc, path, "", ""))[:MAX_URL_CHARS]
    return ResourceUrl(url, scheme, host, f"{scheme}://{netloc}")


def page_url(raw: str) -> str | None:
    """A document URL as the inventory lists it (no query or fragment), or ``None``."""
    parsed = normalize_url(raw, schemes=frozenset({"http", "https"}))
    return parsed.url if parsed is not None else None
