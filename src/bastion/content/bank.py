"""Hash banks: named lists of hashes of one signal type, with per-bank match settings.

A bank keeps its entries in insertion order. Removing a hash leaves a tombstone: the
entry stops matching and is not exported, its slot is never reused (so entry numbers the
matcher holds stay valid), and the removed hash is remembered so an operator can see
what was taken out and when.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Final

from bastion.content.signals import SignalType, get_signal_type

__all__ = ["Bank", "Entry", "validate_bank_name"]

_NAME_RE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_TAG_FORBIDDEN: Final = re.compile(r"[\s,;|]")


def validate_bank_name(name: str) -> str:
    """``name`` when it is a valid bank name (1-64 of ``A-Z a-z 0-9 _ . -``, not leading
    ``.``, ``_`` or ``-``); ``ValueError`` otherwise."""
    if not _NAME_RE.fullmatch(name):
        raise ValueError(
            f"invalid bank name {name!r}: use 1-64 letters, digits, '_', '.' or '-', "
            "starting with a letter or digit"
        )
    return name


def _check_text(value: str, what: str) -> str:
    if value != value.strip():
        raise ValueError(f"{what} {value!r} has leading or trailing whitespace")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError(f"{what} {value!r} contains control characters")
    return value


@dataclass(frozen=True, slots=True)
class Entry:
    """One hash in a bank, with the ids and tags it came with (ThreatExchange style)."""

    hash: str
    indicator_id: str = ""
    descriptor_id: str = ""
    timestamp: str = ""
    tags: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        _check_text(self.indicator_id, "indicator id")
        _check_text(self.descriptor_id, "descriptor id")
        _check_text(self.timestamp, "timestamp")
        for tag in self.tags:
            if not tag or _TAG_FORBIDDEN.search(tag) or not tag.isprintable():
                raise ValueError(
                    f"invalid tag {tag!r}: tags are non-empty, printable, without "
                    "whitespace, ',', ';' or '|'"
                )

    @property
    def ids(self) -> tuple[str, ...]:
        """The non-empty ids (indicator, descriptor)."""
        return tuple(i for i in (self.indicator_id, self.descriptor_id) if i)


class Bank:
    """A named list of hashes of one signal type.

    ``distance``: the largest distance that counts as a match (PDQ default 31, exact
    types 0). ``enabled``: disabled banks never match. ``allow``: an allow-bank lists
    known false positives; when content matches it, matches from other banks are
    suppressed.
    """

    def __init__(
        self,
        name: str,
        signal_type: str | type[SignalType] = "pdq",
        *,
        distance: int | None = None,
        enabled: bool = True,
        allow: bool = False,
    ) -> None:
        self.name = validate_bank_name(name)
        st = get_signal_type(signal_type) if isinstance(signal_type, str) else signal_type
        self.signal: type[SignalType] = st
        self.distance = st.default_distance if distance is None else distance
        if self.distance < 0:
            raise ValueError("a match distance cannot be negative")
        self.enabled = enabled
        self.allow = allow
        self._entries: list[Entry | None] = []
        self._slot: dict[str, int] = {}
        self.removed: dict[str, str] = {}
        """Tombstones: removed hash -> UTC time of removal (ISO 8601)."""

    @property
    def signal_type(self) -> str:
        """The signal type's name (``pdq``, ``md5``, ``sha256``...)."""
        return self.signal.name

    def __len__(self) -> int:
        return len(self._slot)

    def __contains__(self, hash_value: object) -> bool:
        return isinstance(hash_value, str) and hash_value in self._slot

    def __iter__(self) -> Iterator[Entry]:
        return (e for e in self._entries if e is not None)

    def __repr__(self) -> str:
        return (
            f"Bank({self.name!r}, {self.signal_type!r}, entries={len(self)}, "
            f"distance={self.distance}, enabled={self.enabled}, allow={self.allow})"
        )

    @property
    def slots(self) -> int:
        """Number of slots ever used (live entries plus tombstoned ones)."""
        return len(self._entries)

    def get(self, hash_value: str) -> Entry | None:
        """The live entry for ``hash_value``, if any."""
        slot = self._slot.get(hash_value)
        return None if slot is None else self._entries[slot]

    def entry_at(self, slot: int) -> Entry | None:
        """The entry in ``slot``, or ``None`` when it was removed (or never existed)."""
        return self._entries[slot] if 0 <= slot < len(self._entries) else None

    def add(self, entry: Entry) -> int | None:
        """Add ``entry``; its hash is normalized. Returns the new slot, or ``None`` when the
        hash was already there (its tags are then merged into the existing entry)."""
        value = self.signal.normalize(entry.hash)
        if value != entry.hash:
            entry = replace(entry, hash=value)
        slot = self._slot.get(value)
        if slot is not None:
            old = self._entries[slot]
            assert old is not None
            if not entry.tags <= old.tags:
                self._entries[slot] = replace(old, tags=old.tags | entry.tags)
            return None
        self.removed.pop(value, None)
        self._slot[value] = len(self._entries)
        self._entries.append(entry)
        return len(self._entries) - 1

    def add_all(self, entries: Iterable[Entry]) -> list[int]:
        """Add many entries; the slots of the new ones."""
        slots = []
        for e in entries:
            slot = self.add(e)
            if slot is not None:
                slots.append(slot)
        return slots

    def remove(self, hash_value: str, *, when: datetime | None = None) -> int | None:
        """Tombstone ``hash_value``; returns its former slot, ``None`` when absent."""
        value = self.signal.normalize(hash_value)
        slot = self._slot.pop(value, None)
        if slot is None:
            return None
        self._entries[slot] = None
        self.removed[value] = (when or datetime.now(UTC)).isoformat(timespec="seconds")
        return slot

    def live_slots(self) -> Iterator[tuple[int, Entry]]:
        """(slot, entry) of every live entry, in insertion order."""
        return ((i, e) for i, e in enumerate(self._entries) if e is not None)
