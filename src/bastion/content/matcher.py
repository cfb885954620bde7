"""Match content against hash banks.

One live index per signal type holds the entries of every registered bank; an indexed id
is ``bank number << 32 | slot``. A lookup searches at the largest distance of the enabled
banks of that type and then applies each bank's own distance, its enabled flag and the
bank itself (an entry removed a moment ago no longer resolves, whatever the index says).

Rules, in order:

* PDQ hashes with quality below 50 are reported but never matched.
* With dihedral or EXIF-oriented variants, every variant is looked up; an entry matched
  by several variants keeps the closest.
* If any allow-bank matches, every match from the other banks is suppressed (reported
  separately, not acted on).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from bastion.content.bank import Bank, Entry
from bastion.content.decode import DEFAULT_LIMITS, DecodeLimits
from bastion.content.errors import ContentError
from bastion.content.hashing import ContentHashes, ImageInfo, hash_content
from bastion.content.index import SignalIndex
from bastion.content.signals import SignalHash, SignalType, get_signal_type

__all__ = ["Match", "Matcher", "ScanResult"]

_SLOT_BITS: Final = 32
_SLOT_MASK: Final = (1 << _SLOT_BITS) - 1


def _live(bank: Bank, slot: int) -> Entry:
    entry = bank.entry_at(slot)
    if entry is None:  # pragma: no cover - only called on slots just added
        raise KeyError(f"slot {slot} of bank {bank.name!r} is empty")
    return entry


@dataclass(frozen=True, slots=True)
class Match:
    """One bank entry that matched."""

    bank: str
    signal: str
    distance: int
    entry: Entry
    query: str
    """The query hash that matched (the content's hash, or one of its variants)."""
    variant: str = "original"
    allow: bool = False
    """Whether the bank is an allow-bank (a known false positive)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "bank": self.bank,
            "signal": self.signal,
            "distance": self.distance,
            "hash": self.entry.hash,
            "indicator_id": self.entry.indicator_id,
            "descriptor_id": self.entry.descriptor_id,
            "tags": sorted(self.entry.tags),
            "variant": self.variant,
        }


@dataclass(frozen=True, slots=True)
class ScanResult:
    """Hashes of one piece of content and what they matched."""

    hashes: Mapping[str, SignalHash]
    errors: Mapping[str, ContentError]
    image: ImageInfo | None
    matches: tuple[Match, ...]
    """Matches to act on (none when an allow-bank matched)."""
    allowed: tuple[Match, ...] = ()
    """Matches from allow-banks."""
    suppressed: tuple[Match, ...] = ()
    """Matches from other banks that an allow-bank match overrode."""
    low_quality: tuple[str, ...] = ()
    """Signals whose hash was too low in quality to match."""

    @property
    def matched(self) -> bool:
        return bool(self.matches)


class Matcher:
    """Banks plus one live index per signal type; safe to query while it is updated."""

    def __init__(
        self,
        banks: Iterable[Bank] = (),
        *,
        index_factory: Callable[[type[SignalType]], SignalIndex] | None = None,
    ) -> None:
        self._lock = threading.RLock()
        self._banks: dict[str, Bank] = {}
        self._numbers: dict[str, int] = {}
        self._by_number: dict[int, Bank] = {}
        self._next_number = 0
        self._indexes: dict[str, SignalIndex] = {}
        self._index_factory = index_factory or (lambda st: st.new_index())
        for bank in banks:
            self.add_bank(bank)

    # ------------------------------------------------------------------ banks

    @property
    def banks(self) -> list[Bank]:
        return list(self._banks.values())

    def bank(self, name: str) -> Bank:
        try:
            return self._banks[name]
        except KeyError:
            raise KeyError(f"no bank named {name!r}") from None

    def index(self, signal: str) -> SignalIndex | None:
        """The live index for ``signal``, once a bank of that type exists."""
        return self._indexes.get(get_signal_type(signal).name)

    def _index_for(self, st: type[SignalType]) -> SignalIndex:
        idx = self._indexes.get(st.name)
        if idx is None:
            idx = self._index_factory(st)
            self._indexes[st.name] = idx
        return idx

    def add_bank(self, bank: Bank) -> None:
        """Register ``bank`` and index its live entries."""
        with self._lock:
            if bank.name in self._banks:
                raise ValueError(f"a bank named {bank.name!r} is already registered")
            number = self._next_number
            self._next_number += 1
            self._banks[bank.name] = bank
            self._numbers[bank.name] = number
            self._by_number[number] = bank
            slots_entries = list(bank.live_slots())
            if slots_entries:
                base = number << _SLOT_BITS
                self._index_for(bank.signal).add(
                    [base | s for s, _ in slots_entries], [e.hash for _, e in slots_entries]
                )
            else:
                self._index_for(bank.signal)

    def drop_bank(self, name: str) -> Bank:
        """Unregister a bank; its entries stop matching at once."""
        with self._lock:
            bank = self.bank(name)
            number = self._numbers.pop(name)
            del self._banks[name]
            del self._by_number[number]
            base = number << _SLOT_BITS
            self._index_for(bank.signal).remove(base | s for s, _ in bank.live_slots())
            return bank

    def compact(self) -> None:
        """Build every index's snapshot now (after a bulk load, before the first lookups),
        instead of in the background while lookups brute-force a large delta."""
        for index in list(self._indexes.values()):
            compact = getattr(index, "compact", None)
            if callable(compact):
                compact()

    def set_enabled(self, name: str, enabled: bool) -> None:
        self.bank(name).enabled = enabled

    def add_entries(self, name: str, entries: Iterable[Entry]) -> int:
        """Add entries to a registered bank; they match at once. Returns how many were new."""
        with self._lock:
            bank = self.bank(name)
            slots = bank.add_all(entries)
            if slots:
                base = self._numbers[name] << _SLOT_BITS
                hashes = [_live(bank, s).hash for s in slots]
                self._index_for(bank.signal).add([base | s for s in slots], hashes)
            return len(slots)

    def remove_hashes(self, name: str, hashes: Iterable[str]) -> int:
        """Tombstone hashes in a registered bank; returns how many were present."""
        with self._lock:
            bank = self.bank(name)
            base = self._numbers[name] << _SLOT_BITS
            gone = [s for s in (bank.remove(h) for h in hashes) if s is not None]
            if gone:
                self._index_for(bank.signal).remove(base | s for s in gone)
            return len(gone)

    # ------------------------------------------------------------------ lookups

    def _max_distance(self, st: type[SignalType]) -> int:
        ds = [b.distance for b in self._banks.values() if b.enabled and b.signal is st]
        return max(ds, default=-1)

    def lookup(self, signal: str, hashes: Sequence[str]) -> list[list[Match]]:
        """For each hash (of type ``signal``), every enabled-bank entry within its bank's
        distance, closest first. No quality or allow-bank rules: see :meth:`match`."""
        st = get_signal_type(signal)
        return self._lookup(st, [st.normalize(h) for h in hashes], ["original"] * len(hashes))

    def _lookup(
        self, st: type[SignalType], hashes: Sequence[str], variants: Sequence[str]
    ) -> list[list[Match]]:
        index = self._indexes.get(st.name)
        max_d = self._max_distance(st)
        if index is None or max_d < 0 or not hashes:
            return [[] for _ in hashes]
        out: list[list[Match]] = []
        for query, variant, hits in zip(hashes, variants, index.search(hashes, max_d), strict=True):
            found: list[Match] = []
            for ident, dist in hits:
                bank = self._by_number.get(ident >> _SLOT_BITS)
                if bank is None or not bank.enabled or dist > bank.distance:
                    continue
                entry = bank.entry_at(ident & _SLOT_MASK)
                if entry is None:
                    continue
                found.append(Match(bank.name, st.name, dist, entry, query, variant, bank.allow))
            found.sort(key=lambda m: (m.distance, m.bank, m.entry.hash))
            out.append(found)
        return out

    def match(self, hashes: ContentHashes | Mapping[str, SignalHash]) -> ScanResult:
        """Apply the matching rules to the hashes of one piece of content."""
        content = hashes if isinstance(hashes, ContentHashes) else ContentHashes(dict(hashes))
        found: dict[tuple[str, str], Match] = {}
        low: list[str] = []
        for name, h in content.hashes.items():
            st = get_signal_type(name)
            if st.name == "pdq" and not h.matchable:
                low.append(name)
                continue
            queries = [h.value, *(v for _, v in h.variants)]
            labels = ["original", *(n for n, _ in h.variants)]
            for matches in self._lookup(st, queries, labels):
                for m in matches:
                    key = (m.bank, m.entry.hash)
                    best = found.get(key)
                    if best is None or m.distance < best.distance:
                        found[key] = m
        ordered = sorted(found.values(), key=lambda m: (m.distance, m.bank, m.entry.hash))
        allowed = tuple(m for m in ordered if m.allow)
        others = tuple(m for m in ordered if not m.allow)
        return ScanResult(
            content.hashes,
            content.errors,
            content.image,
            () if allowed else others,
            allowed,
            others if allowed else (),
            tuple(low),
        )

    def scan(
        self,
        data: bytes,
        *,
        limits: DecodeLimits = DEFAULT_LIMITS,
        fast: bool = True,
        dihedral: bool = False,
    ) -> ScanResult:
        """Hash ``data`` (fast decoding by default) and match it."""
        return self.match(hash_content(data, limits=limits, fast=fast, dihedral=dihedral))
