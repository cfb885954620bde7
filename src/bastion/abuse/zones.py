"""Zone resolution: which registered zone a URL's host belongs to, by longest suffix.

``shop.example`` covers ``shop.example`` and every name under it (``a.b.shop.example``);
when both ``example`` and ``shop.example`` are registered, ``a.shop.example`` goes to the
longer one. Matching is on whole labels (``myshop.example`` is not under ``shop.example``).
IP hosts match only a zone registered with that exact address. Hosts of no zone resolve to
:data:`UNATTRIBUTED`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

UNATTRIBUTED = "unattributed"


@dataclass(frozen=True, slots=True)
class ZoneInfo:
    """A registered zone and who to tell about abuse on it."""

    name: str
    #: Where the site owner gets notices (an email address or a webhook id), if known.
    owner_contact: str | None = None
    #: The hosting provider's name and abuse contact, if known.
    host: str | None = None
    host_contact: str | None = None


class ZoneDirectory:
    """Registered zones, looked up by host (a dict probe per label of the host)."""

    def __init__(self, zones: Iterable[ZoneInfo | str] = ()) -> None:
        self._zones: dict[str, ZoneInfo] = {}
        for zone in zones:
            info = ZoneInfo(zone) if isinstance(zone, str) else zone
            self._zones[_key(info.name)] = info

    def __len__(self) -> int:
        return len(self._zones)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and _key(name) in self._zones

    def get(self, name: str) -> ZoneInfo | None:
        """The zone registered under exactly ``name``."""
        return self._zones.get(_key(name))

    def resolve(self, host: str) -> ZoneInfo | None:
        """The zone with the longest name that is ``host`` or a parent domain of it."""
        name = _key(host)
        zones = self._zones
        if name.startswith("[") or name.replace(".", "").isdigit():
            return zones.get(name)
        while True:
            info = zones.get(name)
            if info is not None:
                return info
            dot = name.find(".")
            if dot < 0:
                return None
            name = name[dot + 1 :]

    def zone_name(self, host: str) -> str:
        """The resolved zone's name, or :data:`UNATTRIBUTED`."""
        info = self.resolve(host)
        return info.name if info is not None else UNATTRIBUTED


def _key(name: str) -> str:
    return name.strip().lower().rstrip(".")
