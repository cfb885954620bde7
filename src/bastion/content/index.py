"""Live hash indexes: lookups keep running while hashes are added and tombstoned.

Every index maps integer ids (chosen by the caller) to hashes of one signal type.

* :class:`ExactIndex`: a dict, for MD5 and SHA-256.
* :class:`PdqLiveIndex`: an immutable :class:`~bastion.content.mih.MihIndex` snapshot plus
  a small delta searched by brute force, plus tombstones. Additions and removals take
  effect at once; when the delta grows past ``delta_limit`` a new snapshot is built (in
  a background thread by default) from the live rows and swapped in atomically. A lookup
  reads the current state once and never sees a half-built one.
* :class:`BruteForcePdqIndex`: the reference the tests and benchmarks compare against.

Thread safety: lookups take no lock (they read one reference to an immutable state);
writers serialise on a lock; at most one snapshot build runs at a time.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt

from bastion.content.mih import I64, U64, MihIndex, brute_force_search, hex_to_words

__all__ = ["BruteForcePdqIndex", "ExactIndex", "Hit", "PdqLiveIndex", "SignalIndex"]

#: (id, distance) of one indexed hash that matched a query.
Hit = tuple[int, int]


class SignalIndex(Protocol):
    """What a signal type's index offers the matcher."""

    def add(self, ids: Sequence[int], hashes: Sequence[str]) -> None:
        """Index normalized ``hashes`` under ``ids`` (ids are unique and never reused)."""

    def remove(self, ids: Iterable[int]) -> None:
        """Tombstone ``ids``: they stop matching at once."""

    def search(self, hashes: Sequence[str], max_distance: int) -> list[list[Hit]]:
        """For each query hash, every live (id, distance) within ``max_distance``."""

    def __len__(self) -> int:
        """Number of live hashes."""


class ExactIndex:
    """Exact-match index: a dict from hash to the ids that carry it."""

    def __init__(self) -> None:
        self._by_hash: dict[str, tuple[int, ...]] = {}
        self._hash_of: dict[int, str] = {}
        self._lock = threading.Lock()

    def add(self, ids: Sequence[int], hashes: Sequence[str]) -> None:
        if len(ids) != len(hashes):
            raise ValueError("ids and hashes differ in length")
        with self._lock:
            for i, h in zip(ids, hashes, strict=True):
                self._hash_of[i] = h
                # Replace, never mutate, the tuple: readers may hold the old one.
                self._by_hash[h] = (*self._by_hash.get(h, ()), i)

    def remove(self, ids: Iterable[int]) -> None:
        with self._lock:
            for i in ids:
                h = self._hash_of.pop(i, None)
                if h is None:
                    continue
                rest = tuple(x for x in self._by_hash.get(h, ()) if x != i)
                if rest:
                    self._by_hash[h] = rest
                else:
                    self._by_hash.pop(h, None)

    def search(self, hashes: Sequence[str], max_distance: int = 0) -> list[list[Hit]]:
        if max_distance < 0:
            return [[] for _ in hashes]
        return [[(i, 0) for i in self._by_hash.get(h, ())] for h in hashes]

    def __len__(self) -> int:
        return len(self._hash_of)


class BruteForcePdqIndex:
    """Reference PDQ index: every query is compared with every hash."""

    def __init__(self) -> None:
        self._words = np.empty((0, 4), dtype=np.uint64)
        self._ids = np.empty(0, dtype=np.int64)

    def add(self, ids: Sequence[int], hashes: Sequence[str]) -> None:
        self._words = np.concatenate([self._words, hex_to_words(hashes)])
        self._ids = np.concatenate([self._ids, np.asarray(ids, dtype=np.int64)])

    def remove(self, ids: Iterable[int]) -> None:
        keep = ~np.isin(self._ids, np.fromiter(ids, dtype=np.int64))
        self._words, self._ids = self._words[keep], self._ids[keep]

    def search(self, hashes: Sequence[str], max_distance: int) -> list[list[Hit]]:
        qi, rows, dist = brute_force_search(self._words, hex_to_words(hashes), max_distance)
        return _group(len(hashes), qi, self._ids[rows], dist, set())

    def __len__(self) -> int:
        return len(self._ids)


def _group(
    nq: int, qi: I64, ids: I64, dist: npt.NDArray[np.int32], dead: set[int] | frozenset[int]
) -> list[list[Hit]]:
    out: list[list[Hit]] = [[] for _ in range(nq)]
    for q, i, d in zip(qi.tolist(), ids.tolist(), dist.tolist(), strict=True):
        if i not in dead:
            out[q].append((i, d))
    for hits in out:
        hits.sort(key=lambda h: (h[1], h[0]))
    return out


@dataclass(frozen=True, slots=True)
class _State:
    """One generation of a live index. Never mutated, except ``tombstones`` (add only)."""

    snapshot: MihIndex | None
    snapshot_ids: I64
    sorted_ids: I64
    """``snapshot_ids`` sorted, to find ids in the snapshot by binary search."""
    delta_words: U64
    delta_ids: I64
    tombstones: set[int]
    live: int


class PdqLiveIndex:
    """PDQ index with a multi-index snapshot, a brute-force delta and tombstones."""

    def __init__(
        self,
        *,
        delta_limit: int = 32_768,
        auto_compact: Literal["background", "sync", "off"] = "background",
    ) -> None:
        if delta_limit < 1:
            raise ValueError("delta_limit must be positive")
        self.delta_limit = delta_limit
        self.auto_compact = auto_compact
        self._lock = threading.Lock()
        self._compact_lock = threading.Lock()
        self._buf_words = np.empty((1024, 4), dtype=np.uint64)
        self._buf_ids = np.empty(1024, dtype=np.int64)
        self._compactor: threading.Thread | None = None
        self._state = _State(
            None,
            np.empty(0, np.int64),
            np.empty(0, np.int64),
            self._buf_words[:0],
            self._buf_ids[:0],
            set(),
            0,
        )

    # ------------------------------------------------------------------ writes

    def add(self, ids: Sequence[int], hashes: Sequence[str]) -> None:
        if len(ids) != len(hashes):
            raise ValueError("ids and hashes differ in length")
        if not ids:
            return
        self.add_words(np.asarray(ids, dtype=np.int64), hex_to_words(hashes))

    def add_words(self, ids: I64, words: U64) -> None:
        """Like :meth:`add`, with hashes already as an (n, 4) ``uint64`` array."""
        with self._lock:
            s = self._state
            n, k = len(s.delta_ids), len(ids)
            self._reserve(n + k)
            self._buf_words[n : n + k] = words
            self._buf_ids[n : n + k] = ids
            self._state = replace(
                s,
                delta_words=self._buf_words[: n + k],
                delta_ids=self._buf_ids[: n + k],
                live=s.live + k,
            )
            grown = n + k >= self.delta_limit
        if grown:
            self._maybe_compact()

    def _reserve(self, size: int) -> None:
        """Grow the delta buffers (copying) so they hold ``size`` rows; caller holds the lock.

        States already published keep views of the old buffers, whose rows never change.
        """
        if size <= len(self._buf_ids):
            return
        cap = max(size, 2 * len(self._buf_ids))
        n = len(self._state.delta_ids)
        words = np.empty((cap, 4), dtype=np.uint64)
        ids = np.empty(cap, dtype=np.int64)
        words[:n] = self._buf_words[:n]
        ids[:n] = self._buf_ids[:n]
        self._buf_words, self._buf_ids = words, ids

    def remove(self, ids: Iterable[int]) -> None:
        with self._lock:
            s = self._state
            new = {int(i) for i in ids} - s.tombstones
            if not new:
                return
            s.tombstones.update(new)
            # ``live`` counts only ids actually present; absent ids are harmless tombstones.
            wanted = np.fromiter(new, dtype=np.int64, count=len(new))
            at = np.searchsorted(s.sorted_ids, wanted).clip(max=max(len(s.sorted_ids) - 1, 0))
            present = int((s.sorted_ids[at] == wanted).sum()) if len(s.sorted_ids) else 0
            present += int(np.isin(s.delta_ids, wanted).sum())
            self._state = replace(s, live=s.live - present)
            many = len(s.tombstones) >= self.delta_limit
        if many:
            self._maybe_compact()

    def _maybe_compact(self) -> None:
        if self.auto_compact == "sync":
            self.compact()
        elif self.auto_compact == "background":
            with self._lock:
                if self._compactor is not None and self._compactor.is_alive():
                    return
                self._compactor = threading.Thread(
                    target=self.compact, name="pdq-index-compact", daemon=True
                )
                self._compactor.start()

    def compact(self) -> None:
        """Fold the delta and the tombstones into a new snapshot and swap it in.

        Does nothing when there is nothing to fold (no delta, no tombstones).
        """
        with self._compact_lock:
            with self._lock:
                s0 = self._state
                if not len(s0.delta_ids) and not s0.tombstones:
                    return
                dead = np.fromiter(s0.tombstones, dtype=np.int64, count=len(s0.tombstones))
            words = s0.delta_words
            ids = s0.delta_ids
            if s0.snapshot is not None:
                words = np.concatenate([s0.snapshot.words, words])
                ids = np.concatenate([s0.snapshot_ids, ids])
            if dead.size:
                keep = ~np.isin(ids, dead)
                words, ids = words[keep], ids[keep]
            snapshot = MihIndex(words) if len(ids) else None
            sorted_ids = np.sort(ids) if snapshot is not None else np.empty(0, np.int64)
            with self._lock:
                cur = self._state
                done = len(s0.delta_ids)
                rest_ids = cur.delta_ids[done:]
                rest_words = cur.delta_words[done:]
                cap = max(1024, 2 * len(rest_ids))
                self._buf_words = np.empty((cap, 4), dtype=np.uint64)
                self._buf_ids = np.empty(cap, dtype=np.int64)
                self._buf_words[: len(rest_ids)] = rest_words
                self._buf_ids[: len(rest_ids)] = rest_ids
                self._state = _State(
                    snapshot,
                    ids if snapshot is not None else np.empty(0, np.int64),
                    sorted_ids,
                    self._buf_words[: len(rest_ids)],
                    self._buf_ids[: len(rest_ids)],
                    cur.tombstones - set(dead.tolist()),
                    cur.live,
                )

    def wait_compacted(self, timeout: float | None = None) -> None:
        """Wait for a background snapshot build, if one is running."""
        t = self._compactor
        if t is not None:
            t.join(timeout)

    # ------------------------------------------------------------------ reads

    def search(self, hashes: Sequence[str], max_distance: int) -> list[list[Hit]]:
        return self.search_words(hex_to_words(hashes), max_distance)

    def search_words(self, queries: U64, max_distance: int) -> list[list[Hit]]:
        """Like :meth:`search`, with queries as a (q, 4) ``uint64`` array."""
        s = self._state
        nq = len(queries)
        qis: list[I64] = []
        ids: list[I64] = []
        ds: list[npt.NDArray[np.int32]] = []
        if s.snapshot is not None:
            qi, rows, d = s.snapshot.search(queries, max_distance)
            qis.append(qi)
            ids.append(s.snapshot_ids.take(rows))
            ds.append(d)
        if len(s.delta_ids):
            qi, rows, d = brute_force_search(s.delta_words, queries, max_distance)
            qis.append(qi)
            ids.append(s.delta_ids.take(rows))
            ds.append(d)
        if not qis:
            return [[] for _ in range(nq)]
        return _group(
            nq, np.concatenate(qis), np.concatenate(ids), np.concatenate(ds), s.tombstones
        )

    def __len__(self) -> int:
        return self._state.live

    @property
    def snapshot(self) -> MihIndex | None:
        """The current immutable snapshot (``None`` until the first build)."""
        return self._state.snapshot

    @property
    def snapshot_size(self) -> int:
        """Rows in the current snapshot (tombstoned ones included until the next build)."""
        return len(self._state.snapshot_ids)

    @property
    def delta_size(self) -> int:
        """Rows added since the current snapshot was built."""
        return len(self._state.delta_ids)

    @property
    def nbytes(self) -> int:
        """Memory held by the current snapshot and the delta buffers, in bytes."""
        s = self._state
        snap = 0
        if s.snapshot is not None:
            snap = s.snapshot.nbytes + s.snapshot_ids.nbytes + s.sorted_ids.nbytes
        return int(snap + self._buf_words.nbytes + self._buf_ids.nbytes)
