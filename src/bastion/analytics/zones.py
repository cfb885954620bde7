"""Which zone a request belongs to: its Host header matched against the known zones.

A zone covers its own name and every name below it (``shop.example`` covers
``www.shop.example``); the most specific known zone wins. A host that matches no zone
yields ``""`` (logged, but visible only to roles that see every zone).
"""

from __future__ import annotations

from collections.abc import Iterable

#: Distinct hosts remembered per index (the cache is cleared when it is full).
_CACHE_SIZE = 65_536


def hostname(host: str) -> str:
    """``host`` lower-cased, without port, trailing dot or IPv6 brackets' port."""
    host = host.strip().lower()
    if host.startswith("["):
        end = host.find("]")
        return host[: end + 1] if end != -1 else host
    name, sep, port = host.rpartition(":")
    if sep and port.isdigit():
        host = name
    return host.rstrip(".")


class ZoneIndex:
    """Resolves hosts to zone names; built from the names of the ``zones`` table."""

    def __init__(self, zones: Iterable[str] = ()) -> None:
        self.zones = frozenset(z.lower().rstrip(".") for z in zones)
        self._cache: dict[str, str] = {}
        self._names: dict[str, str] = {}

    def hostname(self, host: str) -> str:
        """:func:`hostname` of ``host``, cached."""
        found = self._names.get(host)
        if found is None:
            if len(self._names) >= _CACHE_SIZE:
                self._names.clear()
            found = self._names[host] = hostname(host)[:253]
        return found

    def resolve(self, host: str) -> str:
        """The zone of ``host`` (a Host header value), or ``""``."""
        found = self._cache.get(host)
        if found is not None:
            return found
        name = hostname(host)
        zone = ""
        while name:
            if name in self.zones:
                zone = name
                break
            _, dot, name = name.partition(".")
            if not dot:
                break
        if len(self._cache) >= _CACHE_SIZE:
            self._cache.clear()
        self._cache[host] = zone
        return zone
