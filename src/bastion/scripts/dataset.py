"""Featurized corpora as half-window bags, the unit both training and inference pool over.

Every script becomes a run of half-windows (``HALF_WINDOW`` tree positions each); a half
holds its distinct feature ids with their counts. The model's input for a window is the
sum of two consecutive halves (see :mod:`bastion.scripts.model`), so training on these
bags computes exactly what the scorer computes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bastion.scripts import features as F
from bastion.scripts.source import SourceError, prepare
from bastion.scripts.tree import parse_many

IntArray = npt.NDArray[np.int64]


@dataclass
class Bags:
    """Flat CSR arrays: items -> halves -> (feature id, count)."""

    ids: npt.NDArray[np.int32]
    cnt: npt.NDArray[np.float32]
    half_ptr: IntArray  # (halves + 1,) offsets into ids/cnt
    half_count: npt.NDArray[np.float32]  # (halves,) total feature occurrences per half
    item_ptr: IntArray  # (items + 1,) offsets into halves

    @property
    def n_items(self) -> int:
        return len(self.item_ptr) - 1

    def save(self, path: str) -> None:
        np.savez(
            path,
            ids=self.ids,
            cnt=self.cnt,
            half_ptr=self.half_ptr,
            half_count=self.half_count,
            item_ptr=self.item_ptr,
        )

    @classmethod
    def load(cls, path: str) -> Bags:
        with np.load(path) as z:
            return cls(z["ids"], z["cnt"], z["half_ptr"], z["half_count"], z["item_ptr"])


def half_bags(fs: F.FeatureSet) -> tuple[IntArray, npt.NDArray[np.int32], npt.NDArray[np.float32]]:
    """(half index, id, count) of a feature set's distinct (half, id) pairs, sorted."""
    nhalf = max(1, -(-fs.length // F.HALF_WINDOW))
    if not fs.groups:
        return np.zeros(0, np.int64), np.zeros(0, np.int32), np.zeros(0, np.float32)
    half = np.concatenate([np.minimum(p // F.HALF_WINDOW, nhalf - 1) for _, p in fs.groups])
    ids = np.concatenate([i for i, _ in fs.groups]).astype(np.int64)
    key = (half << F.BITS) | ids
    uniq, counts = np.unique(key, return_counts=True)
    return uniq >> F.BITS, (uniq & ((1 << F.BITS) - 1)).astype(np.int32), counts.astype(np.float32)


def featurize_items(
    texts: Iterable[bytes], total: int | None = None, log: Callable[[str], None] | None = None
) -> Bags:
    """Bags of every text (an unreadable one gets a single empty half)."""
    ids_parts: list[npt.NDArray[np.int32]] = []
    cnt_parts: list[npt.NDArray[np.float32]] = []
    half_sizes: list[IntArray] = []
    half_counts: list[npt.NDArray[np.float32]] = []
    item_halves: list[int] = []
    featurizer = F.Featurizer()
    for n, data in enumerate(texts):
        try:
            src = prepare(data)
            fs = featurizer.featurize(parse_many(src.chunks))
        except SourceError:
            fs = F.FeatureSet([], 0)
        nhalf = max(1, -(-fs.length // F.HALF_WINDOW))
        half, ids, cnt = half_bags(fs)
        sizes = np.bincount(half, minlength=nhalf).astype(np.int64)
        hcount = np.bincount(half, weights=cnt, minlength=nhalf).astype(np.float32)
        ids_parts.append(ids)
        cnt_parts.append(cnt)
        half_sizes.append(sizes)
        half_counts.append(hcount)
        item_halves.append(nhalf)
        if log and (n + 1) % 2000 == 0:
            log(f"featurized {n + 1}{'/' + str(total) if total else ''}")
    sizes_all = np.concatenate(half_sizes) if half_sizes else np.zeros(0, np.int64)
    return Bags(
        ids=np.concatenate(ids_parts) if ids_parts else np.zeros(0, np.int32),
        cnt=np.concatenate(cnt_parts) if cnt_parts else np.zeros(0, np.float32),
        half_ptr=np.concatenate([[0], np.cumsum(sizes_all)]).astype(np.int64),
        half_count=np.concatenate(half_counts) if half_counts else np.zeros(0, np.float32),
        item_ptr=np.concatenate([[0], np.cumsum(item_halves)]).astype(np.int64),
    )


def windows_of(item_ptr: IntArray, items: IntArray) -> tuple[IntArray, IntArray, IntArray]:
    """Windows of the given items as (first half, second half or -1, position in ``items``)."""
    starts = item_ptr[items]
    nh = item_ptr[items + 1] - starts
    nwin = np.maximum(nh - 1, 1)
    owner = np.repeat(np.arange(len(items)), nwin)
    first_win = np.concatenate([[0], np.cumsum(nwin)[:-1]])
    k = np.arange(int(nwin.sum())) - np.repeat(first_win, nwin)
    a = np.repeat(starts, nwin) + k
    b = np.where(np.repeat(nh, nwin) > 1, a + 1, -1)
    return a, b, owner
