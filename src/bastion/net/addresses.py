"""Which IP addresses an outbound fetch may reach, and IPv4 in every spelling.

:func:`address_kind` names what is wrong with an address (``loopback``, ``private``,
``link_local``, ``multicast``, ``reserved``, ``unspecified``) or answers ``None`` for a
public unicast address. IPv6 forms that embed an IPv4 address are judged by the embedded
address too: IPv4-mapped (``::ffff:127.0.0.1``), 6to4 (``2002:7f00:1::``), Teredo, and the
deprecated IPv4-compatible and NAT64 prefixes (both refused as reserved).

:func:`parse_ip_host` reads a URL host as an IP address in any spelling a C resolver
(``inet_aton``) or a browser accepts: dotted, and also decimal (``2130706433``), octal
(``0177.1``), hexadecimal (``0x7f000001``) and short forms (``127.1``), so such a spelling
can never pass for a hostname.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from typing import Literal

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
AddressKind = Literal["loopback", "private", "link_local", "multicast", "reserved", "unspecified"]
ADDRESS_KINDS: tuple[AddressKind, ...] = (
    "loopback",
    "private",
    "link_local",
    "multicast",
    "reserved",
    "unspecified",
)

_THIS_NETWORK = ipaddress.IPv4Network("0.0.0.0/8")
_NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")


def _kind_v4(ip: ipaddress.IPv4Address) -> AddressKind | None:
    if ip in _THIS_NETWORK:  # 0.0.0.0 reaches this host on Linux
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link_local"
    if ip.is_multicast:
        return "multicast"
    if ip.is_reserved or ip == ipaddress.IPv4Address("255.255.255.255"):
        return "reserved"
    if ip.is_private or not ip.is_global:  # RFC 1918, 100.64/10, documentation, benchmarks
        return "private"
    return None


def _kind_v6(ip: ipaddress.IPv6Address) -> AddressKind | None:
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.ipv4_mapped is not None:
        return _kind_v4(ip.ipv4_mapped)
    if ip in _IPV4_COMPATIBLE or any(ip in net for net in _NAT64):
        return "reserved"
    if ip.sixtofour is not None:
        embedded = _kind_v4(ip.sixtofour)
        if embedded is not None:
            return embedded
    if ip.teredo is not None:
        server, client = ip.teredo
        for part in (client, server):
            embedded = _kind_v4(part)
            if embedded is not None:
                return embedded
    if ip.is_link_local:
        return "link_local"
    if ip.is_multicast:
        return "multicast"
    if ip.is_site_local:
        return "private"
    if ip.is_reserved:
        return "reserved"
    if ip.is_private or not ip.is_global:
        return "private"
    return None


def address_kind(ip: IPAddress) -> AddressKind | None:
    """Why ``ip`` is not a public unicast address, or ``None`` when it is."""
    if isinstance(ip, ipaddress.IPv4Address):
        return _kind_v4(ip)
    return _kind_v6(ip)


def is_allowed(
    ip: IPAddress, allow: Iterable[str] = (), networks: Iterable[IPNetwork] = ()
) -> tuple[bool, AddressKind | None]:
    """``(allowed, kind)``: public addresses are allowed; others when their kind is in
    ``allow`` or they lie in one of ``networks``."""
    kind = address_kind(ip)
    if kind is None:
        return True, None
    if kind in allow:
        return True, kind
    plain = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped else ip
    return any(plain in net for net in networks), kind


_PART = re.compile(r"0[xX][0-9a-fA-F]*|0[0-7]*|[1-9][0-9]*")
_NUMERIC_LAST_LABEL = re.compile(r"(?:[0-9]+|0[xX][0-9a-fA-F]*)\.?")


class BadIPSpelling(ValueError):
    """A host whose last label is numeric but that is no valid IPv4 address."""


def _legacy_ipv4(host: str) -> ipaddress.IPv4Address | None:
    text = host[:-1] if host.endswith(".") else host
    parts = text.split(".")
    if not 1 <= len(parts) <= 4 or not all(_PART.fullmatch(p) for p in parts):
        return None
    numbers = []
    for p in parts:
        if p[:2].lower() == "0x":
            numbers.append(int(p[2:] or "0", 16))
        elif p.startswith("0") and len(p) > 1:
            numbers.append(int(p[1:], 8))
        else:
            numbers.append(int(p))
    *head, last = numbers
    if any(n > 255 for n in head) or last >= 256 ** (5 - len(numbers)):
        raise BadIPSpelling(f"{host!r} is an IPv4 address out of range")
    value = last
    for i, n in enumerate(head):
        value |= n << (8 * (3 - i))
    return ipaddress.IPv4Address(value)


def parse_ip_host(host: str) -> IPAddress | None:
    """The IP address ``host`` spells (brackets, zone ids and legacy IPv4 forms understood),
    or ``None`` for a hostname. Raises :class:`BadIPSpelling` for a host that looks numeric
    but is no address (``1.2.3.4.5``, ``1.2.3.0x100``, ``999.1.1.1``)."""
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        return ipaddress.ip_address(bare)
    except ValueError:
        pass
    if ":" in bare:
        raise BadIPSpelling(f"{host!r} is not a valid IPv6 address")
    legacy = _legacy_ipv4(bare)
    if legacy is not None:
        return legacy
    last = bare.rstrip(".").rsplit(".", 1)[-1]
    if _NUMERIC_LAST_LABEL.fullmatch(last):
        raise BadIPSpelling(f"{host!r} ends in a number but is not a valid IPv4 address")
    return None
