"""Multi-index hashing (MIH) for 256-bit hashes under Hamming distance, in NumPy.

The 256 bits are cut into 16 substrings of 16 bits (the ``uint16`` lanes of four
``uint64`` words). If two hashes are within distance ``D``, the pigeonhole principle puts
at least one of the 16 substrings within ``D // 16`` of the query's (two hashes within 31
share one substring up to one flipped bit). Each substring has a table: the row numbers
sorted by that substring's value, plus 65,536 bucket offsets. A query probes, per table,
every key within radius ``D // 16`` of its own substring (17 keys at D <= 31), so every
true match lands in some probed bucket: recall is exact by construction.

Candidate verification is where time goes. Each table also keeps, in bucket order, a copy
of the two ``uint64`` words of every hash that do not contain the table's substring. A
candidate is first checked against those 128 bits with contiguous reads (a random pair
of hashes is almost never within 31 on 128 of their bits, so this prunes nearly every
false candidate); only the survivors are fetched from the full hash array, deduplicated
and measured exactly. The copies cost 16 x 16 bytes per hash (about 3.5 GB in all for 10
million hashes) and save one random memory access per candidate.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Final

import numpy as np
import numpy.typing as npt

__all__ = ["MihIndex", "brute_force_search", "hex_to_words", "words_to_hex"]

TABLES: Final = 16
KEY_BITS: Final = 16
BUCKETS: Final = 1 << KEY_BITS
#: Tables 0-7 take their substring from words 0-1 and keep words 2-3; tables 8-15 the reverse.
_GROUPS: Final = ((range(0, 8), (2, 3)), (range(8, 16), (0, 1)))
#: Most queries per internal batch, and the candidates a batch aims at.
_CHUNK: Final = 32
_CANDIDATES_PER_BATCH: Final = 65_536

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]


def hex_to_words(hexes: Sequence[str]) -> U64:
    """64-hex-digit hashes to an (n, 4) ``uint64`` array (word 0 = first 16 digits)."""
    if not hexes:
        return np.empty((0, 4), dtype=np.uint64)
    raw = bytes.fromhex("".join(hexes))
    if len(raw) != 32 * len(hexes):
        raise ValueError("every hash must have exactly 64 hex digits")
    return np.frombuffer(raw, dtype=">u8").astype(np.uint64).reshape(len(hexes), 4)


def words_to_hex(words: U64) -> list[str]:
    """The inverse of :func:`hex_to_words`."""
    raw = np.ascontiguousarray(words, dtype=np.uint64).astype(">u8").tobytes()
    return [raw[i : i + 32].hex() for i in range(0, len(raw), 32)]


def distances(words: U64, query: U64) -> npt.NDArray[np.int32]:
    """Hamming distance of every row of ``words`` (n, 4) to one ``query`` (4,)."""
    counts = np.bitwise_count(words ^ query)
    out: npt.NDArray[np.int32] = counts.sum(axis=1, dtype=np.int32)
    return out


def brute_force_search(
    words: U64, queries: U64, max_distance: int
) -> tuple[I64, I64, npt.NDArray[np.int32]]:
    """The reference: (query index, row, distance) of every pair within ``max_distance``."""
    qs: list[I64] = []
    rows: list[I64] = []
    ds: list[npt.NDArray[np.int32]] = []
    for i in range(len(queries)):
        d = distances(words, queries[i])
        hit = np.flatnonzero(d <= max_distance)
        qs.append(np.full(hit.size, i, dtype=np.int64))
        rows.append(hit.astype(np.int64))
        ds.append(d[hit])
    if not qs:
        return _empty_result()
    return np.concatenate(qs), np.concatenate(rows), np.concatenate(ds)


def _empty_result() -> tuple[I64, I64, npt.NDArray[np.int32]]:
    return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int32)


@cache
def _probe_masks(radius: int) -> I64:
    """Every 16-bit value with at most ``radius`` bits set, as int64."""
    values = np.arange(BUCKETS, dtype=np.uint16)
    keep = np.bitwise_count(values) <= radius
    masks = values[keep].astype(np.int64)
    masks.setflags(write=False)
    return masks


class MihIndex:
    """An immutable multi-index over ``n`` 256-bit hashes; search is exact (recall 100%)."""

    def __init__(self, words: U64) -> None:
        words = np.ascontiguousarray(words, dtype=np.uint64)
        if words.ndim != 2 or words.shape[1] != 4:
            raise ValueError(f"expected an (n, 4) uint64 array, got shape {words.shape}")
        n = len(words)
        if n >= 2**31:
            raise ValueError("at most 2**31 - 1 hashes per index")
        self.words = words
        self.size = n
        keys = words.view(np.uint16).reshape(n, TABLES)
        self._order = np.empty(TABLES * n, dtype=np.int32)
        self._pairs = np.empty((TABLES * n, 2), dtype=np.uint64)
        self._offsets = np.empty(TABLES * BUCKETS + 1, dtype=np.int64)
        self._offsets[0] = 0
        for tables, kept in _GROUPS:
            for j in tables:
                key = keys[:, j]
                order = np.argsort(key, kind="stable")
                seg = slice(j * n, (j + 1) * n)
                self._order[seg] = order
                self._pairs[seg, 0] = words[:, kept[0]][order]
                self._pairs[seg, 1] = words[:, kept[1]][order]
                counts = np.bincount(key, minlength=BUCKETS)
                self._offsets[j * BUCKETS + 1 : (j + 1) * BUCKETS + 1] = j * n + np.cumsum(counts)

    def __len__(self) -> int:
        return self.size

    @property
    def nbytes(self) -> int:
        """Memory held by the index (hashes, tables and copies), in bytes."""
        return int(
            self.words.nbytes + self._order.nbytes + self._pairs.nbytes + self._offsets.nbytes
        )

    def candidate_count(self, queries: U64, max_distance: int) -> int:
        """Bucket entries a search of ``queries`` scans (a cost diagnostic for benchmarks)."""
        queries = np.ascontiguousarray(queries, dtype=np.uint64).reshape(-1, 4)
        if max_distance < 0 or self.size == 0:
            return 0
        masks = _probe_masks(min(max_distance // TABLES, KEY_BITS))
        qkeys = queries.view(np.uint16).reshape(len(queries), TABLES).astype(np.int64)
        probes = ((qkeys[:, :, None] ^ masks) + (np.arange(TABLES) * BUCKETS)[:, None]).ravel()
        return int((self._offsets[probes + 1] - self._offsets[probes]).sum())

    def search(self, queries: U64, max_distance: int) -> tuple[I64, I64, npt.NDArray[np.int32]]:
        """Every (query index, row, distance) with distance <= ``max_distance``.

        ``queries`` is a (q, 4) ``uint64`` array; results are sorted by query, then row.
        """
        queries = np.ascontiguousarray(queries, dtype=np.uint64).reshape(-1, 4)
        nq = len(queries)
        if nq == 0 or self.size == 0 or max_distance < 0:
            return _empty_result()
        # Batches sized to keep the candidate arrays in cache (about 64k candidates).
        radius = min(max_distance // TABLES, KEY_BITS)
        per_query = TABLES * _probe_masks(radius).size * self.size / BUCKETS
        chunk = int(max(1, min(_CHUNK, _CANDIDATES_PER_BATCH // max(per_query, 1.0))))
        if nq > chunk:
            parts = [
                self._search(queries[i : i + chunk], max_distance) for i in range(0, nq, chunk)
            ]
            return (
                np.concatenate([p[0] + i * chunk for i, p in enumerate(parts)]),
                np.concatenate([p[1] for p in parts]),
                np.concatenate([p[2] for p in parts]),
            )
        return self._search(queries, max_distance)

    def _search(self, queries: U64, max_distance: int) -> tuple[I64, I64, npt.NDArray[np.int32]]:
        nq = len(queries)
        masks = _probe_masks(min(max_distance // TABLES, KEY_BITS))
        qkeys = queries.view(np.uint16).reshape(nq, TABLES).astype(np.int64)
        found_q: list[I64] = []
        found_rows: list[npt.NDArray[np.int32]] = []
        for tables, kept in _GROUPS:
            tabs = np.asarray(tables, dtype=np.int64)
            probes = (qkeys[:, tabs, None] ^ masks) + (tabs * BUCKETS)[:, None]
            probes = probes.reshape(-1)
            starts = self._offsets[probes]
            lens = self._offsets[probes + 1] - starts
            ends = np.cumsum(lens)
            total = int(ends[-1])
            if total == 0:
                continue
            pos = np.repeat(starts - (ends - lens), lens) + np.arange(total, dtype=np.int64)
            cand = self._pairs.take(pos, axis=0)
            qpairs = queries[:, kept]
            if nq == 1:
                cand ^= qpairs[0]
                qidx = None
            else:
                per_probe = np.repeat(np.arange(nq, dtype=np.int64), len(tabs) * masks.size)
                qidx = np.repeat(per_probe, lens)
                cand ^= qpairs[qidx]
            counts = np.bitwise_count(cand)
            partial = counts[:, 0] + counts[:, 1]
            sel = np.flatnonzero(partial <= max_distance)
            found_rows.append(self._order.take(pos.take(sel)))
            found_q.append(np.zeros(sel.size, np.int64) if qidx is None else qidx.take(sel))
        if not found_rows:
            return _empty_result()
        keys_all = np.concatenate(found_q) * self.size + np.concatenate(found_rows)
        keys_all = np.unique(keys_all)
        qi = keys_all // self.size
        rows = keys_all % self.size
        diff = np.bitwise_count(self.words.take(rows, axis=0) ^ queries.take(qi, axis=0))
        dist = diff.sum(axis=1, dtype=np.int32)
        keep = dist <= max_distance
        return qi[keep], rows[keep], dist[keep]
