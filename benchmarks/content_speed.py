"""Content scanning speed on one core: images/s end to end, PDQ lookups vs FAISS.

Usage::

    nice -n 10 .venv/bin/python benchmarks/content_speed.py
        [--sizes 1000000,10000000] [--datasets uniform,clustered] [--queries 1000]
        [--recall-queries 200] [--e2e-bank 1000000] [--core N] [--no-faiss] [--json OUT]

The process is pinned to one CPU (``--core``, default the last one) and FAISS runs with
one thread, in the same process, on the same hashes and queries.

1. End to end: 1024x768 JPEGs (the shared photos upscaled, or generated images), each
   decoded (draft mode), hashed (PDQ, MD5, SHA-256) and matched by ``Matcher.scan``
   against a 1M-hash PDQ bank plus MD5 and SHA-256 banks. Also the exact (full decode)
   rate, and the time per stage.
2. Lookups at distance 31, one query at a time through ``PdqLiveIndex.search`` (hex in,
   (id, distance) out: what the matcher calls), for each size and dataset:

   * ``uniform``: random hashes; queries are bank entries with 0-40 bits flipped (half)
     and fresh random hashes (half).
   * ``clustered``: hashes with the bit statistics of real photos. A pool of real PDQ
     hashes (random crops, scales and flips of the photos) is spread into the bank: every
     bank hash is a pool hash with 4-64 random bits flipped, so each pool hash has a
     crowd of near and not-so-near neighbours (about N / pool of them). Queries: bank
     entries with 0-40 bits flipped (half) and the photos themselves after JPEG q50 and
     a 10% crop (half: similar content that mostly should not match).

   Recall is checked against NumPy brute force on the first ``--recall-queries`` queries,
   and FAISS ``IndexBinaryFlat`` (exact, ``range_search`` radius 32) is timed on the same
   queries; its hits must equal ours on every query.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import os
import resource
import time
from pathlib import Path
from typing import Any

import numpy as np
import pdqhash
from PIL import Image

from bastion.content import Bank, Entry, Matcher, PdqLiveIndex, hash_content
from bastion.content.decode import decode_image
from bastion.content.hashing import FAST_MIN_SIDE
from bastion.content.mih import brute_force_search, words_to_hex
from bastion.content.signals import pdq_bits_to_hex

MAX_DISTANCE = 31


# ----------------------------------------------------------------------------- helpers


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def stats_ms(seconds: list[float]) -> dict[str, float]:
    a = np.array(seconds) * 1e3
    return {
        "mean": float(a.mean()),
        "p50": float(np.percentile(a, 50)),
        "p99": float(np.percentile(a, 99)),
        "max": float(a.max()),
    }


class Clock:
    """Wall time and this process's CPU time of a block (the machine may be shared: CPU
    time is what one core spends, whatever else runs)."""

    def __enter__(self) -> Clock:
        self.wall0, self.cpu0 = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall0
        self.cpu = time.process_time() - self.cpu0


def default_images() -> Path | None:
    here = Path(__file__).resolve()
    for base in (Path.cwd() / ".." / "shared", here.parents[2] / "shared"):
        d = base / "datasets" / "images"
        if (d / "manifest.csv").is_file():
            return d.resolve()
    return None


def generated(seed: int, size: tuple[int, int] = (480, 320)) -> Image.Image:
    rng = np.random.default_rng(seed)
    w, h = size
    f = np.sqrt(np.fft.fftfreq(h)[:, None] ** 2 + np.fft.fftfreq(w)[None, :] ** 2)
    f[0, 0] = 1.0
    amp = 1.0 / f
    amp[0, 0] = 0.0
    shared = np.real(np.fft.ifft2(amp * np.exp(2j * np.pi * rng.random((h, w)))))
    chans = []
    for _ in range(3):
        c = shared + 0.5 * np.real(np.fft.ifft2(amp * np.exp(2j * np.pi * rng.random((h, w)))))
        lo, hi = np.percentile(c, [1, 99])
        chans.append((c - lo) / (hi - lo) * 255)
    return Image.fromarray(np.stack(chans, 2).clip(0, 255).astype(np.uint8), "RGB")


def load_images(limit: int) -> tuple[list[Image.Image], str]:
    root = default_images()
    if root is None:
        return [generated(i) for i in range(min(limit, 200))], "generated 1/f images"
    paths = sorted(root.rglob("*.jpg"))[:limit]
    images = []
    for p in paths:
        with Image.open(p) as im:
            images.append(im.convert("RGB"))
    return images, f"{len(images)} photos from {root}"


def encode(image: Image.Image, fmt: str = "JPEG", **params: object) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **params)
    return buf.getvalue()


def flip_random_bits(
    rng: np.random.Generator, words: np.ndarray, low: int, high: int
) -> np.ndarray:
    """Each row with about U[low, high] of its 256 bits flipped (Bernoulli per bit)."""
    out = np.empty_like(words)
    for start in range(0, len(words), 500_000):
        chunk = words[start : start + 500_000]
        n = len(chunk)
        rate = rng.integers(low, high + 1, size=(n, 1))  # expected flipped bits per row
        draws = rng.integers(0, 256, size=(n, 256), dtype=np.uint8)
        mask = np.packbits(draws < rate.astype(np.uint8), axis=1)
        out[start : start + n] = chunk ^ mask.view(np.uint64).reshape(n, 4)
    return out


def flip_exact(rng: np.random.Generator, words: np.ndarray, ks: np.ndarray) -> np.ndarray:
    """Row i of ``words`` with exactly ``ks[i]`` distinct bits flipped."""
    out = words.copy()
    bits = out.view(np.uint8)
    for i, k in enumerate(ks):
        for b in rng.choice(256, size=int(k), replace=False):
            bits[i, b >> 3] ^= np.uint8(1 << (b & 7))
    return out


# ----------------------------------------------------------------------------- datasets


def real_pool(images: list[Image.Image], per_image: int, seed: int) -> np.ndarray:
    """PDQ hashes of random crops, scales and flips of real photos."""
    rng = np.random.default_rng(seed)
    hexes = []
    for im in images:
        w, h = im.size
        for _ in range(per_image):
            area = rng.uniform(0.25, 1.0)
            aspect = rng.uniform(0.75, 1.33)
            cw = int(min(w, max(32, w * np.sqrt(area * aspect))))
            ch = int(min(h, max(32, h * np.sqrt(area / aspect))))
            x, y = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
            part = im.crop((x, y, x + cw, y + ch))
            scale = rng.uniform(0.4, 1.0)
            part = part.resize((max(32, int(cw * scale)), max(32, int(ch * scale))))
            if rng.random() < 0.5:
                part = part.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
            vec, quality = pdqhash.compute(np.ascontiguousarray(np.asarray(part)))
            if quality >= 50:
                hexes.append(pdq_bits_to_hex(vec))
    words = np.frombuffer(bytes.fromhex("".join(hexes)), dtype=">u8").astype(np.uint64)
    return np.unique(words.reshape(-1, 4), axis=0)


def make_dataset(
    kind: str, n: int, nq: int, pool: np.ndarray | None, photo_queries: np.ndarray | None, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    if kind == "uniform":
        bank = rng.integers(0, 2**64, size=(n, 4), dtype=np.uint64)
        others = rng.integers(0, 2**64, size=(nq - nq // 2, 4), dtype=np.uint64)
    else:
        assert pool is not None and photo_queries is not None
        base = pool[rng.integers(0, len(pool), size=n)]
        bank = flip_random_bits(rng, base, 4, 64)
        others = photo_queries[rng.integers(0, len(photo_queries), size=nq - nq // 2)]
    picks = bank[rng.integers(0, n, size=nq // 2)]
    near = flip_exact(rng, picks, rng.integers(0, 41, size=len(picks)))
    queries = np.concatenate([near, others])
    return bank, queries[rng.permutation(len(queries))]


# ----------------------------------------------------------------------------- lookups


def bench_lookups(
    kind: str,
    bank: np.ndarray,
    queries: np.ndarray,
    recall_queries: int,
    with_faiss: bool,
) -> dict[str, Any]:
    n = len(bank)
    out: dict[str, Any] = {"dataset": kind, "n": n, "queries": len(queries)}
    gc.collect()
    before = rss_mb()
    t0 = time.perf_counter()
    index = PdqLiveIndex(auto_compact="off")
    index.add_words(np.arange(n, dtype=np.int64), bank)
    index.compact()
    out["build_s"] = time.perf_counter() - t0
    gc.collect()
    out["index_mb"] = index.nbytes / 2**20
    out["rss_growth_mb"] = rss_mb() - before
    snapshot = index.snapshot
    assert snapshot is not None
    out["candidates_per_query"] = snapshot.candidate_count(queries, MAX_DISTANCE) / len(queries)

    hexes = words_to_hex(queries)
    for h in hexes[:20]:  # warm-up
        index.search([h], MAX_DISTANCE)
    ours: list[list[tuple[int, int]]] = []
    walls, cpus = [], []
    for h in hexes:
        with Clock() as c:
            ours.append(index.search([h], MAX_DISTANCE)[0])
        walls.append(c.wall)
        cpus.append(c.cpu)
    out["bastion_ms"] = stats_ms(walls)
    out["bastion_cpu_ms"] = stats_ms(cpus)
    t = time.perf_counter()
    batched = index.search_words(queries, MAX_DISTANCE)
    out["bastion_batch_ms_per_query"] = (time.perf_counter() - t) * 1e3 / len(queries)
    assert batched == ours
    out["hits_per_query"] = sum(len(h) for h in ours) / len(ours)
    out["queries_with_hits"] = sum(bool(h) for h in ours) / len(ours)

    r = min(recall_queries, len(queries))
    t = time.perf_counter()
    qi, rows, dist = brute_force_search(bank, queries[:r], MAX_DISTANCE)
    out["brute_force_ms_per_query"] = (time.perf_counter() - t) * 1e3 / max(r, 1)
    truth: list[set[tuple[int, int]]] = [set() for _ in range(r)]
    for q, row, d in zip(qi.tolist(), rows.tolist(), dist.tolist(), strict=True):
        truth[q].add((row, d))
    found = sum(len(truth[i] & set(ours[i])) for i in range(r))
    total = sum(len(x) for x in truth)
    extra = sum(len(set(ours[i]) - truth[i]) for i in range(r))
    out["recall"] = found / total if total else 1.0
    out["recall_checked"] = {"queries": r, "true_hits": total, "extra_hits": extra}
    del index, snapshot, batched
    gc.collect()

    if with_faiss:
        import faiss

        faiss.omp_set_num_threads(1)
        before = rss_mb()
        t0 = time.perf_counter()
        flat = faiss.IndexBinaryFlat(256)
        flat.add(np.ascontiguousarray(bank).view(np.uint8).reshape(n, 32))
        out["faiss_build_s"] = time.perf_counter() - t0
        out["faiss_rss_growth_mb"] = rss_mb() - before
        out["faiss_index_mb"] = n * 32 / 2**20
        qbytes = np.ascontiguousarray(queries).view(np.uint8).reshape(len(queries), 32)
        walls, cpus = [], []
        agree = True
        for i in range(len(queries)):
            with Clock() as c:
                _lims, d, ids = flat.range_search(qbytes[i : i + 1], MAX_DISTANCE + 1)
            walls.append(c.wall)
            cpus.append(c.cpu)
            got = sorted(zip(d.tolist(), ids.tolist(), strict=True))
            agree &= got == sorted((dd, ii) for ii, dd in ours[i])
        out["faiss_flat_ms"] = stats_ms(walls)
        out["faiss_flat_cpu_ms"] = stats_ms(cpus)
        out["faiss_agrees_with_bastion"] = agree
        del flat
        gc.collect()
    return out


# ----------------------------------------------------------------------------- end to end


def bench_end_to_end(images: list[Image.Image], bank_size: int) -> dict[str, Any]:
    jpegs = []
    for im in images:
        size = (1024, 768) if im.width >= im.height else (768, 1024)
        jpegs.append(encode(im.resize(size, Image.Resampling.LANCZOS), quality=90))
    rng = np.random.default_rng(3)
    t0 = time.perf_counter()
    pdq_bank, md5_bank, sha_bank = Bank("pdq"), Bank("md5", "md5"), Bank("sha", "sha256")
    filler = words_to_hex(rng.integers(0, 2**64, size=(bank_size, 4), dtype=np.uint64))
    pdq_bank.add_all(Entry(h, str(i)) for i, h in enumerate(filler))
    md5_bank.add_all(Entry(rng.bytes(16).hex()) for _ in range(100_000))
    sha_bank.add_all(Entry(rng.bytes(32).hex()) for _ in range(100_000))
    # A tenth of the images are in the banks (by PDQ and by SHA-256), so matches happen.
    for data in jpegs[::10]:
        h = hash_content(data)
        pdq_bank.add(Entry(str(h.value("pdq")), "known"))
        sha_bank.add(Entry(str(h.value("sha256")), "known"))
    matcher = Matcher([pdq_bank, md5_bank, sha_bank])
    matcher.compact()
    setup_s = time.perf_counter() - t0

    out: dict[str, Any] = {
        "images": len(jpegs),
        "mean_jpeg_kb": float(np.mean([len(j) for j in jpegs]) / 1024),
        "bank": {"pdq": len(pdq_bank), "md5": len(md5_bank), "sha256": len(sha_bank)},
        "bank_setup_s": setup_s,
    }
    for data in jpegs[:10]:
        matcher.scan(data)
    for label, fast in (("fast", True), ("exact", False)):
        matched = 0
        with Clock() as c:
            for data in jpegs:
                matched += matcher.scan(data, fast=fast).matched
        out[f"{label}_images_per_s"] = len(jpegs) / c.wall
        out[f"{label}_images_per_cpu_s"] = len(jpegs) / c.cpu
        out[f"{label}_matched"] = matched

    # Where the time goes (fast path), stage by stage.
    stages: dict[str, float] = {"decode": 0.0, "pdq": 0.0, "md5+sha256": 0.0, "match": 0.0}
    import hashlib

    for data in jpegs:
        t = time.process_time()
        img = decode_image(data, min_side=FAST_MIN_SIDE)
        stages["decode"] += time.process_time() - t
        t = time.process_time()
        vec, _ = pdqhash.compute(img.rgb)
        value = pdq_bits_to_hex(vec)
        stages["pdq"] += time.process_time() - t
        t = time.process_time()
        hashlib.md5(data).hexdigest()
        hashlib.sha256(data).hexdigest()
        stages["md5+sha256"] += time.process_time() - t
        t = time.process_time()
        matcher.lookup("pdq", [value])
        stages["match"] += time.process_time() - t
    out["stage_cpu_ms"] = {k: v * 1e3 / len(jpegs) for k, v in stages.items()}
    return out


# ----------------------------------------------------------------------------- main


def pin(core: int | None) -> int:
    cpus = sorted(os.sched_getaffinity(0))
    chosen = cpus[-1] if core is None else core
    os.sched_setaffinity(0, {chosen})
    return chosen


def fmt_lookup(r: dict[str, Any]) -> str:
    b, bc = r["bastion_ms"], r["bastion_cpu_ms"]
    f, fc = r.get("faiss_flat_ms"), r.get("faiss_flat_cpu_ms")
    faiss = (
        f"{f['mean']:.2f} / {f['p99']:.2f} ({fc['mean']:.2f} / {fc['p99']:.2f})"
        if f and fc
        else "-"
    )
    return (
        f"| {r['dataset']} | {r['n']:,} | {b['mean']:.3f} / {b['p50']:.3f} / {b['p99']:.3f} "
        f"({bc['mean']:.3f} / {bc['p99']:.3f}) | "
        f"{r['bastion_batch_ms_per_query']:.3f} | {100 * r['recall']:.2f}% "
        f"(+{r['recall_checked']['extra_hits']}) | {r['candidates_per_query']:,.0f} | "
        f"{r['hits_per_query']:.1f} | {r['index_mb']:,.0f} MB | {r['build_s']:.1f} s | "
        f"{faiss} | {r.get('faiss_index_mb', 0):,.0f} MB | "
        f"{r.get('faiss_agrees_with_bastion', '-')} |"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sizes", default="1000000", help="bank sizes, comma-separated")
    ap.add_argument("--datasets", default="uniform,clustered")
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--recall-queries", type=int, default=200)
    ap.add_argument("--e2e-bank", type=int, default=1_000_000, help="PDQ bank size end to end")
    ap.add_argument("--e2e-images", type=int, default=524)
    ap.add_argument("--no-e2e", action="store_true")
    ap.add_argument("--no-faiss", action="store_true")
    ap.add_argument("--pool-per-image", type=int, default=40)
    ap.add_argument("--cache", type=Path, default=Path("/tmp"), help="where the pool is cached")
    ap.add_argument("--core", type=int, default=None, help="CPU to pin to (default: the last)")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    core = pin(args.core)
    report: dict[str, Any] = {"core": core, "numpy": np.__version__}
    images, source = load_images(args.e2e_images)
    report["images"] = source
    print(f"# Content scanning speed (one core: CPU {core}; images: {source})\n", flush=True)

    if not args.no_e2e:
        e2e = bench_end_to_end(images, args.e2e_bank)
        report["end_to_end"] = e2e
        print("## End to end (decode + PDQ + MD5 + SHA-256 + match), 1024x768 JPEG\n")
        print(
            f"- {e2e['images']} images, mean {e2e['mean_jpeg_kb']:.0f} KB; banks {e2e['bank']}\n"
            f"- fast (draft 512x384): **{e2e['fast_images_per_cpu_s']:.0f} images per CPU "
            f"second**, {e2e['fast_images_per_s']:.0f} images/s wall ({e2e['fast_matched']} "
            "matched)\n"
            f"- exact (full decode): {e2e['exact_images_per_cpu_s']:.0f} images per CPU second, "
            f"{e2e['exact_images_per_s']:.0f} images/s wall ({e2e['exact_matched']} matched)\n"
            f"- CPU per image, fast path: "
            + ", ".join(f"{k} {v:.2f} ms" for k, v in e2e["stage_cpu_ms"].items())
            + "\n",
            flush=True,
        )

    pool = photo_queries = None
    kinds = [k for k in args.datasets.split(",") if k]
    if "clustered" in kinds:
        t = time.perf_counter()
        cache = args.cache / f"bastion-pdq-pool-{len(images)}x{args.pool_per_image}.npy"
        if cache.is_file():
            pool = np.load(cache)
        else:
            pool = real_pool(images, args.pool_per_image, seed=1)
            np.save(cache, pool)
        pq = []
        for im in images:
            w, h = im.size
            cut = im.crop((w // 10, h // 10, w - w // 10, h - h // 10))
            for variant in (im, cut):
                vec, _ = pdqhash.compute(
                    np.ascontiguousarray(
                        np.asarray(Image.open(io.BytesIO(encode(variant, quality=50))))
                    )
                )
                pq.append(pdq_bits_to_hex(vec))
        photo_queries = np.frombuffer(bytes.fromhex("".join(pq)), ">u8").astype(np.uint64)
        photo_queries = photo_queries.reshape(-1, 4)
        report["pool"] = {"hashes": len(pool), "seconds": time.perf_counter() - t}
        print(
            f"real-photo pool: {len(pool)} PDQ hashes of crops "
            f"({report['pool']['seconds']:.0f} s)\n"
        )

    print("## PDQ lookups at distance <= 31, one query at a time\n")
    print(
        "| dataset | hashes | bastion wall mean / p50 / p99 ms (CPU mean / p99) | "
        "batched ms/query | recall (extra) | candidates/query | hits/query | bastion index | "
        "build | FAISS flat wall mean / p99 ms (CPU mean / p99) | FAISS index | FAISS = bastion |"
    )
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|---|---:|---|")
    lookups = []
    for size in (int(s) for s in args.sizes.split(",") if s):
        for kind in kinds:
            bank, queries = make_dataset(kind, size, args.queries, pool, photo_queries, seed=size)
            r = bench_lookups(kind, bank, queries, args.recall_queries, not args.no_faiss)
            r["peak_rss_mb_so_far"] = peak_rss_mb()
            lookups.append(r)
            print(fmt_lookup(r), flush=True)
            del bank, queries
            gc.collect()
    report["lookups"] = lookups
    print(f"\npeak RSS of the whole run: {peak_rss_mb():,.0f} MB")
    for r in lookups:
        print(
            f"- {r['dataset']} {r['n']:,}: RSS growth for the index {r['rss_growth_mb']:,.0f} MB, "
            f"brute force {r['brute_force_ms_per_query']:.1f} ms/query, "
            f"queries with hits {100 * r['queries_with_hits']:.0f}%"
        )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
