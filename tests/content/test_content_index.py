"""PDQ indexes: multi-index hashing and the live index equal brute force exactly."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bastion.content import BruteForcePdqIndex, ExactIndex, MihIndex, PdqLiveIndex
from bastion.content.mih import brute_force_search, hex_to_words, words_to_hex

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def random_words(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(0, 2**64, size=(n, 4), dtype=np.uint64)


def flip_bits(rng: np.random.Generator, words: np.ndarray, k: int) -> np.ndarray:
    """A copy of one hash (4 words) with exactly ``k`` distinct bits flipped."""
    bits = np.unpackbits(words.astype(">u8").view(np.uint8))
    idx = rng.choice(256, size=k, replace=False)
    bits[idx] ^= 1
    return np.packbits(bits).view(">u8").astype(np.uint64)


def perturbed_queries(rng: np.random.Generator, base: np.ndarray, flips: list[int]) -> np.ndarray:
    rows = rng.integers(0, len(base), size=len(flips))
    return np.stack([flip_bits(rng, base[r], k) for r, k in zip(rows, flips, strict=True)])


def assert_same(got: tuple[np.ndarray, ...], want: tuple[np.ndarray, ...]) -> None:
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g, w)


@SETTINGS
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 2500),
    flips=st.lists(st.integers(0, 48), min_size=1, max_size=16),
    max_distance=st.sampled_from([0, 1, 15, 16, 17, 30, 31, 32, 40, 47]),
)
def test_mih_equals_brute_force(seed: int, n: int, flips: list[int], max_distance: int) -> None:
    rng = np.random.default_rng(seed)
    base = random_words(rng, n)
    queries = np.concatenate([perturbed_queries(rng, base, flips), random_words(rng, 2)])
    index = MihIndex(base)
    assert_same(
        index.search(queries, max_distance), brute_force_search(base, queries, max_distance)
    )


@SETTINGS
@given(
    seed=st.integers(0, 2**32 - 1),
    centers=st.integers(1, 6),
    spread=st.integers(0, 40),
    flips=st.lists(st.integers(20, 40), min_size=1, max_size=8),
)
def test_mih_on_clustered_hashes(seed: int, centers: int, spread: int, flips: list[int]) -> None:
    """Near-duplicate clusters crowd a few buckets of every table; recall must not suffer."""
    rng = np.random.default_rng(seed)
    middle = random_words(rng, centers)
    base = np.stack(
        [flip_bits(rng, middle[i % centers], int(rng.integers(0, spread + 1))) for i in range(600)]
    )
    queries = perturbed_queries(rng, middle, flips)
    index = MihIndex(base)
    assert_same(index.search(queries, 31), brute_force_search(base, queries, 31))


def test_batch_equals_single_queries() -> None:
    rng = np.random.default_rng(5)
    base = random_words(rng, 5000)
    queries = perturbed_queries(rng, base, [k % 45 for k in range(100)])  # several batches
    index = MihIndex(base)
    qi, rows, dist = index.search(queries, 31)
    for i in range(len(queries)):
        one = index.search(queries[i : i + 1], 31)
        np.testing.assert_array_equal(rows[qi == i], one[1])
        np.testing.assert_array_equal(dist[qi == i], one[2])
    assert len(qi) > 0
    assert index.nbytes > 5000 * 32


def test_hex_words_round_trip() -> None:
    hexes = ["00" * 32, "ff" * 32, "0123456789abcdef" * 4]
    words = hex_to_words(hexes)
    assert words.shape == (3, 4) and words[2, 0] == 0x0123456789ABCDEF
    assert words_to_hex(words) == hexes
    assert hex_to_words([]).shape == (0, 4)
    with pytest.raises(ValueError):
        hex_to_words(["abc"])


@SETTINGS
@given(
    seed=st.integers(0, 2**32 - 1),
    ops=st.lists(st.sampled_from(["add", "remove", "compact", "search"]), max_size=25),
)
def test_live_index_equals_brute_force(seed: int, ops: list[str]) -> None:
    """Adds, tombstones and snapshot swaps in any order; every search equals the model."""
    rng = np.random.default_rng(seed)
    live = PdqLiveIndex(delta_limit=64, auto_compact="sync")
    model = BruteForcePdqIndex()
    hashes: dict[int, str] = {}
    next_id = 0
    for op in [*ops, "search"]:
        if op == "add":
            k = int(rng.integers(1, 90))
            if hashes and rng.random() < 0.5:  # near-duplicates of indexed hashes
                picks = rng.choice(list(hashes), size=k)
                words = np.stack(
                    [flip_bits(rng, hex_to_words([hashes[int(p)]])[0], 5) for p in picks]
                )
            else:
                words = random_words(rng, k)
            ids = list(range(next_id, next_id + k))
            next_id += k
            new = words_to_hex(words)
            live.add(ids, new)
            model.add(ids, new)
            hashes.update(zip(ids, new, strict=True))
        elif op == "remove" and hashes:
            gone = [int(x) for x in rng.choice(list(hashes), size=min(len(hashes), 20))]
            live.remove(gone)
            model.remove(gone)
            for g in gone:
                hashes.pop(g, None)
        elif op == "compact":
            live.compact()
        if hashes:
            picked = [hashes[int(i)] for i in rng.choice(list(hashes), size=6)]
            queries = [
                *words_to_hex(np.stack([flip_bits(rng, hex_to_words([h])[0], 25) for h in picked])),
                *picked,
            ]
        else:
            queries = words_to_hex(random_words(rng, 2))
        assert live.search(queries, 31) == model.search(queries, 31)
        assert len(live) == len(model) == len(hashes)


def test_lookups_keep_working_during_adds_removals_and_swaps() -> None:
    rng = np.random.default_rng(11)
    stable = words_to_hex(random_words(rng, 300))
    live = PdqLiveIndex(delta_limit=500, auto_compact="background")
    live.add(list(range(300)), stable)
    live.compact()
    stop = threading.Event()
    problems: list[str] = []

    def reader() -> None:
        while not stop.is_set():
            found = live.search(stable[:50], 0)
            if any(hits != [(i, 0)] for i, hits in enumerate(found)):
                problems.append("a stable hash was missed during a swap")
                return

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        next_id = 1000
        for _ in range(12):
            batch = words_to_hex(random_words(rng, 200))
            ids = list(range(next_id, next_id + 200))
            next_id += 200
            live.add(ids, batch)
            live.remove(ids[:100])
            # Removal takes effect before remove() returns; additions before add() returns.
            assert live.search(batch[:100], 0) == [[] for _ in range(100)]
            assert live.search(batch[100:110], 0) == [[(ids[100 + j], 0)] for j in range(10)]
        live.wait_compacted(10)
    finally:
        stop.set()
        for t in threads:
            t.join(10)
    assert not problems
    assert len(live) == 300 + 12 * 100
    live.compact()
    assert live.delta_size == 0 and live.snapshot_size == len(live)


def test_exact_index() -> None:
    index = ExactIndex()
    index.add([1, 2, 3], ["a" * 32, "b" * 32, "a" * 32])
    assert index.search(["a" * 32, "c" * 32]) == [[(1, 0), (3, 0)], []]
    index.remove([1, 99])
    assert index.search(["a" * 32]) == [[(3, 0)]]
    assert len(index) == 2
    index.remove([3])
    assert index.search(["a" * 32]) == [[]]
